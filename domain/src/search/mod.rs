//! Mail search: full text over every activity the user has (subject, body,
//! participants' names and addresses, attachment names), with operators, ranked, then
//! newest first, with highlighted snippets.
//!
//! The index is the `activity_search` table (migration `..._mail_search.sql`): one
//! tsvector per visible activity, written by triggers in the transaction that stores the
//! activity and its participants, under a GIN index whose key starts with the user. A
//! query is parsed here ([`SearchQuery`]) and turned into a tsquery by one SQL function,
//! `search_tsquery`, which stems the words with the same configuration as the documents.
//!
//! Ranking reads the documents of the matches, so it is bounded: the newest
//! [`RANK_WINDOW`] matches are ranked (ts_rank: subject over participants and
//! attachment names over body), then ordered newest first among equals. A query with
//! more matches than that ranks the most recent ones; `before:` reaches older mail.

mod highlight;
mod query;
mod store;

pub use query::{MAX_QUERY_CHARS, MAX_TERMS, QueryError, SearchQuery};
pub(crate) use store::Matching;

/// Matches ranked per query: the newest ones.
pub const RANK_WINDOW: usize = 1000;

/// Pages of results a query has at most.
pub const MAX_PAGE: u32 = (RANK_WINDOW / api::search::PAGE_SIZE) as u32;

/// A page number from the query string: empty is the first page.
pub fn parse_page(page: &str) -> Result<u32, crate::DomainError> {
    let page = page.trim();
    if page.is_empty() {
        return Ok(1);
    }
    page.parse::<u32>()
        .ok()
        .filter(|p| (1..=MAX_PAGE).contains(p))
        .ok_or_else(|| {
            crate::DomainError::invalid("page", format!("must be a number from 1 to {MAX_PAGE}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_numbers_within_the_window() {
        assert_eq!(parse_page("").unwrap(), 1);
        assert_eq!(parse_page(" 3 ").unwrap(), 3);
        assert_eq!(parse_page(&MAX_PAGE.to_string()).unwrap(), MAX_PAGE);
        for bad in ["0", "-1", "x", &(MAX_PAGE + 1).to_string()] {
            assert!(parse_page(bad).is_err(), "{bad}");
        }
    }
}
