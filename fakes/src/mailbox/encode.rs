//! Wire encodings: RFC 2047 encoded words, quoted-printable, wrapped base64,
//! RFC 2231 parameters, header folding and RFC 5322 dates. Hand-written so
//! that the output is exactly the byte shape real clients produce, including
//! the awkward-but-valid cases parsers must handle.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, FixedOffset};

use super::people::WordEncoding;

/// Longest encoded word RFC 2047 allows.
const MAX_WORD: usize = 75;
/// Payload room in one `=?UTF-8?X?...?=` word.
const WORD_ROOM: usize = MAX_WORD - "=?UTF-8?B??=".len();

/// Encodes text as one or more RFC 2047 encoded words separated by spaces,
/// splitting only at character boundaries so each word decodes on its own.
pub(crate) fn encoded_words(text: &str, encoding: WordEncoding) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    let mut chunk_len = 0;
    for c in text.chars() {
        let cost = match encoding {
            WordEncoding::Base64 => {
                let bytes = chunk.len() + c.len_utf8();
                bytes.div_ceil(3) * 4 - chunk_len
            }
            WordEncoding::QuotedPrintable => q_char(c).len(),
        };
        if chunk_len + cost > WORD_ROOM {
            words.push(word(&chunk, encoding));
            chunk.clear();
            chunk_len = 0;
        }
        chunk.push(c);
        chunk_len = match encoding {
            WordEncoding::Base64 => chunk.len().div_ceil(3) * 4,
            WordEncoding::QuotedPrintable => chunk_len + q_char(c).len(),
        };
    }
    if !chunk.is_empty() {
        words.push(word(&chunk, encoding));
    }
    words.join(" ")
}

fn word(chunk: &str, encoding: WordEncoding) -> String {
    match encoding {
        WordEncoding::Base64 => format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk)),
        WordEncoding::QuotedPrintable => {
            let payload: String = chunk.chars().map(q_char).collect();
            format!("=?UTF-8?Q?{payload}?=")
        }
    }
}

/// Q encoding restricted to the characters RFC 2047 allows inside a phrase.
fn q_char(c: char) -> String {
    match c {
        ' ' => "_".to_string(),
        c if c.is_ascii_alphanumeric() || "!*+-/".contains(c) => c.to_string(),
        c => {
            let mut buf = [0u8; 4];
            c.encode_utf8(&mut buf)
                .bytes()
                .map(|b| format!("={b:02X}"))
                .collect()
        }
    }
}

/// Header text (Subject) that is ASCII-only stays readable; anything else is
/// encoded as a whole, as most clients do.
pub(crate) fn unstructured(text: &str, encoding: WordEncoding) -> String {
    if text.is_ascii() {
        text.to_string()
    } else {
        encoded_words(text, encoding)
    }
}

/// `Display Name <addr>` with the quoting or encoding the name requires.
pub(crate) fn mailbox(display: Option<&str>, encoding: WordEncoding, addr: &str) -> String {
    match display {
        None => addr.to_string(),
        Some(name) if !name.is_ascii() => format!("{} <{addr}>", encoded_words(name, encoding)),
        Some(name) if name.chars().any(|c| "()<>[]:;@\\,.\"".contains(c)) => {
            let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{escaped}\" <{addr}>")
        }
        Some(name) => format!("{name} <{addr}>"),
    }
}

/// `Name: value` folded at whitespace to stay within 78 columns, CRLF-terminated.
pub(crate) fn header(name: &str, value: &str) -> String {
    let mut out = String::with_capacity(name.len() + value.len() + 8);
    out.push_str(name);
    out.push(':');
    let mut column = out.len();
    for (i, token) in value.split(' ').enumerate() {
        if i > 0 && column + 1 + token.len() > 78 {
            out.push_str("\r\n");
            column = 0;
        }
        out.push(' ');
        out.push_str(token);
        column += 1 + token.len();
    }
    out.push_str("\r\n");
    out
}

/// RFC 5322 date in the sender's local offset, as clients write it.
pub(crate) fn date(at: DateTime<FixedOffset>) -> String {
    at.format("%a, %-d %b %Y %H:%M:%S %z").to_string()
}

/// Quoted-printable body with soft line breaks at 76 columns and CRLF hard breaks.
pub(crate) fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 11 / 10);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let bytes = line.as_bytes();
        let mut column = 0;
        for (j, &b) in bytes.iter().enumerate() {
            let last = j + 1 == bytes.len();
            let literal =
                (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
            let piece = if literal {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if column + piece.len() > 75 {
                out.push_str("=\r\n");
                column = 0;
            }
            out.push_str(&piece);
            column += piece.len();
        }
    }
    out
}

/// Base64 wrapped at 76 columns with CRLF.
pub(crate) fn base64_lines(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38);
    for (i, chunk) in encoded.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
    }
    out
}

/// RFC 2231 extended parameter value: `UTF-8''percent-encoded`.
pub(crate) fn rfc2231(value: &str) -> String {
    let mut out = String::from("UTF-8''");
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Converts LF-separated text to CRLF, the only line ending on the wire.
pub(crate) fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

pub(crate) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_never_exceed_75_chars() {
        let long = "Zoë Ødegaard-Jóhannsdóttir Brandão Dvořák Müller Søndergaard Núñez";
        for enc in [WordEncoding::Base64, WordEncoding::QuotedPrintable] {
            for w in encoded_words(long, enc).split(' ') {
                assert!(w.len() <= MAX_WORD, "{w}");
            }
        }
    }

    #[test]
    fn qp_lines_stay_short_and_escape_equals() {
        let text = format!("{}\nprice = 5 € ", "é".repeat(60));
        let qp = quoted_printable(&text);
        assert!(qp.split("\r\n").all(|l| l.len() <= 76));
        assert!(qp.contains("=3D") && qp.ends_with("=20"));
    }

    #[test]
    fn folded_headers_stay_within_78_columns() {
        let value = ["someone.long@example-domain.co.uk,"; 8].join(" ");
        let h = header("To", &value);
        assert!(h.split("\r\n").all(|l| l.len() <= 78));
        assert_eq!(h.replace("\r\n ", " "), format!("To: {value}\r\n"));
    }
}
