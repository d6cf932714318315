//! Links in answers. Answers are plain text that may quote email content, so nothing in
//! them is ever read as HTML; only Markdown-style links to a page of this site
//! (`[Dana](/contacts/…)`) count. The server cites them, the page makes them anchors.
//!
//! Answer text is untrusted: it repeats the question, quotes email subjects, and streams
//! from a model before any filter runs. So a link is only ever made to an allow-listed
//! route ([`is_allowed_href`]): `/contacts/<uuid>` or `/companies/<uuid>`, optionally
//! with `#activity-<uuid>`. Everything else, `[`/`]` included, stays plain text.

use uuid::Uuid;

/// Whether `href` is a page an answer may link to: exactly `/contacts/<uuid>` or
/// `/companies/<uuid>`, optionally followed by `#activity-<uuid>`. Nothing else: no
/// other paths, no query, no `..`, no backslash, no scheme, no protocol-relative `//`.
pub fn is_allowed_href(href: &str) -> bool {
    let (path, fragment) = match href.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (href, None),
    };
    let id = path
        .strip_prefix("/contacts/")
        .or_else(|| path.strip_prefix("/companies/"));
    let canonical_uuid = |s: &str| {
        s.len() == 36
            && Uuid::parse_str(s)
                .is_ok_and(|u| u.hyphenated().to_string() == s.to_ascii_lowercase())
    };
    id.is_some_and(canonical_uuid)
        && fragment.is_none_or(|f| f.strip_prefix("activity-").is_some_and(canonical_uuid))
}

/// A piece of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link { label: String, href: String },
}

/// Splits `text` into plain text and links (`[label](/contacts/<uuid>)`) to allowed
/// targets ([`is_allowed_href`]). Anything else, external links included, stays text.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else { break };
        let label = &after[..close];
        let target = &after[close + 2..];
        let Some(end) = target.find(')') else { break };
        let href = &target[..end];
        let internal = is_allowed_href(href) && !label.contains('[');
        // Past the closing parenthesis: a refused link stays text, whole.
        let consumed = open + 1 + close + 2 + end + 1;
        if internal {
            plain.push_str(&rest[..open]);
            if !plain.is_empty() {
                out.push(Segment::Text(std::mem::take(&mut plain)));
            }
            out.push(Segment::Link {
                label: label.to_owned(),
                href: href.to_owned(),
            });
        } else {
            plain.push_str(&rest[..consumed]);
        }
        rest = &rest[consumed..];
    }
    plain.push_str(rest);
    if !plain.is_empty() {
        out.push(Segment::Text(plain));
    }
    out
}

/// `(label, href)` of each `[label](/href)` in `text`, in order: an answer's citations.
/// Only allowed hrefs ([`is_allowed_href`]) count.
pub fn links_in(text: &str) -> Vec<(String, String)> {
    segments(text)
        .into_iter()
        .filter_map(|s| match s {
            Segment::Link { label, href } => Some((label, href)),
            Segment::Text(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const C1: &str = "/contacts/0b6a3c52-9f44-4a8e-8d3e-2f1b7c1d0a11";
    const C2: &str = "/contacts/7f0e2d5c-1a2b-4c3d-9e8f-0a1b2c3d4e5f";
    const A3: &str = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";

    fn link(label: &str, href: &str) -> Segment {
        Segment::Link {
            label: label.into(),
            href: href.into(),
        }
    }

    #[test]
    fn only_allowed_routes_are_links() {
        let company = "/companies/0b6a3c52-9f44-4a8e-8d3e-2f1b7c1d0a11";
        for ok in [
            C1.to_owned(),
            company.to_owned(),
            format!("{C1}#activity-{A3}"),
            format!("{company}#activity-{A3}"),
        ] {
            assert!(is_allowed_href(&ok), "{ok}");
        }
        for bad in [
            "/\\evil.example/x".to_owned(),
            "/\\evil.example".to_owned(),
            "//evil".to_owned(),
            "//evil.example/contacts/0b6a3c52-9f44-4a8e-8d3e-2f1b7c1d0a11".to_owned(),
            "javascript:alert(1)".to_owned(),
            "JavaScript:alert(1)".to_owned(),
            "https://evil.example".to_owned(),
            "/contacts/not-a-uuid".to_owned(),
            "/contacts/1".to_owned(),
            "/contacts/".to_owned(),
            "/contacts".to_owned(),
            "/settings".to_owned(),
            format!("{C1}/../../x"),
            format!("{C1}/"),
            format!("{C1}?q=1"),
            format!("{C1}#activity-x"),
            format!("{C1}#x"),
            format!("{C1}#"),
            format!("{C1}#activity-{A3}#activity-{A3}"),
            format!(" {C1}"),
            format!("{C1}\\"),
            "/contacts/0b6a3c529f444a8e8d3e2f1b7c1d0a11".to_owned(),
            "/contacts/{0b6a3c52-9f44-4a8e-8d3e-2f1b7c1d0a11}".to_owned(),
            "/Contacts/0b6a3c52-9f44-4a8e-8d3e-2f1b7c1d0a11".to_owned(),
        ] {
            assert!(!is_allowed_href(&bad), "{bad}");
            let text = format!("[x]({bad})");
            assert_eq!(segments(&text), [Segment::Text(text.clone())], "{bad}");
            assert!(links_in(&text).is_empty(), "{bad}");
        }
    }

    #[test]
    fn only_site_links_become_anchors_and_the_rest_stays_text() {
        let text = format!(
            "Ask [Sam]({C1}) or [evil](https://x.com), <b>[D]({C2}#activity-{A3})</b> [x](//evil) [y](/\\evil.example/x)"
        );
        let d = format!("{C2}#activity-{A3}");
        assert_eq!(
            segments(&text),
            [
                Segment::Text("Ask ".into()),
                link("Sam", C1),
                Segment::Text(" or [evil](https://x.com), <b>".into()),
                link("D", &d),
                Segment::Text("</b> [x](//evil) [y](/\\evil.example/x)".into()),
            ]
        );
        assert_eq!(
            links_in(&text),
            [("Sam".to_owned(), C1.to_owned()), ("D".to_owned(), d)]
        );
    }

    #[test]
    fn unfinished_links_and_plain_text_are_kept_whole() {
        assert_eq!(
            segments("a [half](/x and [b]"),
            [Segment::Text("a [half](/x and [b]".into())]
        );
        assert_eq!(segments(""), []);
        let text = format!("[Dana [x]]({C1}) [Dana]({C1})");
        assert_eq!(
            segments(&text),
            [
                Segment::Text(format!("[Dana [x]]({C1}) ")),
                link("Dana", C1)
            ]
        );
    }

    #[test]
    fn brackets_from_untrusted_text_never_reach_a_refused_target() {
        // A quoted subject tries to wrap an allowed link's label around a bad target.
        let text = format!("[a]([b](/\\evil.example/x) [c]({C1})");
        let segs = segments(&text);
        for s in &segs {
            if let Segment::Link { href, .. } = s {
                assert!(is_allowed_href(href), "{href}");
            }
        }
        assert_eq!(links_in(&text), [("c".to_owned(), C1.to_owned())]);
    }
}
