//! Loads real mail exports (mbox, Maildir) so the fake can serve someone's
//! own mailbox in demos. These sources are small enough to keep in memory.
//!
//! Labels come from Google Takeout's `X-Gmail-Labels` header when present,
//! otherwise from Maildir flags and folder names; line endings are
//! normalised to CRLF because Gmail serves `raw` with CRLF.

use std::io;
use std::path::Path;

/// One message read from disk, before ids and threads are assigned.
pub(crate) struct Imported {
    pub raw: Vec<u8>,
    /// Gmail label ids (system) or names (user labels).
    pub labels: Vec<String>,
}

fn to_crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 40);
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' && (i == 0 || text[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Maps a Takeout label or folder name to Gmail's id; `None` for names
/// that only describe state Gmail keeps elsewhere ("Opened", "Archived").
fn gmail_label(name: &str) -> Option<String> {
    let system = match name.trim().to_ascii_lowercase().as_str() {
        "inbox" => "INBOX",
        "sent" | "sent mail" | "sent items" => "SENT",
        "spam" | "junk" => "SPAM",
        "trash" | "deleted items" => "TRASH",
        "unread" => "UNREAD",
        "starred" => "STARRED",
        "important" => "IMPORTANT",
        "drafts" | "draft" => "DRAFT",
        "chat" => "CHAT",
        "category personal" => "CATEGORY_PERSONAL",
        "category social" => "CATEGORY_SOCIAL",
        "category promotions" => "CATEGORY_PROMOTIONS",
        "category updates" => "CATEGORY_UPDATES",
        "category forums" => "CATEGORY_FORUMS",
        "opened" | "archived" | "" => return None,
        _ => return Some(name.trim().to_string()),
    };
    Some(system.to_string())
}

fn takeout_labels(raw: &[u8]) -> Option<Vec<String>> {
    let headers = super::mime_tree::parse_headers(raw);
    let value = super::mime_tree::header(&headers, "X-Gmail-Labels")?;
    Some(value.split(',').filter_map(gmail_label).collect())
}

/// Reads an mbox file (mboxo or mboxrd: `>From ` quoting is undone).
pub(crate) fn read_mbox(path: &Path) -> io::Result<Vec<Imported>> {
    let data = std::fs::read(path)?;
    let mut messages = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    let mut previous_blank = true;
    for line in data.split_inclusive(|&b| b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
        if bare.starts_with(b"From ") && previous_blank {
            if let Some(done) = current.take() {
                messages.push(done);
            }
            current = Some(Vec::new());
            previous_blank = false;
            continue;
        }
        previous_blank = bare.is_empty();
        if let Some(buf) = current.as_mut() {
            let quoted = bare.iter().take_while(|&&b| b == b'>').count();
            if quoted > 0 && bare[quoted..].starts_with(b"From ") {
                buf.extend_from_slice(&line[1..]);
            } else {
                buf.extend_from_slice(line);
            }
        }
    }
    messages.extend(current);
    Ok(messages
        .into_iter()
        .map(|mut body| {
            // The blank line separating messages belongs to the mbox framing.
            if body.ends_with(b"\n\n") {
                body.pop();
            } else if body.ends_with(b"\r\n\r\n") {
                body.truncate(body.len() - 2);
            }
            let raw = to_crlf(&body);
            let labels = takeout_labels(&raw).unwrap_or_else(|| vec!["INBOX".to_string()]);
            Imported { raw, labels }
        })
        .collect())
}

/// Reads a Maildir: `cur/` and `new/` of the root are the inbox, Maildir++
/// sub-folders (`.Sent`, `.Work.Clients`) become labels, `new/` and files
/// without the `S` flag are unread, `F` stars and `T` trashes.
pub(crate) fn read_maildir(path: &Path) -> io::Result<Vec<Imported>> {
    let mut folders = vec![(path.to_path_buf(), Some("INBOX".to_string()))];
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(folder) = name.strip_prefix('.')
            && !folder.is_empty()
            && entry.file_type()?.is_dir()
        {
            folders.push((entry.path(), gmail_label(&folder.replace('.', "/"))));
        }
    }
    let mut messages = Vec::new();
    for (dir, folder_label) in folders {
        for sub in ["cur", "new"] {
            let sub_dir = dir.join(sub);
            if !sub_dir.is_dir() {
                continue;
            }
            let mut files: Vec<_> = std::fs::read_dir(&sub_dir)?
                .collect::<io::Result<Vec<_>>>()?
                .into_iter()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .collect();
            files.sort_by_key(|e| e.file_name());
            for file in files {
                let raw = to_crlf(&std::fs::read(file.path())?);
                let name = file.file_name().to_string_lossy().into_owned();
                let flags = name.rsplit_once(":2,").map_or("", |(_, f)| f).to_string();
                let labels = takeout_labels(&raw).unwrap_or_else(|| {
                    let mut labels: Vec<String> = folder_label.iter().cloned().collect();
                    if sub == "new" || !flags.contains('S') {
                        labels.push("UNREAD".to_string());
                    }
                    if flags.contains('F') {
                        labels.push("STARRED".to_string());
                    }
                    if flags.contains('T') {
                        labels.retain(|l| l != "INBOX");
                        labels.push("TRASH".to_string());
                    }
                    labels
                });
                messages.push(Imported { raw, labels });
            }
        }
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_splits_unquotes_and_reads_takeout_labels() {
        let dir = std::env::temp_dir().join(format!("fake-google-mbox-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("all.mbox");
        std::fs::write(
            &path,
            "From 1@xxx Mon Jan 01 00:00:00 2024\nX-Gmail-Labels: Inbox,Unread,Clients\nSubject: a\n\n>From here\nbody\n\nFrom 2@xxx Mon Jan 01 00:00:00 2024\nSubject: b\n\nsecond\n",
        )
        .unwrap();
        let messages = read_mbox(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0].raw,
            b"X-Gmail-Labels: Inbox,Unread,Clients\r\nSubject: a\r\n\r\nFrom here\r\nbody\r\n"
        );
        assert_eq!(messages[0].labels, ["INBOX", "UNREAD", "Clients"]);
        assert_eq!(messages[1].labels, ["INBOX"]);
        assert_eq!(messages[1].raw, b"Subject: b\r\n\r\nsecond\r\n");
    }
}
