//! A deliberately tiny, independent RFC 822/MIME reader so the tests check
//! the generator's bytes rather than trusting its own encoders.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Header block (unfolded) and body of a message or MIME part.
pub struct Parsed {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn parse(raw: &[u8]) -> Parsed {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.to_string(), value.trim().to_string()));
        }
    }
    Parsed {
        headers,
        body: body.to_string(),
    }
}

impl Parsed {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Decoded text of every text/* leaf part, concatenated.
    pub fn texts(&self) -> String {
        let content_type = self
            .header("Content-Type")
            .unwrap_or("text/plain")
            .to_string();
        if content_type.starts_with("multipart/") {
            let boundary = param(&content_type, "boundary").expect("boundary");
            let delimiter = format!("--{boundary}");
            let mut out = String::new();
            for chunk in self.body.split(&delimiter).skip(1) {
                if chunk.starts_with("--") {
                    break;
                }
                let part = parse(chunk.trim_start_matches('\n').as_bytes());
                out.push_str(&part.texts());
                out.push('\n');
            }
            return out;
        }
        if !content_type.starts_with("text/") {
            return String::new();
        }
        let cte = self
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        let text = match cte.as_str() {
            "base64" => {
                let compact: String = self.body.split_whitespace().collect();
                String::from_utf8(STANDARD.decode(compact).expect("valid base64")).expect("utf-8")
            }
            "quoted-printable" => decode_qp(&self.body),
            _ => self.body.clone(),
        };
        if content_type.starts_with("text/html") {
            text.replace("<br>", "\n")
                .replace("&amp;", "&")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
        } else {
            text
        }
    }
}

pub fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.eq_ignore_ascii_case(name)).then(|| v.trim_matches('"').to_string())
    })
}

pub fn decode_qp(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// Decodes a header value containing RFC 2047 encoded words; whitespace
/// between adjacent encoded words is dropped as the RFC requires.
pub fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_was_word = false;
    for token in value.split(' ') {
        if let Some(inner) = token.strip_prefix("=?").and_then(|t| t.strip_suffix("?=")) {
            let mut pieces = inner.splitn(3, '?');
            let _charset = pieces.next();
            let encoding = pieces.next().expect("encoding").to_ascii_uppercase();
            let payload = pieces.next().expect("payload");
            let bytes = if encoding == "B" {
                STANDARD.decode(payload).expect("base64 word")
            } else {
                decode_qp(&payload.replace('_', " ")).into_bytes()
            };
            out.push_str(&String::from_utf8(bytes).expect("utf-8 word"));
            previous_was_word = true;
        } else {
            if !out.is_empty() || previous_was_word {
                out.push(' ');
            }
            out.push_str(token);
            previous_was_word = false;
        }
    }
    out
}

/// Addresses in an address-list header, lowercased.
pub fn addresses(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|segment| {
            if let Some(start) = segment.find('<') {
                let end = segment[start..].find('>')? + start;
                Some(segment[start + 1..end].to_ascii_lowercase())
            } else {
                let s = segment.trim();
                s.contains('@').then(|| s.to_ascii_lowercase())
            }
        })
        .collect()
}

/// Display-name part of a single mailbox header, decoded and unquoted.
pub fn display_name(value: &str) -> Option<String> {
    let start = value.find('<')?;
    let name = value[..start].trim();
    if name.is_empty() {
        return None;
    }
    Some(decode_words(name).trim_matches('"').to_string())
}
