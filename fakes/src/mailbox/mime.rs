//! A minimal MIME tree writer. Parts are rendered straight to CRLF text; the
//! root part's headers are merged into the message header block by the caller.

use super::encode::{base64_lines, crlf, header, quoted_printable, rfc2231};

/// Content-Transfer-Encoding choices seen in real mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cte {
    SevenBit,
    EightBit,
    QuotedPrintable,
    Base64,
}

pub(crate) struct Part {
    /// Header lines (CRLF-terminated) describing this part.
    pub(crate) headers: String,
    /// Encoded body, without a trailing CRLF.
    pub(crate) body: String,
}

impl Part {
    pub(crate) fn write(&self, out: &mut String) {
        out.push_str(&self.headers);
        out.push_str("\r\n");
        out.push_str(&self.body);
    }
}

/// A `text/*` part. 7bit is only legal for ASCII, so non-ASCII falls back to
/// quoted-printable rather than producing an invalid message by accident.
pub(crate) fn text(subtype: &str, content: &str, cte: Cte) -> Part {
    let cte = if cte == Cte::SevenBit && !content.is_ascii() {
        Cte::QuotedPrintable
    } else {
        cte
    };
    let mut headers = header(
        "Content-Type",
        &format!("text/{subtype}; charset=\"UTF-8\""),
    );
    let (name, body) = match cte {
        Cte::SevenBit => ("7bit", crlf(content)),
        Cte::EightBit => ("8bit", crlf(content)),
        Cte::QuotedPrintable => ("quoted-printable", quoted_printable(content)),
        Cte::Base64 => ("base64", base64_lines(content.as_bytes())),
    };
    headers.push_str(&header("Content-Transfer-Encoding", name));
    Part { headers, body }
}

/// A `text/calendar` part as Gmail and Outlook send it alongside the invite text.
pub(crate) fn calendar(ics: &str) -> Part {
    let mut headers = header(
        "Content-Type",
        "text/calendar; charset=\"UTF-8\"; method=REQUEST",
    );
    headers.push_str(&header("Content-Transfer-Encoding", "7bit"));
    Part {
        headers,
        body: crlf(ics),
    }
}

/// A base64 attachment. Non-ASCII filenames use RFC 2231 in
/// Content-Disposition and an RFC 2047 `name` fallback, as Gmail does.
pub(crate) fn attachment(mime_type: &str, filename: &str, bytes: &[u8]) -> Part {
    let (name_param, file_param) = if filename.is_ascii() {
        (
            format!("name=\"{filename}\""),
            format!("filename=\"{filename}\""),
        )
    } else {
        let words = super::encode::encoded_words(filename, super::people::WordEncoding::Base64);
        (
            format!("name=\"{words}\""),
            format!("filename*={}", rfc2231(filename)),
        )
    };
    let mut headers = header("Content-Type", &format!("{mime_type}; {name_param}"));
    headers.push_str(&header(
        "Content-Disposition",
        &format!("attachment; {file_param}"),
    ));
    headers.push_str(&header("Content-Transfer-Encoding", "base64"));
    Part {
        headers,
        body: base64_lines(bytes),
    }
}

pub(crate) fn multipart(subtype: &str, boundary: &str, parts: &[Part]) -> Part {
    let headers = header(
        "Content-Type",
        &format!("multipart/{subtype}; boundary=\"{boundary}\""),
    );
    let mut body = String::new();
    for part in parts {
        body.push_str("--");
        body.push_str(boundary);
        body.push_str("\r\n");
        part.write(&mut body);
        body.push_str("\r\n");
    }
    body.push_str("--");
    body.push_str(boundary);
    body.push_str("--");
    Part { headers, body }
}
