//! The mailbox as Google Takeout exports it: one mbox file, each message preceded by a
//! `From ` separator and Gmail's `X-GM-THRID` / `X-Gmail-Labels` headers, with body
//! lines that start with `From ` escaped mboxrd-style (`>From `).

use std::io::{self, Write};

use super::GeneratedMessage;

/// Gmail system label ids as Takeout names them.
fn takeout_label(id: &str) -> &str {
    match id {
        "INBOX" => "Inbox",
        "SENT" => "Sent",
        "SPAM" => "Spam",
        "TRASH" => "Trash",
        "DRAFT" => "Drafts",
        "IMPORTANT" => "Important",
        "STARRED" => "Starred",
        "UNREAD" => "Unread",
        "CATEGORY_PROMOTIONS" => "Category Promotions",
        "CATEGORY_UPDATES" => "Category Updates",
        "CATEGORY_SOCIAL" => "Category Social",
        "CATEGORY_FORUMS" => "Category Forums",
        "CATEGORY_PERSONAL" => "Category Personal",
        other => other,
    }
}

/// Appends `message` to an mbox stream; returns the bytes written.
pub fn write_takeout_message(out: &mut impl Write, message: &GeneratedMessage) -> io::Result<u64> {
    let mut written = 0_u64;
    let mut put = |out: &mut dyn Write, bytes: &[u8]| -> io::Result<()> {
        written += bytes.len() as u64;
        out.write_all(bytes)
    };
    let date = message.internal_date.format("%a %b %d %H:%M:%S %z %Y");
    put(out, format!("From {}@xxx {date}\n", message.id).as_bytes())?;
    let thread = u64::from_str_radix(&message.thread_id, 16).unwrap_or_default();
    put(out, format!("X-GM-THRID: {thread}\r\n").as_bytes())?;
    let labels: Vec<&str> = message.label_ids.iter().map(|l| takeout_label(l)).collect();
    put(
        out,
        format!("X-Gmail-Labels: {}\r\n", labels.join(",")).as_bytes(),
    )?;
    for line in message.raw.split_inclusive(|b| *b == b'\n') {
        let quoted = line.iter().position(|b| *b != b'>').unwrap_or(line.len());
        if line[quoted..].starts_with(b"From ") {
            put(out, b">")?;
        }
        put(out, line)?;
    }
    if !message.raw.ends_with(b"\n") {
        put(out, b"\n")?;
    }
    put(out, b"\n")?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::{Mailbox, MailboxSpec};

    #[test]
    fn messages_are_separated_and_from_lines_escaped() {
        let mailbox = Mailbox::generate(&MailboxSpec::demo(20));
        let mut message = mailbox.message(3);
        message.raw = b"Subject: hi\r\n\r\nFrom here on\r\n>From quoted\r\nend".to_vec();
        let mut out = Vec::new();
        let n = write_takeout_message(&mut out, &message).unwrap();
        assert_eq!(n as usize, out.len());
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(&format!("From {}@xxx ", message.id)),
            "{text}"
        );
        assert!(text.contains("X-Gmail-Labels: "));
        assert!(
            text.contains("\r\n>From here on\r\n>>From quoted\r\nend\n\n"),
            "{text}"
        );
        assert_eq!(text.lines().filter(|l| l.starts_with("From ")).count(), 1);
    }
}
