//! The name an uploaded file is shown and downloaded under. Browsers and mail clients
//! send whatever the user's file system allowed, sometimes MIME-encoded; what comes out
//! of [`FileName::parse`] is safe in a `Content-Disposition` header, on any file system a
//! download lands on, and in the UI.

use base64::Engine;

/// Longest name kept, in bytes of UTF-8 (file systems allow 255; headroom for a
/// browser's " (1)" suffix).
pub const MAX_FILE_NAME_BYTES: usize = 200;
/// An extension longer than this is treated as part of the name when shortening.
const MAX_EXTENSION_CHARS: usize = 16;
/// What an upload without a usable name is called.
const FALLBACK_STEM: &str = "file";

/// A sanitized file name: one path component, no control or direction-override
/// characters, none of `<>:"/\|?*`, no leading dots, at most [`MAX_FILE_NAME_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName(String);

impl FileName {
    /// Decodes RFC 2047 encoded words (`=?UTF-8?B?...?=`) and RFC 2231 extended values
    /// (`UTF-8''%E2%82%AC.pdf`), keeps the last path component, drops what a file system
    /// or a header would misread, and shortens long names keeping the extension. Never
    /// fails: a name with nothing usable left becomes `file` (with its extension).
    pub fn parse(raw: &str) -> Self {
        let decoded = decode_rfc2231(raw).unwrap_or_else(|| decode_rfc2047(raw));
        let last = decoded.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned: String = last
            .chars()
            .filter(|c| !c.is_control() && !is_direction_override(*c))
            .map(|c| if is_reserved(c) { '_' } else { c })
            .collect();
        // Dots and spaces alternate (". .x"): trimming one kind, then the other, would
        // leave a hidden-file dot in front.
        let trimmed = cleaned
            .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
            .trim_end_matches(|c: char| c == '.' || c.is_whitespace());
        let (stem, extension) = split_extension(trimmed);
        let stem = if stem.trim().is_empty() {
            FALLBACK_STEM
        } else {
            stem
        };
        let stem = if is_windows_device(stem) {
            format!("_{stem}")
        } else {
            stem.to_owned()
        };
        let suffix = extension.map(|e| format!(".{e}")).unwrap_or_default();
        let room = MAX_FILE_NAME_BYTES - suffix.len();
        Self(format!(
            "{}{suffix}",
            truncate_to_bytes(&stem, room).trim_end()
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercased extension, if any.
    pub fn extension(&self) -> Option<String> {
        split_extension(&self.0).1.map(str::to_lowercase)
    }

    /// For rows already stored through [`FileName::parse`].
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }
}

impl std::fmt::Display for FileName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_reserved(c: char) -> bool {
    matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
}

/// Characters that reorder text on screen: `invoice\u{202E}fdp.exe` shows as
/// `invoiceexe.pdf`.
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn is_windows_device(stem: &str) -> bool {
    let upper = stem.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.len() == 4
            && upper.as_bytes()[3].is_ascii_digit())
}

/// `report.final.pdf` -> (`report.final`, `pdf`). An extension is short and
/// alphanumeric; anything else stays in the stem.
fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !ext.is_empty()
                && ext.chars().count() <= MAX_EXTENSION_CHARS
                && ext.chars().all(|c| c.is_alphanumeric()) =>
        {
            (stem, Some(ext))
        }
        _ => (name, None),
    }
}

fn truncate_to_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `charset'language'percent-encoded` (RFC 2231 / RFC 5987), as sent in `filename*`.
fn decode_rfc2231(raw: &str) -> Option<String> {
    let mut parts = raw.splitn(3, '\'');
    let charset = parts.next()?;
    let _language = parts.next()?;
    let encoded = parts.next()?;
    if charset.is_empty()
        || !charset
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    let bytes = percent_decode(encoded)?;
    decode_charset(charset, &bytes)
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// Replaces every `=?charset?B|Q?text?=` word; whitespace between two encoded words is
/// dropped (RFC 2047 §6.2). Words that do not decode are kept as they are.
fn decode_rfc2047(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    let mut pending_space = String::new();
    let mut after_word = false;
    while !rest.is_empty() {
        if let Some((decoded, used)) = encoded_word(rest) {
            if !after_word {
                out.push_str(&pending_space);
            }
            pending_space.clear();
            out.push_str(&decoded);
            rest = &rest[used..];
            after_word = true;
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        if c.is_whitespace() && after_word {
            pending_space.push(c);
        } else {
            out.push_str(&pending_space);
            pending_space.clear();
            out.push(c);
            after_word = false;
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push_str(&pending_space);
    out
}

/// One encoded word at the start of `text`: its text and how many bytes it took.
fn encoded_word(text: &str) -> Option<(String, usize)> {
    let body = text.strip_prefix("=?")?;
    let (charset, body) = body.split_once('?')?;
    let (encoding, body) = body.split_once('?')?;
    let end = body.find("?=")?;
    let payload = &body[..end];
    let used = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    let charset = charset.split('*').next().unwrap_or(charset);
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(payload)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(payload))
            .ok()?,
        "Q" | "q" => percent_decode(&payload.replace('=', "%").replace('_', " "))?,
        _ => return None,
    };
    Some((decode_charset(charset, &bytes)?, used))
}

fn decode_charset(charset: &str, bytes: &[u8]) -> Option<String> {
    let encoding = encoding_rs::Encoding::for_label(charset.trim().as_bytes())?;
    let (text, _, _) = encoding.decode(bytes);
    Some(text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> String {
        FileName::parse(raw).as_str().to_owned()
    }

    #[test]
    fn ordinary_names_are_kept() {
        assert_eq!(parse("Quarterly report.pdf"), "Quarterly report.pdf");
        assert_eq!(parse("Åsa – offer v2.docx"), "Åsa – offer v2.docx");
        assert_eq!(parse("archive.tar.gz"), "archive.tar.gz");
    }

    #[test]
    fn paths_are_cut_to_their_last_component() {
        assert_eq!(parse("../../etc/passwd"), "passwd");
        assert_eq!(parse("..\\..\\Windows\\win.ini"), "win.ini");
        assert_eq!(parse("C:\\Users\\me\\notes.txt"), "notes.txt");
        assert_eq!(parse("/"), "file");
        assert_eq!(parse(".."), "file");
        assert_eq!(parse("../"), "file");
    }

    #[test]
    fn hidden_dots_controls_and_reserved_characters_go() {
        assert_eq!(parse(".bashrc"), "bashrc");
        // Found by `make fuzz`: spaces between leading dots.
        assert_eq!(parse(". .x.pdf"), "x.pdf");
        assert_eq!(parse(" . . .🩠"), "🩠");
        assert_eq!(parse("x. . ."), "x");
        assert_eq!(parse("bad\u{0}\r\nname\u{7f}.txt"), "badname.txt");
        assert_eq!(parse("a<b>c:d\"e|f?g*h.txt"), "a_b_c_d_e_f_g_h.txt");
        assert_eq!(parse("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(parse("trailing. . "), "trailing");
        assert_eq!(parse("CON.txt"), "_CON.txt");
        assert_eq!(parse("com1"), "_com1");
        assert_eq!(parse("   "), "file");
        assert_eq!(parse(".pdf"), "pdf");
        assert_eq!(parse("\u{1}.pdf"), "pdf");
    }

    #[test]
    fn encoded_names_are_decoded() {
        assert_eq!(parse("=?UTF-8?B?0J7RgtGH0ZHRgi5wZGY=?="), "Отчёт.pdf");
        assert_eq!(
            parse("=?iso-8859-1?Q?R=E9sum=E9_final.pdf?="),
            "Résumé final.pdf"
        );
        assert_eq!(parse("=?UTF-8?Q?a?= =?UTF-8?Q?b.txt?="), "ab.txt");
        assert_eq!(parse("UTF-8''%E2%82%AC%20rates.pdf"), "€ rates.pdf");
        assert_eq!(parse("iso-8859-1'en'%A3%20rates.pdf"), "£ rates.pdf");
        // Encoded traversal is still traversal.
        assert_eq!(parse("=?UTF-8?Q?..=2F..=2Fetc=2Fpasswd?="), "passwd");
        assert_eq!(parse("UTF-8''..%2F..%2Fetc%2Fshadow"), "shadow");
        // Not an encoded word: kept literally (minus what is reserved).
        assert_eq!(parse("=?bogus?X?abc?=.txt"), "=_bogus_X_abc_=.txt");
    }

    #[test]
    fn long_names_are_shortened_keeping_the_extension() {
        let long = format!("{}.pdf", "x".repeat(1000));
        let name = parse(&long);
        assert_eq!(name.len(), MAX_FILE_NAME_BYTES);
        assert!(name.ends_with("xxx.pdf"));
        let wide = format!("{}.txt", "é".repeat(300));
        let name = parse(&wide);
        assert!(name.len() <= MAX_FILE_NAME_BYTES);
        assert!(name.ends_with("é.txt"));
        let no_extension = "y".repeat(400);
        assert_eq!(parse(&no_extension).len(), MAX_FILE_NAME_BYTES);
    }

    #[test]
    fn extensions_are_short_and_alphanumeric() {
        assert_eq!(
            FileName::parse("Photo.JPG").extension().as_deref(),
            Some("jpg")
        );
        assert_eq!(FileName::parse("README").extension(), None);
        assert_eq!(FileName::parse("v1.2 draft").extension(), None);
    }
}
