//! Links in answers. Answers are plain text that may quote email content, so nothing in
//! them is ever read as HTML; only Markdown-style links to a page of this site
//! (`[Dana](/contacts/…)`) count. The server cites them, the page makes them anchors.

/// A piece of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link { label: String, href: String },
}

/// Splits `text` into plain text and site-relative links (`[label](/path)`). Anything
/// else, external links included, stays text.
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
        let internal = href.starts_with('/') && !href.starts_with("//") && !label.contains('[');
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
/// Only site-relative hrefs count.
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

    fn link(label: &str, href: &str) -> Segment {
        Segment::Link {
            label: label.into(),
            href: href.into(),
        }
    }

    #[test]
    fn only_site_links_become_anchors_and_the_rest_stays_text() {
        let text = "Ask [Sam](/contacts/1) or [evil](https://x.com), <b>[D](/contacts/2#activity-3)</b> [x](//evil)";
        assert_eq!(
            segments(text),
            [
                Segment::Text("Ask ".into()),
                link("Sam", "/contacts/1"),
                Segment::Text(" or [evil](https://x.com), <b>".into()),
                link("D", "/contacts/2#activity-3"),
                Segment::Text("</b> [x](//evil)".into()),
            ]
        );
        assert_eq!(
            links_in(text),
            [
                ("Sam".to_owned(), "/contacts/1".to_owned()),
                ("D".to_owned(), "/contacts/2#activity-3".to_owned())
            ]
        );
    }

    #[test]
    fn unfinished_links_and_plain_text_are_kept_whole() {
        assert_eq!(
            segments("a [half](/x and [b]"),
            [Segment::Text("a [half](/x and [b]".into())]
        );
        assert_eq!(segments(""), []);
        assert_eq!(
            segments("[Dana [x]](/c) [Dana](/c)"),
            [Segment::Text("[Dana [x]](/c) ".into()), link("Dana", "/c")]
        );
    }

    #[test]
    fn links_are_extracted_and_only_internal() {
        let text = "Ask [Sam](/contacts/1) or [evil](https://x.com) and [Dana [x]](/c) then [D](/contacts/2).";
        assert_eq!(
            links_in(text),
            [
                ("Sam".to_owned(), "/contacts/1".to_owned()),
                ("D".to_owned(), "/contacts/2".to_owned())
            ]
        );
    }
}
