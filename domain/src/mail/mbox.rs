//! Streaming mbox reader (mboxo and mboxrd). A message starts at a `From ` line that
//! opens the file or follows a blank line; `>From ` lines inside a message lose one `>`.
//! Reads line by line, so a multi-gigabyte Takeout export never sits in memory whole:
//! a line is read up to [`MboxLimits::max_line_bytes`] and a message up to
//! [`MboxLimits::max_message_bytes`]; past either, the rest of the message is read
//! through without being kept and the reader yields [`MboxItem::Skipped`] for it.

use std::io::{self, BufRead};

use serde::{Deserialize, Serialize};

/// One message of an mbox file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage {
    /// The envelope line after `From ` (sender and date), as written by the exporter.
    pub envelope: String,
    /// The message with CRLF line endings, as it was on the wire.
    pub raw: Vec<u8>,
}

/// How much of one message the reader keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MboxLimits {
    /// A longer message is skipped.
    pub max_message_bytes: u64,
    /// A message with a longer line is skipped.
    pub max_line_bytes: u64,
}

impl Default for MboxLimits {
    /// 50 MiB per message, 1 MiB per line.
    fn default() -> Self {
        Self {
            max_message_bytes: 50 << 20,
            max_line_bytes: 1 << 20,
        }
    }
}

/// Why a message was skipped; its [`OversizeReason::rule`] is what the ledger records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OversizeReason {
    MessageTooLarge,
    LineTooLong,
}

impl OversizeReason {
    pub fn rule(self) -> &'static str {
        match self {
            Self::MessageTooLarge => "message-too-large",
            Self::LineTooLong => "line-too-long",
        }
    }
}

/// The bytes of a skipped message kept to name it (its headers, usually).
pub const SKIPPED_HEAD_BYTES: usize = 64 * 1024;

/// What the reader yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MboxItem {
    Message(MboxMessage),
    /// A message past a limit: its envelope, its first [`SKIPPED_HEAD_BYTES`] (with
    /// CRLF line endings) and why.
    Skipped {
        envelope: String,
        head: Vec<u8>,
        reason: OversizeReason,
    },
}

/// Iterator over the messages of an mbox, in file order.
pub struct MboxReader<R> {
    input: R,
    limits: MboxLimits,
    /// The envelope of the message being read, once its `From ` line was seen.
    pending: Option<String>,
    line: Vec<u8>,
    finished: bool,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R) -> Self {
        Self::with_limits(input, MboxLimits::default())
    }

    pub fn with_limits(input: R, limits: MboxLimits) -> Self {
        Self {
            input,
            limits,
            pending: None,
            line: Vec::new(),
            finished: false,
        }
    }

    /// Reads one line into `self.line`, keeping at most the line limit (plus its line
    /// ending); the rest of a longer line is read and dropped. Returns the bytes read
    /// (0 at the end) and whether the line was cut.
    fn read_line(&mut self) -> io::Result<(usize, bool)> {
        self.line.clear();
        let keep = usize::try_from(self.limits.max_line_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(2);
        let mut read = 0;
        let mut cut = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok((read, cut));
            }
            let (used, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            let room = keep.saturating_sub(self.line.len());
            if used > room {
                cut = true;
            }
            self.line.extend_from_slice(&available[..used.min(room)]);
            self.input.consume(used);
            read += used;
            if done {
                return Ok((read, cut));
            }
        }
    }

    /// Reads lines until the next message boundary or the end of input.
    fn read_message(&mut self) -> io::Result<Option<MboxItem>> {
        let mut raw = Vec::new();
        let mut skipped: Option<OversizeReason> = None;
        // A blank line before a `From ` line belongs to the mbox format, not the message,
        // so it is only written out once the next line shows it was content.
        let mut held_blank = false;
        let mut at_start = self.pending.is_none();
        loop {
            let (read, cut) = self.read_line()?;
            if read == 0 {
                self.finished = true;
                return Ok(self
                    .pending
                    .take()
                    .map(|envelope| self.item(envelope, raw, skipped)));
            }
            let line = std::mem::take(&mut self.line);
            let content = trim_eol(&line);
            let cut = cut || content.len() as u64 > self.limits.max_line_bytes;
            let boundary = !cut && content.starts_with(b"From ") && (at_start || held_blank);
            if boundary {
                let envelope = String::from_utf8_lossy(&content[5..]).trim().to_owned();
                self.line = line;
                if let Some(previous) = self.pending.replace(envelope) {
                    return Ok(Some(self.item(previous, raw, skipped)));
                }
                at_start = false;
                continue;
            }
            at_start = false;
            if self.pending.is_none() {
                // Text before the first `From ` line is not a message.
                held_blank = content.is_empty();
                self.line = line;
                continue;
            }
            if skipped.is_none() && cut {
                skipped = Some(OversizeReason::LineTooLong);
            }
            if skipped.is_none() {
                let blank = if held_blank { 2 } else { 0 };
                let grown = raw.len() + blank + unescape(content).len() + 2;
                if grown as u64 > self.limits.max_message_bytes {
                    skipped = Some(OversizeReason::MessageTooLarge);
                }
            }
            if skipped.is_some() && raw.len() > SKIPPED_HEAD_BYTES {
                // Only the head names a skipped message; the rest is read and dropped.
                raw.truncate(SKIPPED_HEAD_BYTES);
                raw.shrink_to_fit();
            }
            let keep = !cut && (skipped.is_none() || raw.len() < SKIPPED_HEAD_BYTES);
            if held_blank && keep {
                raw.extend_from_slice(b"\r\n");
            }
            held_blank = content.is_empty();
            if !held_blank && keep {
                raw.extend_from_slice(unescape(content));
                raw.extend_from_slice(b"\r\n");
            }
            self.line = line;
        }
    }

    fn item(
        &self,
        envelope: String,
        mut raw: Vec<u8>,
        skipped: Option<OversizeReason>,
    ) -> MboxItem {
        match skipped {
            None => MboxItem::Message(MboxMessage { envelope, raw }),
            Some(reason) => {
                raw.truncate(SKIPPED_HEAD_BYTES);
                MboxItem::Skipped {
                    envelope,
                    head: raw,
                    reason,
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = io::Result<MboxItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.read_message() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => None,
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// mboxrd: `>From `, `>>From `, ... lose one `>` (mboxo writers escape `From ` the same
/// way, so this reads both).
fn unescape(line: &[u8]) -> &[u8] {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    if quotes > 0 && line[quotes..].starts_with(b"From ") {
        &line[1..]
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Vec<MboxMessage> {
        MboxReader::new(input.as_bytes())
            .map(|item| match item.unwrap() {
                MboxItem::Message(m) => m,
                skipped => panic!("nothing is skipped here: {skipped:?}"),
            })
            .collect()
    }

    fn read_limited(input: &[u8], limits: MboxLimits) -> Vec<MboxItem> {
        // A small buffer, so long lines span many reads.
        MboxReader::with_limits(io::BufReader::with_capacity(64, input), limits)
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    fn subject(item: &MboxItem) -> String {
        let raw = match item {
            MboxItem::Message(m) => &m.raw,
            MboxItem::Skipped { head, .. } => head,
        };
        let text = String::from_utf8_lossy(raw);
        text.lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned()
    }

    const LIMITS: MboxLimits = MboxLimits {
        max_message_bytes: 200,
        max_line_bytes: 50,
    };

    #[test]
    fn an_oversize_message_is_skipped_and_the_next_one_read() {
        let mut mbox =
            b"From a@x.com Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody 1\n\n".to_vec();
        mbox.extend_from_slice(b"From b@x.com Mon Jan  1 00:00:00 2024\nSubject: big\n\n");
        mbox.extend("short line\n".repeat(100).bytes());
        mbox.extend_from_slice(
            b"\nFrom c@x.com Mon Jan  1 00:00:00 2024\nSubject: three\n\nbody 3\n",
        );
        let items = read_limited(&mbox, LIMITS);
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(
            matches!(&items[0], MboxItem::Message(m) if m.raw == b"Subject: one\r\n\r\nbody 1\r\n")
        );
        match &items[1] {
            MboxItem::Skipped {
                envelope,
                head,
                reason,
            } => {
                assert_eq!(*reason, OversizeReason::MessageTooLarge);
                assert_eq!(envelope, "b@x.com Mon Jan  1 00:00:00 2024");
                assert!(head.starts_with(b"Subject: big\r\n"), "the head names it");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&items[2], MboxItem::Message(m) if m.raw == b"Subject: three\r\n\r\nbody 3\r\n")
        );
        assert_eq!(OversizeReason::MessageTooLarge.rule(), "message-too-large");
    }

    #[test]
    fn a_message_with_an_overlong_line_is_skipped_without_keeping_the_line() {
        let mut mbox = b"From a@x.com Mon Jan  1 00:00:00 2024\nSubject: wide\n\n".to_vec();
        // A long line with no From-looking start, then one that looks like a boundary
        // only in its cut-off tail: neither splits the message.
        mbox.extend(std::iter::repeat_n(b'x', 10_000));
        mbox.extend_from_slice(b"\n\nFrom d@x.com Mon Jan  1 00:00:00 2024\nSubject: next\n\nok\n");
        let items = read_limited(&mbox, LIMITS);
        assert_eq!(items.len(), 2, "{items:?}");
        match &items[0] {
            MboxItem::Skipped { head, reason, .. } => {
                assert_eq!(*reason, OversizeReason::LineTooLong);
                assert_eq!(subject(&items[0]), "wide");
                assert!(
                    head.len() < 200,
                    "the long line was not kept ({})",
                    head.len()
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(subject(&items[1]), "next");
        assert_eq!(OversizeReason::LineTooLong.rule(), "line-too-long");
        // Exactly at the limits is fine.
        let fits = format!(
            "From a@x.com Mon Jan  1 00:00:00 2024\nSubject: fits\n\n{}\n",
            "y".repeat(50)
        );
        assert!(matches!(
            read_limited(fits.as_bytes(), LIMITS)[..],
            [MboxItem::Message(_)]
        ));
    }

    #[test]
    fn splits_on_from_lines_after_blank_lines() {
        let mbox = "From a@x.com Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody 1\nFrom here on, text\n\nFrom b@y.com Tue Jan  2 00:00:00 2024\nSubject: two\n\nbody 2\n";
        let messages = read(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].envelope, "a@x.com Mon Jan  1 00:00:00 2024");
        assert_eq!(
            messages[0].raw,
            b"Subject: one\r\n\r\nbody 1\r\nFrom here on, text\r\n"
        );
        assert_eq!(messages[1].raw, b"Subject: two\r\n\r\nbody 2\r\n");
    }

    #[test]
    fn unescapes_mboxrd_quoted_from_lines() {
        let mbox = "From a@x.com Mon Jan  1 00:00:00 2024\nSubject: q\n\n>From the start\n>>From deeper\n> From not escaped\n";
        let messages = read(mbox);
        assert_eq!(
            messages[0].raw,
            b"Subject: q\r\n\r\nFrom the start\r\n>From deeper\r\n> From not escaped\r\n"
        );
    }

    #[test]
    fn keeps_blank_lines_inside_messages_and_crlf_input() {
        let mbox =
            "From a@x.com Mon Jan  1 00:00:00 2024\r\nSubject: b\r\n\r\np1\r\n\r\n\r\np2\r\n\r\n";
        let messages = read(mbox);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].raw, b"Subject: b\r\n\r\np1\r\n\r\n\r\np2\r\n");
    }

    #[test]
    fn empty_and_preamble_only_inputs_yield_nothing() {
        assert!(read("").is_empty());
        assert!(read("not an mbox\nat all\n").is_empty());
    }
}
