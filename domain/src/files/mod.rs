//! Files uploaded onto a contact: sanitized names ([`FileName`]), content-addressed
//! storage ([`FileStore`]), and the `file` activity each upload becomes.

mod activity;
mod content;
mod name;

pub use activity::{FileDownload, NewFile, human_size};
pub use content::{ContentHash, FileStore, IncomingFile, StoredContent};
pub use name::{FileName, MAX_FILE_NAME_BYTES};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file is larger than the {} MB allowed", .0 / (1024 * 1024))]
    TooLarge(u64),
    #[error("the file was already finished")]
    Finished,
    #[error("file storage failed: {0}")]
    Storage(#[from] std::io::Error),
}

/// The media type a file is served with: the one the browser sent when it is a plain
/// `type/subtype`, else a guess from the extension, else `application/octet-stream`.
pub fn content_type(sent: Option<&str>, name: &FileName) -> String {
    let sent = sent
        .map(|s| {
            s.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|s| is_media_type(s) && s != "application/octet-stream");
    sent.or_else(|| {
        name.extension()
            .and_then(|ext| mime_guess::from_ext(&ext).first())
            .map(|m| m.essence_str().to_owned())
    })
    .unwrap_or_else(|| "application/octet-stream".to_owned())
}

fn is_media_type(value: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    matches!(value.split_once('/'), Some((kind, sub)) if token(kind) && token(sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_come_from_the_browser_or_the_extension() {
        let pdf = FileName::parse("a.pdf");
        assert_eq!(
            content_type(Some("application/pdf"), &pdf),
            "application/pdf"
        );
        assert_eq!(content_type(None, &pdf), "application/pdf");
        assert_eq!(
            content_type(Some("application/octet-stream"), &pdf),
            "application/pdf"
        );
        assert_eq!(
            content_type(Some("Text/Plain; charset=utf-8"), &FileName::parse("x")),
            "text/plain"
        );
        assert_eq!(
            content_type(Some("text/html\r\nX-Evil: 1"), &FileName::parse("x.bin")),
            "application/octet-stream"
        );
        assert_eq!(
            content_type(None, &FileName::parse("README")),
            "application/octet-stream"
        );
    }
}
