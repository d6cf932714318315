//! Mail search (`/search?q=`, `GET /api/v1/search`, the Ask tool `search_mail`): every
//! activity the user has, ranked, then newest first, with highlighted snippets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Channel;
use crate::inbox::Sender;

/// Hits in one page of results.
pub const PAGE_SIZE: usize = 20;

/// A run of text in a highlighted snippet: matched (shown marked) or not. Text, never
/// HTML: the page renders each run as escaped text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragment {
    pub text: String,
    pub matched: bool,
}

/// The plain text of `fragments`.
pub fn plain(fragments: &[Fragment]) -> String {
    fragments.iter().map(|f| f.text.as_str()).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: Uuid,
    pub channel: Channel,
    pub occurred_at: DateTime<Utc>,
    pub sender: Option<Sender>,
    /// The subject (else the snippet), the query's words marked.
    pub headline: Vec<Fragment>,
    /// The best passages of the body, the query's words marked; empty when the body has
    /// no match (a hit on the subject, a participant or an attachment name).
    pub snippet: Vec<Fragment>,
    /// Where opening it goes: an email's conversation, else the entry on the contact's
    /// timeline, else the Timeline page.
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// This page's number, from 1.
    pub page: u32,
    /// Whether a next page exists.
    pub more: bool,
    /// When the server read the page (for "5 min ago" labels).
    pub now: DateTime<Utc>,
}

/// The results page for `q`, page `page` (1 is the first).
pub fn search_href(q: &str, page: u32) -> String {
    let mut href = format!("/search?q={}", encode(q));
    if page > 1 {
        href.push_str(&format!("&page={page}"));
    }
    href
}

/// `text` percent-encoded for a query string value.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_encode_the_query_and_the_page() {
        assert_eq!(
            search_href("from:dana \"the deal\"", 1),
            "/search?q=from%3Adana+%22the+deal%22"
        );
        assert_eq!(search_href("ü&x", 3), "/search?q=%C3%BC%26x&page=3");
    }
}
