//! What was wrong with a message. mail-parser is deliberately lenient and repairs most
//! damage silently; these checks record the damage so that a surprising contact or a
//! garbled body can be traced back to the mail that caused it.

use std::fmt;

use mail_parser::{Message, MimeHeaders, PartType};

/// One problem found while parsing. Stored as text (its `Display`) with the activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseProblem {
    /// Nothing readable as a message at all.
    Unparseable,
    /// No `Date` header; the provider's receive time was used.
    MissingDate,
    /// A `Date` header that does not parse; the provider's receive time was used.
    UnreadableDate(String),
    /// A header line that is neither `Name: value` nor a folded continuation.
    MalformedHeaderLine(String),
    /// Lines end in a bare LF instead of CRLF.
    BareLineFeeds,
    /// Raw 8-bit bytes in the header block (RFC 5322 headers are ASCII).
    EightBitHeaders,
    /// A body part declares a charset that is not known; it was decoded leniently.
    UnknownCharset(String),
    /// A part whose transfer encoding or charset did not decode cleanly.
    BadEncoding { content_type: String },
    /// A multipart without its closing boundary (the message was cut off).
    TruncatedMultipart { boundary: String },
    /// An address that is not a valid mailbox; it was left out of the participants.
    InvalidAddress { field: &'static str, value: String },
    /// HTML that could not be converted to text.
    HtmlConversion(String),
}

impl fmt::Display for ParseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unparseable => f.write_str("not a readable message"),
            Self::MissingDate => f.write_str("missing Date header"),
            Self::UnreadableDate(v) => write!(f, "unreadable Date header: {v}"),
            Self::MalformedHeaderLine(l) => write!(f, "malformed header line: {l}"),
            Self::BareLineFeeds => f.write_str("bare LF line endings"),
            Self::EightBitHeaders => f.write_str("8-bit bytes in headers"),
            Self::UnknownCharset(c) => write!(f, "unknown charset: {c}"),
            Self::BadEncoding { content_type } => {
                write!(f, "badly encoded part: {content_type}")
            }
            Self::TruncatedMultipart { boundary } => {
                write!(f, "multipart without closing boundary: {boundary}")
            }
            Self::InvalidAddress { field, value } => {
                write!(f, "invalid address in {field}: {value}")
            }
            Self::HtmlConversion(e) => write!(f, "html not convertible to text: {e}"),
        }
    }
}

/// Longest excerpt of offending input kept in a problem.
const EXCERPT: usize = 80;

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.trim().chars().take(EXCERPT).collect()
}

/// Checks the top-level header block line by line.
pub(super) fn scan_header_block(raw: &[u8]) -> Vec<ParseProblem> {
    let mut problems = Vec::new();
    let mut bare_lf = false;
    let mut eight_bit = false;
    let mut malformed = None;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        if line.ends_with(b"\n") && !content.ends_with(b"\r") {
            bare_lf = true;
        }
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            break;
        }
        eight_bit |= !content.is_ascii();
        let folded = matches!(content.first(), Some(b' ' | b'\t'));
        if !folded && malformed.is_none() && !is_field_line(content) {
            malformed = Some(excerpt(content));
        }
    }
    if let Some(line) = malformed {
        problems.push(ParseProblem::MalformedHeaderLine(line));
    }
    if bare_lf {
        problems.push(ParseProblem::BareLineFeeds);
    }
    if eight_bit {
        problems.push(ParseProblem::EightBitHeaders);
    }
    problems
}

/// `Name:` where the name is printable ASCII without spaces or colons (RFC 5322 ftext).
/// An mbox `From ` envelope line is tolerated at the very top by the mbox reader, which
/// removes it before parsing.
fn is_field_line(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(0) | None => false,
        Some(colon) => line[..colon].iter().all(|&b| (33..=126).contains(&b)),
    }
}

/// Checks every MIME part: decoding trouble, unknown charsets, missing closing boundaries.
pub(super) fn scan_parts(message: &Message<'_>) -> Vec<ParseProblem> {
    let mut problems = Vec::new();
    for part in &message.parts {
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| "text/plain".to_owned())
            .to_lowercase();
        if part.is_encoding_problem {
            problems.push(ParseProblem::BadEncoding {
                content_type: content_type.clone(),
            });
        }
        let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
        if let (Some(charset), PartType::Text(_) | PartType::Html(_)) = (charset, &part.body)
            && mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes()).is_none()
            && !is_utf8_label(charset)
        {
            problems.push(ParseProblem::UnknownCharset(charset.to_owned()));
        }
        if let (PartType::Multipart(_), Some(boundary)) = (
            &part.body,
            part.content_type().and_then(|ct| ct.attribute("boundary")),
        ) {
            let body = message
                .raw_message
                .get(part.offset_body as usize..)
                .unwrap_or_default();
            if !contains(body, format!("--{boundary}--").as_bytes()) {
                problems.push(ParseProblem::TruncatedMultipart {
                    boundary: boundary.to_owned(),
                });
            }
        }
    }
    problems
}

/// UTF-8 and US-ASCII are decoded natively by mail-parser and absent from its table.
fn is_utf8_label(charset: &str) -> bool {
    matches!(
        charset.to_ascii_lowercase().as_str(),
        "utf-8" | "utf8" | "us-ascii" | "ascii"
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
