//! A small, lenient MIME reader that turns raw RFC 822 bytes into Gmail's
//! `MessagePart` tree, its snippet and its attachments.
//!
//! It never fails: the generated mailbox deliberately contains broken
//! messages and Gmail still serves those, so anything unparseable degrades
//! to a single `text/plain` part instead of an error.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// One node of the MIME tree with its body already transfer-decoded.
pub(crate) struct Part {
    pub part_id: String,
    pub mime_type: String,
    pub filename: String,
    pub headers: Vec<(String, String)>,
    /// Decoded body of a leaf; empty for multiparts.
    pub body: Vec<u8>,
    pub parts: Vec<Part>,
}

/// Splits at the first empty line. Bytes without one are all header.
fn split_head(raw: &[u8]) -> (&[u8], &[u8]) {
    if raw.starts_with(b"\r\n") {
        return (&[], &raw[2..]);
    }
    if raw.starts_with(b"\n") {
        return (&[], &raw[1..]);
    }
    let crlf = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => {
            let (i, n) = if a.0 < b.0 { a } else { b };
            (&raw[..i], &raw[i + n..])
        }
        (Some((i, n)), None) | (None, Some((i, n))) => (&raw[..i], &raw[i + n..]),
        (None, None) => (raw, &[]),
    }
}

/// Unfolded header fields in order, values RFC 2047-decoded (as Gmail
/// returns them in `payload.headers`).
pub(crate) fn parse_headers(raw: &[u8]) -> Vec<(String, String)> {
    let (head, _) = split_head(raw);
    let text = String::from_utf8_lossy(head);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':')
            && !name.is_empty()
            && !name.contains(' ')
        {
            fields.push((name.to_string(), value.trim().to_string()));
        }
    }
    for field in &mut fields {
        field.1 = decode_words(&field.1);
    }
    fields
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Value of `name=` in a structured header such as Content-Type, with the
/// RFC 2231 `name*=charset''percent-encoded` form understood too.
fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        let k = k.trim();
        if k.eq_ignore_ascii_case(name) {
            Some(v.trim().trim_matches('"').to_string())
        } else if k.eq_ignore_ascii_case(&format!("{name}*")) {
            let encoded = v.trim().trim_matches('"');
            let text = encoded.splitn(3, '\'').nth(2).unwrap_or(encoded);
            Some(String::from_utf8_lossy(&percent_decode(text)).into_owned())
        } else {
            None
        }
    })
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = hex_byte(bytes.get(i + 1..i + 3))
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn hex_byte(pair: Option<&[u8]>) -> Option<u8> {
    let pair = std::str::from_utf8(pair?).ok()?;
    u8::from_str_radix(pair, 16).ok()
}

fn charset_text(bytes: &[u8], charset: &str) -> String {
    let charset = charset.to_ascii_lowercase();
    if charset.contains("8859-1") || charset.contains("latin1") || charset.contains("1252") {
        bytes.iter().map(|&b| b as char).collect()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Decodes RFC 2047 encoded words; whitespace between two adjacent encoded
/// words is dropped as the RFC requires.
pub(crate) fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, after) = rest.split_at(start);
        match encoded_word(after) {
            Some((decoded, used)) => {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = &after[used..];
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &after[2..];
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses one `=?charset?B|Q?text?=` at the start of `s`.
fn encoded_word(s: &str) -> Option<(String, usize)> {
    let inner = &s[2..];
    let (charset, rest) = inner.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let text = &rest[..end];
    if text.contains(' ') {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => lenient_base64(text.as_bytes()),
        "Q" | "q" => quoted_printable(text.replace('_', " ").as_bytes()),
        _ => return None,
    };
    let used = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((charset_text(&bytes, charset), used))
}

/// Base64 that skips line breaks and garbage, as mail readers must.
fn lenient_base64(text: &[u8]) -> Vec<u8> {
    let clean: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    // A lone trailing sextet cannot encode a byte; drop it rather than fail.
    let usable = if clean.len() % 4 == 1 {
        clean.len() - 1
    } else {
        clean.len()
    };
    STANDARD_NO_PAD.decode(&clean[..usable]).unwrap_or_default()
}

fn quoted_printable(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'=' {
            if text.get(i + 1..i + 3) == Some(b"\r\n") {
                i += 3;
                continue;
            }
            if text.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let Some(b) = hex_byte(text.get(i + 1..i + 3)) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

/// Splits a multipart body at its boundary lines; the CRLF before each
/// delimiter belongs to the delimiter, per RFC 2046.
fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut current: Option<usize> = None;
    let mut pos = 0;
    while pos < body.len() {
        let line_end = body[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(body.len(), |i| pos + i);
        let line = &body[pos..line_end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(rest) = line.strip_prefix(delimiter) {
            let closing = rest.starts_with(b"--");
            if closing || rest.iter().all(u8::is_ascii_whitespace) {
                if let Some(start) = current {
                    let mut end = pos;
                    if end > start && body[end - 1] == b'\n' {
                        end -= 1;
                        if end > start && body[end - 1] == b'\r' {
                            end -= 1;
                        }
                    }
                    parts.push(&body[start..end]);
                }
                if closing {
                    return parts;
                }
                current = Some((line_end + 1).min(body.len()));
            }
        }
        pos = line_end + 1;
    }
    if let Some(start) = current {
        parts.push(&body[start..]);
    }
    parts
}

/// Parses a message (or part) into the tree Gmail serves.
pub(crate) fn parse(raw: &[u8]) -> Part {
    parse_part(raw, String::new(), "text/plain")
}

fn parse_part(raw: &[u8], part_id: String, default_type: &str) -> Part {
    let headers = parse_headers(raw);
    let (_, body) = split_head(raw);
    let content_type = header(&headers, "Content-Type").unwrap_or(default_type);
    let mime_type = content_type
        .split(';')
        .next()
        .unwrap_or(default_type)
        .trim()
        .to_ascii_lowercase();
    let filename = header(&headers, "Content-Disposition")
        .and_then(|d| param(d, "filename"))
        .or_else(|| param(content_type, "name"))
        .unwrap_or_default();
    if mime_type.starts_with("multipart/")
        && let Some(boundary) = param(content_type, "boundary")
    {
        let child_default = if mime_type == "multipart/digest" {
            "message/rfc822"
        } else {
            "text/plain"
        };
        let parts = split_multipart(body, &boundary)
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let id = if part_id.is_empty() {
                    i.to_string()
                } else {
                    format!("{part_id}.{i}")
                };
                parse_part(chunk, id, child_default)
            })
            .collect();
        return Part {
            part_id,
            mime_type,
            filename,
            headers,
            body: Vec::new(),
            parts,
        };
    }
    let encoding = header(&headers, "Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let decoded = match encoding.as_str() {
        "base64" => lenient_base64(body),
        "quoted-printable" => quoted_printable(body),
        _ => body.to_vec(),
    };
    Part {
        part_id,
        mime_type,
        filename,
        headers,
        body: decoded,
        parts: Vec::new(),
    }
}

impl Part {
    /// Depth-first search by Gmail part id ("", "0", "1.2", ...).
    pub(crate) fn find(&self, part_id: &str) -> Option<&Part> {
        if self.part_id == part_id {
            return Some(self);
        }
        self.parts.iter().find_map(|p| p.find(part_id))
    }

    fn is_attachment(&self) -> bool {
        !self.filename.is_empty() && self.parts.is_empty()
    }

    /// Gmail's `MessagePart` JSON. Attachments carry an `attachmentId`
    /// instead of inline data, as Gmail does.
    pub(crate) fn to_json(&self, message_id: &str) -> Value {
        let headers: Vec<Value> = self
            .headers
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect();
        let body = if !self.parts.is_empty() {
            json!({"size": 0})
        } else if self.is_attachment() {
            json!({
                "attachmentId": attachment_id(message_id, &self.part_id),
                "size": self.body.len(),
            })
        } else if self.body.is_empty() {
            json!({"size": 0})
        } else {
            json!({"size": self.body.len(), "data": URL_SAFE.encode(&self.body)})
        };
        let mut part = json!({
            "partId": self.part_id,
            "mimeType": self.mime_type,
            "filename": self.filename,
            "headers": headers,
            "body": body,
        });
        if !self.parts.is_empty() {
            part["parts"] = self.parts.iter().map(|p| p.to_json(message_id)).collect();
        }
        part
    }

    fn charset(&self) -> String {
        header(&self.headers, "Content-Type")
            .and_then(|ct| param(ct, "charset"))
            .unwrap_or_else(|| "utf-8".to_string())
    }

    fn first_text(&self, mime_type: &str) -> Option<String> {
        if self.parts.is_empty() {
            return (self.mime_type == mime_type && !self.is_attachment())
                .then(|| charset_text(&self.body, &self.charset()));
        }
        self.parts.iter().find_map(|p| p.first_text(mime_type))
    }

    /// Gmail's snippet: the start of the text body, whitespace collapsed,
    /// HTML-escaped, at most 200 characters.
    pub(crate) fn snippet(&self) -> String {
        let text = self
            .first_text("text/plain")
            .or_else(|| self.first_text("text/html").map(|h| strip_tags(&h)))
            .unwrap_or_default();
        let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut out = String::new();
        for c in collapsed.chars().take(200) {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c => out.push(c),
            }
        }
        out
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
}

/// Opaque but self-describing, so attachments need no server-side table.
pub(crate) fn attachment_id(message_id: &str, part_id: &str) -> String {
    format!(
        "ANGjdJ{}",
        URL_SAFE_NO_PAD.encode(format!("{message_id}:{part_id}"))
    )
}

/// Inverse of [`attachment_id`]: `(message id, part id)`.
pub(crate) fn parse_attachment_id(id: &str) -> Option<(String, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.strip_prefix("ANGjdJ")?).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (message, part) = text.split_once(':')?;
    Some((message.to_string(), part.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_tree_has_gmail_part_ids_and_decoded_bodies() {
        let raw = b"Subject: =?UTF-8?B?SMOpbGxv?= =?UTF-8?Q?_w=C3=B6rld?=\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHi =C3=A9 it's <me>\r\n--b2\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n--b2--\r\n--b1\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE\r\nRi0x\r\n--b1--\r\n";
        let root = parse(raw);
        assert_eq!(header(&root.headers, "subject"), Some("Héllo wörld"));
        assert_eq!(root.mime_type, "multipart/mixed");
        assert_eq!(root.parts.len(), 2);
        assert_eq!(root.parts[0].parts[0].part_id, "0.0");
        assert_eq!(root.parts[0].parts[0].body, "Hi é it's <me>".as_bytes());
        assert_eq!(root.parts[0].parts[1].body, b"<p>Hi</p>");
        let pdf = root.find("1").expect("attachment part");
        assert_eq!(pdf.filename, "a.pdf");
        assert_eq!(pdf.body, b"%PDF-1");
        assert_eq!(root.snippet(), "Hi é it&#39;s &lt;me&gt;");
        let json = root.to_json("abc");
        let id = json["parts"][1]["body"]["attachmentId"].as_str().unwrap();
        assert_eq!(
            parse_attachment_id(id),
            Some(("abc".to_string(), "1".to_string()))
        );
    }

    #[test]
    fn garbage_degrades_to_a_single_part() {
        let root = parse(b"no header separator at all");
        assert!(root.parts.is_empty());
        let root = parse(b"Content-Type: multipart/mixed\r\n\r\nno boundary");
        assert_eq!(root.body, b"no boundary");
    }
}
