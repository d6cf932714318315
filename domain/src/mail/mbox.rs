//! Streaming mbox reader (mboxo and mboxrd). A message starts at a `From ` line that
//! opens the file or follows a blank line; `>From ` lines inside a message lose one `>`.
//! Reads line by line, so a multi-gigabyte Takeout export never sits in memory whole.

use std::io::{self, BufRead};

/// One message of an mbox file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage {
    /// The envelope line after `From ` (sender and date), as written by the exporter.
    pub envelope: String,
    /// The message with CRLF line endings, as it was on the wire.
    pub raw: Vec<u8>,
}

/// Iterator over the messages of an mbox, in file order.
pub struct MboxReader<R> {
    input: R,
    /// The envelope of the message being read, once its `From ` line was seen.
    pending: Option<String>,
    line: Vec<u8>,
    finished: bool,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R) -> Self {
        Self {
            input,
            pending: None,
            line: Vec::new(),
            finished: false,
        }
    }

    /// Reads lines until the next message boundary or the end of input.
    fn read_message(&mut self) -> io::Result<Option<MboxMessage>> {
        let mut raw = Vec::new();
        // A blank line before a `From ` line belongs to the mbox format, not the message,
        // so it is only written out once the next line shows it was content.
        let mut held_blank = false;
        let mut at_start = self.pending.is_none();
        loop {
            self.line.clear();
            if self.input.read_until(b'\n', &mut self.line)? == 0 {
                self.finished = true;
                return Ok(self
                    .pending
                    .take()
                    .map(|envelope| MboxMessage { envelope, raw }));
            }
            let content = trim_eol(&self.line);
            let boundary = content.starts_with(b"From ") && (at_start || held_blank);
            if boundary {
                let envelope = String::from_utf8_lossy(&content[5..]).trim().to_owned();
                if let Some(previous) = self.pending.replace(envelope) {
                    return Ok(Some(MboxMessage {
                        envelope: previous,
                        raw,
                    }));
                }
                at_start = false;
                continue;
            }
            at_start = false;
            if self.pending.is_none() {
                // Text before the first `From ` line is not a message.
                held_blank = content.is_empty();
                continue;
            }
            if held_blank {
                raw.extend_from_slice(b"\r\n");
            }
            held_blank = content.is_empty();
            if held_blank {
                continue;
            }
            raw.extend_from_slice(unescape(content));
            raw.extend_from_slice(b"\r\n");
        }
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = io::Result<MboxMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.read_message() {
            Ok(Some(message)) => Some(Ok(message)),
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
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
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
