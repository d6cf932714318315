//! The contacts list: search, filters, sort, pages of at most [`PAGE_SIZE`], the top
//! contacts strip and bulk tagging.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::profile::parse_tag;
use crate::DomainError;
use crate::db::scopes::ContactsScope;

/// Rows per page of the contacts list.
pub const PAGE_SIZE: i64 = 50;
/// Longest search text accepted; longer input is cut.
const MAX_SEARCH_CHARS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContactSort {
    /// Strongest relationship first.
    #[default]
    Strength,
    /// Most recent interaction first.
    Recent,
    /// Most emails (both ways) first.
    MostEmails,
    /// A to Z.
    Name,
}

impl ContactSort {
    /// The value used in URLs (`?sort=recent`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strength => "strength",
            Self::Recent => "recent",
            Self::MostEmails => "emails",
            Self::Name => "name",
        }
    }

    /// Unknown values fall back to the default sort: URLs are typed by people.
    pub fn from_param(value: &str) -> Self {
        match value {
            "recent" => Self::Recent,
            "emails" => Self::MostEmails,
            "name" => Self::Name,
            _ => Self::Strength,
        }
    }
}

/// What the list shows: every field is optional, `page` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactQuery {
    /// Substring of the name, an email address or the company's name or domain.
    pub search: Option<String>,
    pub company: Option<Uuid>,
    pub tag: Option<String>,
    /// Only contacts with inbound mail the user has not answered.
    pub unanswered: bool,
    pub last_from: Option<DateTime<Utc>>,
    pub last_to: Option<DateTime<Utc>>,
    pub sort: ContactSort,
    pub page: i64,
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactListItem {
    pub id: Uuid,
    pub display_name: Option<String>,
    pub primary_email: Option<String>,
    pub company_id: Option<Uuid>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub strength: i16,
    pub email_count: i32,
    pub last_interaction_at: Option<DateTime<Utc>>,
    pub unanswered_inbound: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactListPage {
    pub contacts: Vec<ContactListItem>,
    /// Contacts matching the query, counted up to [`COUNT_LIMIT`].
    pub total: ListTotal,
    pub page: i64,
}

/// Matches beyond this many are not counted: counting is a scan of every match, and past a
/// thousand nobody pages through by number; they search or filter.
pub const COUNT_LIMIT: i64 = 1000;

/// How many contacts match, exactly up to [`COUNT_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListTotal {
    Exactly(i64),
    MoreThan(i64),
}

impl ListTotal {
    /// Pages known to exist: all of them for an exact count, else those up to the limit.
    pub fn known_pages(self) -> i64 {
        let (Self::Exactly(n) | Self::MoreThan(n)) = self;
        ((n + PAGE_SIZE - 1) / PAGE_SIZE).max(1)
    }
}

impl ContactListPage {
    /// Whether a page after this one has contacts.
    pub fn has_next(&self) -> bool {
        match self.total {
            ListTotal::Exactly(_) => self.page < self.total.known_pages(),
            ListTotal::MoreThan(_) => self.contacts.len() as i64 == PAGE_SIZE,
        }
    }
}

/// The start of a page of `contact_stats` rows, before `<order>) as n from …`: only
/// columns the sort indexes carry, so the page can be an index-only scan.
const PAGE_ROWS: &str = "with page as (select s.user_id, s.contact_id, s.strength, s.email_count,
        s.last_interaction_at, s.unanswered_inbound, row_number() over (order by ";

/// The list's columns for one page of `contact_stats` rows (`page`), in the page's order.
const PAGE_COLUMNS: &str =
    "select c.id, c.display_name, c.company_id, co.name as company, c.title, c.tags,
        page.strength, page.email_count, page.last_interaction_at, page.unanswered_inbound,
        (select ci.value from contact_identities ci
          where ci.user_id = c.user_id and ci.contact_id = c.id and ci.kind = 'email'
          order by ci.created_at, ci.value limit 1) as primary_email
   from page
   join contacts c on c.user_id = page.user_id and c.id = page.contact_id
   left join companies co on co.user_id = c.user_id and co.id = c.company_id
  order by page.n";

impl ContactsScope<'_> {
    /// One page of the user's contacts (merged-away contacts never appear).
    ///
    /// Built with a `QueryBuilder` instead of `query_as!`: the sort column and the set of
    /// filters vary, and each combination must be its own statement so Postgres plans it
    /// with the index for that sort rather than one generic plan for all of them. Filters
    /// and sorts read `contact_stats` only (see the contact_list_rows migration); the
    /// page's 50 rows are then joined for display.
    pub async fn list(self, query: &ContactQuery) -> Result<ContactListPage, DomainError> {
        let page = query.page.max(1);
        let order = match query.sort {
            ContactSort::Strength => "s.strength desc, s.contact_id",
            ContactSort::Recent => "s.last_interaction_at desc nulls last, s.contact_id",
            ContactSort::MostEmails => "s.email_count desc, s.contact_id",
            ContactSort::Name => "s.name_key nulls last, s.contact_id",
        };
        let mut rows = QueryBuilder::<Postgres>::new(PAGE_ROWS);
        rows.push(order).push(") as n from contact_stats s");
        self.push_filters(&mut rows, query);
        // The limit and offset are written into the statement, not bound (they are
        // numbers computed here): with them as parameters Postgres planned every call
        // anew (half a millisecond of each list) rather than keep one plan per page.
        rows.push(" order by ")
            .push(order)
            .push(format_args!(
                " limit {PAGE_SIZE} offset {}) ",
                (page - 1).saturating_mul(PAGE_SIZE)
            ))
            .push(PAGE_COLUMNS);
        let contacts = rows
            .build_query_as::<ContactListItem>()
            .fetch_all(self.pool)
            .await?;

        let before = (page - 1) * PAGE_SIZE;
        let shown = contacts.len() as i64;
        // A page that is neither full nor past the end is the last one: it gives the
        // count, and a search matching a handful of people costs one query, not two.
        let total = if shown < PAGE_SIZE && (shown > 0 || page == 1) {
            ListTotal::Exactly(before + shown)
        } else {
            let mut count = QueryBuilder::<Postgres>::new(
                "select count(*) from (select 1 from contact_stats s",
            );
            self.push_filters(&mut count, query);
            count.push(format_args!(" limit {}) matches", COUNT_LIMIT + 1));
            let counted: i64 = count.build_query_scalar().fetch_one(self.pool).await?;
            if counted > COUNT_LIMIT {
                ListTotal::MoreThan(COUNT_LIMIT)
            } else {
                ListTotal::Exactly(counted)
            }
        };
        Ok(ContactListPage {
            contacts,
            total,
            page,
        })
    }

    fn push_filters<'q>(self, sql: &mut QueryBuilder<'q, Postgres>, query: &'q ContactQuery) {
        sql.push(" where s.user_id = ")
            .push_bind(self.user.0)
            .push(" and s.listed");
        match query.search.as_deref().and_then(SearchText::parse) {
            Some(SearchText::Substring(pattern)) => {
                sql.push(" and s.search_text like ").push_bind(pattern);
            }
            Some(SearchText::WordStart { first, inner }) => {
                sql.push(" and (s.search_text like ")
                    .push_bind(first)
                    .push(" or s.search_text like ")
                    .push_bind(inner)
                    .push(")");
            }
            None => {}
        }
        if let Some(company) = query.company {
            sql.push(" and s.company_id = ").push_bind(company);
        }
        if let Some(tag) = &query.tag {
            sql.push(" and s.tags @> array[")
                .push_bind(tag.as_str())
                .push("]::text[]");
        }
        if query.unanswered {
            sql.push(" and s.unanswered_inbound > 0");
        }
        if let Some(from) = query.last_from {
            sql.push(" and s.last_interaction_at >= ").push_bind(from);
        }
        if let Some(to) = query.last_to {
            sql.push(" and s.last_interaction_at < ").push_bind(to);
        }
    }

    /// What the contacts page shows: a page, the top-contacts strip and the tag menu,
    /// read at once on three pooled connections, so the page waits for the slowest
    /// read rather than their sum.
    pub async fn page(
        self,
        query: &ContactQuery,
        top: i64,
    ) -> Result<(ContactListPage, Vec<ContactListItem>, Vec<String>), DomainError> {
        tokio::try_join!(self.list(query), self.top(top), self.tags())
    }

    /// The strongest relationships, for the strip above the list.
    pub async fn top(self, limit: i64) -> Result<Vec<ContactListItem>, DomainError> {
        let mut rows = QueryBuilder::<Postgres>::new(
            "with page as (select s.user_id, s.contact_id, s.strength, s.email_count,
                    s.last_interaction_at, s.unanswered_inbound,
                    row_number() over (order by s.strength desc, s.contact_id) as n
               from contact_stats s where s.user_id = ",
        );
        // The limit is written into the statement, not bound: with only the user as a
        // parameter Postgres keeps one generic plan instead of planning every call
        // (half a millisecond, on every contacts page).
        rows.push_bind(self.user.0)
            .push(format!(
                " and s.listed and s.strength > 0 order by s.strength desc, s.contact_id limit {limit}"
            ))
            .push(") ")
            .push(PAGE_COLUMNS);
        Ok(rows
            .build_query_as::<ContactListItem>()
            .fetch_all(self.pool)
            .await?)
    }

    /// Adds `tag` to each of `contacts` that belongs to the user; returns how many
    /// changed. Contacts that are not the user's are skipped, never touched.
    pub async fn tag(self, contacts: &[Uuid], tag: &str) -> Result<u64, DomainError> {
        let tag = parse_tag(tag)?;
        let updated = sqlx::query!(
            r#"update contacts
               set tags = array_append(tags, $3),
                   field_sources = field_sources || jsonb_build_object(
                     'tags', jsonb_build_object('source', 'user', 'at', now()))
               where user_id = $1 and id = any($2) and merged_into is null
                 and not (tags @> array[$3]::text[])"#,
            self.user.0,
            contacts,
            tag,
        )
        .execute(self.pool)
        .await?;
        Ok(updated.rows_affected())
    }

    /// Exactly how many contacts the user has (merged-away ones not counted): a scan of
    /// them all, for a question asked once, not for the list.
    pub async fn count(self) -> Result<i64, DomainError> {
        Ok(sqlx::query_scalar!(
            r#"select count(*) as "count!" from contact_stats where user_id = $1 and listed"#,
            self.user.0,
        )
        .fetch_one(self.pool)
        .await?)
    }

    /// Every tag on the user's listed contacts, A to Z, for the filter menu: one index
    /// descent per tag in `contact_tags` (each step finds the next tag after the last),
    /// however many contacts carry them.
    pub async fn tags(self) -> Result<Vec<String>, DomainError> {
        Ok(sqlx::query_scalar!(
            r#"with recursive menu as (
                 select min(tag) as tag from contact_tags where user_id = $1
                 union all
                 select (select min(t.tag) from contact_tags t
                          where t.user_id = $1 and t.tag > menu.tag)
                 from menu where menu.tag is not null
               )
               select tag as "tag!" from menu where tag is not null"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?)
    }
}

/// What a search box text matches in `contact_stats.search_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SearchText {
    /// `%text%`: anywhere, for three characters or more (the trigram index needs three).
    Substring(String),
    /// The start of any word, for one or two characters, where "anywhere" would match
    /// nearly everyone: `ab` finds Abbott and abby@example.com, not Rabbit.
    WordStart { first: String, inner: String },
}

impl SearchText {
    /// Lowercased and trimmed, LIKE's wildcards escaped; `None` when blank.
    fn parse(search: &str) -> Option<Self> {
        let text: String = search
            .trim()
            .to_lowercase()
            .chars()
            .take(MAX_SEARCH_CHARS)
            .collect();
        if text.is_empty() {
            return None;
        }
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        Some(if text.chars().count() < 3 {
            Self::WordStart {
                first: format!("{escaped}%"),
                inner: format!("% {escaped}%"),
            }
        } else {
            Self::Substring(format!("%{escaped}%"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_texts_escape_wildcards() {
        assert_eq!(SearchText::parse("  "), None);
        assert_eq!(
            SearchText::parse(" Ada "),
            Some(SearchText::Substring("%ada%".into()))
        );
        assert_eq!(
            SearchText::parse("50%_x"),
            Some(SearchText::Substring("%50\\%\\_x%".into()))
        );
    }

    #[test]
    fn short_searches_match_word_starts() {
        assert_eq!(
            SearchText::parse("Ab"),
            Some(SearchText::WordStart {
                first: "ab%".into(),
                inner: "% ab%".into()
            })
        );
        assert_eq!(
            SearchText::parse("%"),
            Some(SearchText::WordStart {
                first: "\\%%".into(),
                inner: "% \\%%".into()
            })
        );
    }

    #[test]
    fn known_pages_stop_at_the_count_limit() {
        assert_eq!(ListTotal::Exactly(0).known_pages(), 1);
        assert_eq!(ListTotal::Exactly(50).known_pages(), 1);
        assert_eq!(ListTotal::Exactly(51).known_pages(), 2);
        assert_eq!(ListTotal::MoreThan(COUNT_LIMIT).known_pages(), 20);
    }

    #[test]
    fn unknown_sorts_fall_back_to_strength() {
        for sort in [
            ContactSort::Strength,
            ContactSort::Recent,
            ContactSort::MostEmails,
            ContactSort::Name,
        ] {
            assert_eq!(ContactSort::from_param(sort.as_str()), sort);
        }
        assert_eq!(ContactSort::from_param("bogus"), ContactSort::Strength);
    }
}
