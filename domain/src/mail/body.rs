//! Bodies: the text Rapport reads and searches, and the HTML it shows. Incoming HTML is
//! hostile by default: scripts, forms and styles are removed, and remote images are
//! disabled because loading them tells the sender when (and from where) mail was read.

use std::sync::LazyLock;

use ammonia::UrlRelative;
use mail_parser::{Message, MimeHeaders, PartType};
use regex::Regex;

use super::ParseProblem;

/// Attribute that keeps a blocked remote image URL on an `<img>`, so the UI can offer
/// "show images" without re-reading the original message.
pub const REMOTE_IMAGE_ATTRIBUTE: &str = "data-remote-src";

/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 200;

/// Width handed to the HTML-to-text renderer: wide enough that it never wraps a
/// paragraph (line breaks in the text should be the author's, not ours).
const TEXT_WIDTH: usize = 100_000;

pub(super) struct Bodies {
    pub(super) text: Option<String>,
    pub(super) html: Option<String>,
}

pub(super) fn extract(message: &Message<'_>, problems: &mut Vec<ParseProblem>) -> Bodies {
    let plain: Vec<&str> = message
        .text_bodies()
        .filter(|part| is_plain(part))
        .filter_map(|part| match &part.body {
            PartType::Text(text) => Some(text.as_ref()),
            _ => None,
        })
        .collect();
    let html: Vec<&str> = message
        .html_bodies()
        .filter_map(|part| match &part.body {
            PartType::Html(html) => Some(html.as_ref()),
            _ => None,
        })
        .collect();
    let html = (!html.is_empty()).then(|| html.join("\n"));
    let text = if plain.is_empty() {
        html.as_deref().and_then(|h| match html_to_text(h) {
            Ok(text) => Some(text),
            Err(e) => {
                problems.push(ParseProblem::HtmlConversion(e));
                None
            }
        })
    } else {
        Some(plain.join("\n"))
    };
    Bodies {
        text: text
            .map(|t| t.replace("\r\n", "\n").trim().to_owned())
            .filter(|t| !t.is_empty()),
        html: html.map(|h| sanitize_html(&h)),
    }
}

/// A text body part: `text/plain` or no content type at all (RFC 2045's default), never
/// a `text/calendar` or other text attachment that mail-parser lists among bodies.
fn is_plain(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_type().is_none_or(|ct| {
        ct.ctype().eq_ignore_ascii_case("text")
            && ct
                .subtype()
                .is_none_or(|sub| sub.eq_ignore_ascii_case("plain"))
    })
}

/// Converts HTML to readable plain text (paragraphs, lists and links kept as text).
pub fn html_to_text(html: &str) -> Result<String, String> {
    let converted = std::panic::catch_unwind(|| {
        html2text::config::with_decorator(html2text::render::TrivialDecorator::new())
            .string_from_read(html.as_bytes(), TEXT_WIDTH)
            .map_err(|e| e.to_string())
    })
    .map_err(|_| "the converter failed on this input".to_owned())??;
    let lines: Vec<&str> = converted.lines().map(str::trim_end).collect();
    let mut out = String::with_capacity(converted.len());
    let mut blank_run = 0;
    for line in lines {
        blank_run = if line.is_empty() { blank_run + 1 } else { 0 };
        if blank_run <= 1 {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out.trim().to_owned())
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_url_schemes(["cid", "data"])
        .url_relative(UrlRelative::Deny)
        // Kept so that a second pass (the mail frame re-sanitizes stored HTML) still
        // knows the blocked images.
        .add_tag_attributes("img", [REMOTE_IMAGE_ATTRIBUTE])
        // Links leave the sandboxed mail frame for a new tab, never replace it.
        .set_tag_attribute_value("a", "target", "_blank")
        .attribute_filter(|element, attribute, value| {
            let lower = value.trim_start().to_ascii_lowercase();
            let allowed = match (element, attribute) {
                // Images: inline parts, embedded data and remote URLs (disabled below).
                ("img", "src") => {
                    lower.starts_with("cid:")
                        || lower.starts_with("data:image/")
                        || lower.starts_with("http://")
                        || lower.starts_with("https://")
                }
                ("img", REMOTE_IMAGE_ATTRIBUTE) => {
                    lower.starts_with("http://") || lower.starts_with("https://")
                }
                // Links: never `data:` (a page in disguise) or `cid:`.
                (_, "href") => !lower.starts_with("data:") && !lower.starts_with("cid:"),
                _ => true,
            };
            allowed.then_some(value.into())
        });
    builder
});

/// `src="http(s)://..."` on an `<img>` in ammonia's normalized output, where every
/// attribute value is double-quoted with `"` escaped, so this match is exact.
static REMOTE_SRC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(<img\b(?:\s+[^\s="'>/]+(?:="[^"]*")?)*?\s+)src="((?i:https?)://[^"]*)""#)
        .expect("valid regex")
});

/// Sanitizes untrusted HTML for display: no scripts, event handlers, forms, styles,
/// frames or `javascript:` links; remote images keep their URL only in
/// [`REMOTE_IMAGE_ATTRIBUTE`], so nothing is fetched until the user asks.
pub fn sanitize_html(html: &str) -> String {
    let clean = SANITIZER.clean(html).to_string();
    REMOTE_SRC
        .replace_all(&clean, format!("${{1}}{REMOTE_IMAGE_ATTRIBUTE}=\"${{2}}\""))
        .into_owned()
}

/// A stored message's HTML as the mail frame shows it: sanitized again (stored HTML may
/// predate today's rules), top-level quotes folded into `<details>`, and remote images
/// either kept blocked (no `src` at all, so nothing can load them even if the frame's
/// Content-Security-Policy were missing) or, once the user allowed them, restored.
pub fn frame_html(stored: &str, remote_images_allowed: bool) -> String {
    let clean = fold_quotes(&sanitize_html(stored));
    if remote_images_allowed {
        BLOCKED_SRC
            .replace_all(&clean, r#"${1}src="${2}""#)
            .into_owned()
    } else {
        clean
    }
}

/// A blocked image's URL in sanitized output (see [`REMOTE_SRC`] for why exact).
static BLOCKED_SRC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(<img\b(?:\s+[^\s="'>/]+(?:="[^"]*")?)*?\s+){REMOTE_IMAGE_ATTRIBUTE}="((?i:https?)://[^"]*)""#
    ))
    .expect("valid regex")
});

/// Wraps each outermost `<blockquote>` of sanitized (so well-formed, lowercase-tagged)
/// HTML in a closed `<details>`, the way mail clients hide quoted history.
fn fold_quotes(html: &str) -> String {
    const OPEN: &str = "<blockquote";
    const CLOSE: &str = "</blockquote>";
    let mut out = String::with_capacity(html.len() + 128);
    let mut depth = 0_usize;
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with(OPEN) && rest[OPEN.len()..].starts_with(['>', ' ']) {
            if depth == 0 {
                out.push_str("<details class=\"quote\"><summary>Quoted text</summary>");
            }
            depth += 1;
            out.push_str(OPEN);
            rest = &rest[OPEN.len()..];
        } else if rest.starts_with(CLOSE) {
            out.push_str(CLOSE);
            rest = &rest[CLOSE.len()..];
            depth = depth.saturating_sub(1);
            if depth == 0 {
                out.push_str("</details>");
            }
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The first ~200 characters of `text` with whitespace collapsed, for lists.
pub fn snippet(text: &str) -> String {
    let mut out = String::with_capacity(SNIPPET_CHARS + 4);
    let mut count = 0;
    for word in text.split_whitespace() {
        let needed = word.chars().count() + usize::from(count > 0);
        if count + needed > SNIPPET_CHARS {
            if count == 0 {
                out.extend(word.chars().take(SNIPPET_CHARS));
            }
            out.push('…');
            break;
        }
        if count > 0 {
            out.push(' ');
        }
        out.push_str(word);
        count += needed;
    }
    out
}
