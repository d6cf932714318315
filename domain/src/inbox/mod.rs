//! The unified inbox: everything that arrived, from every channel (inbound activities,
//! and meetings, which have no direction), that is not deleted at the source, done or
//! dismissed, newest first. Pages are keyset pages of [`api::inbox::PAGE_SIZE`] rows
//! after an opaque [`Cursor`] on `(occurred_at, id)`, so a deep page costs what the
//! first does and rows arriving meanwhile never shift a page.
//!
//! Read state: an email is unread while it carries Gmail's `UNREAD` label and was not
//! opened here (`read_at`); any other channel is unread until opened here. Done
//! (`done_at`) leaves the inbox and stays on the timeline; dismissed (`dismissed_at`)
//! leaves both, and nothing clears it, so a source syncing the item again does not bring
//! it back.
//!
//! Search narrows the inbox with the mail search's language and index
//! ([`crate::search`]): the same words, phrases and operators as `/search`, matched in
//! the subject, body, participants and attachment names, newest first.

mod cursor;
mod store;

use api::Channel;
use api::inbox::PAGE_SIZE;

use crate::DomainError;
use crate::search::SearchQuery;

pub use cursor::Cursor;

/// Longest search text, in characters.
const MAX_SEARCH_CHARS: usize = 200;

/// Which inbox rows to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InboxQuery {
    /// Only these channels; empty: every channel.
    pub channels: Vec<Channel>,
    pub unread_only: bool,
    /// What the search box holds, in the mail search's language (words, phrases,
    /// `from:`, `to:`, `channel:`, `before:`, `after:`, `has:attachment`).
    pub search: Option<SearchQuery>,
    /// Rows older than this one.
    pub after: Option<Cursor>,
    pub limit: usize,
}

impl InboxQuery {
    /// Parses what the page sends: channel names separated by commas, the search box's
    /// text and the cursor of the page before.
    pub fn parse(
        channels: &str,
        unread_only: bool,
        search: &str,
        cursor: &str,
    ) -> Result<Self, DomainError> {
        let mut parsed = Vec::new();
        for name in channels.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let channel =
                Channel::parse(name).map_err(|e| DomainError::not_one_of("channel", &e))?;
            if !parsed.contains(&channel) {
                parsed.push(channel);
            }
        }
        let search = search.trim();
        if search.chars().count() > MAX_SEARCH_CHARS {
            return Err(DomainError::invalid(
                "search",
                format!("at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        let cursor = cursor.trim();
        Ok(Self {
            channels: parsed,
            unread_only,
            search: if search.is_empty() {
                None
            } else {
                Some(
                    SearchQuery::parse(search)
                        .map_err(|e| DomainError::invalid("search", e.to_string()))?,
                )
            },
            after: if cursor.is_empty() {
                None
            } else {
                Some(cursor.parse()?)
            },
            limit: PAGE_SIZE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_channels_search_and_cursor() {
        let q = InboxQuery::parse(" email, sms,email ,", true, "  Ann ", "").unwrap();
        assert_eq!(q.channels, vec![Channel::Email, Channel::Sms]);
        assert!(q.unread_only);
        assert_eq!(q.search, Some(SearchQuery::parse("Ann").unwrap()));
        assert_eq!(q.after, None);
        assert_eq!(q.limit, PAGE_SIZE);

        let q = InboxQuery::parse("", false, "   ", "").unwrap();
        assert!(q.channels.is_empty() && q.search.is_none());

        assert!(matches!(
            InboxQuery::parse("fax", false, "", ""),
            Err(DomainError::Invalid {
                field: "channel",
                ..
            })
        ));
        assert!(matches!(
            InboxQuery::parse("", false, "", "not a cursor"),
            Err(DomainError::Invalid {
                field: "cursor",
                ..
            })
        ));
        assert!(matches!(
            InboxQuery::parse("", false, &"x".repeat(201), ""),
            Err(DomainError::Invalid {
                field: "search",
                ..
            })
        ));
        assert!(matches!(
            InboxQuery::parse("", false, "subject:lunch", ""),
            Err(DomainError::Invalid {
                field: "search",
                ..
            })
        ));
    }
}
