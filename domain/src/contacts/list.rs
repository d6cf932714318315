//! The contacts list: search, filters, sort, pages of at most [`PAGE_SIZE`], the top
//! contacts strip and bulk tagging.

use chrono::{DateTime, Datelike, Utc};
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

impl ContactQuery {
    /// What the search box's text matches, when it has any.
    fn search_text(&self) -> Option<SearchText> {
        self.search.as_deref().and_then(SearchText::parse)
    }

    /// Whether a filter other than the tag applies.
    fn filtered_beyond_tag(&self) -> bool {
        self.search_text().is_some()
            || self.company.is_some()
            || self.unanswered
            || self.last_from.is_some()
            || self.last_to.is_some()
    }
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
    /// Contacts matching the query, counted up to [`COUNT_LIMIT`]; a search's only up to
    /// the end of this page (they read one row past it).
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

/// How a page learns how many contacts match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tally {
    /// Counted in the page's statement, up to [`COUNT_LIMIT`], from an index's entries.
    InStatement,
    /// Not counted unless the page is the last: one row past the page says whether
    /// another follows. Searches, and a tag with other filters, have no index to count
    /// from: counting `q=company17`'s 2,200 matches among 100,000 contacts up to the
    /// limit took 3.7 ms (the trigram index lists every candidate, each read and
    /// rechecked), several times the page itself, on every full page of results.
    LookAhead,
}

impl Tally {
    fn of(query: &ContactQuery) -> Self {
        if query.search_text().is_some() || (query.tag.is_some() && query.filtered_beyond_tag()) {
            Self::LookAhead
        } else {
            Self::InStatement
        }
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

/// The list's columns for one page of `contact_stats` rows (`page`); a statement may add
/// columns of its own between these and [`PAGE_FROM`].
const PAGE_COLUMNS: &str =
    "select c.id, c.display_name, c.company_id, co.name as company, c.title, c.tags,
        page.strength, page.email_count, page.last_interaction_at, page.unanswered_inbound,
        (select ci.value from contact_identities ci
          where ci.user_id = c.user_id and ci.contact_id = c.id and ci.kind = 'email'
          order by ci.created_at, ci.value limit 1) as primary_email";

/// The joins of [`PAGE_COLUMNS`], in the page's order.
const PAGE_FROM: &str = " from page
   join contacts c on c.user_id = page.user_id and c.id = page.contact_id
   left join companies co on co.user_id = c.user_id and co.id = c.company_id
  order by page.n";

/// A row of a page, with how many contacts match when the statement counted them.
#[derive(sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    item: ContactListItem,
    matching: Option<i64>,
}

/// A row of the top strip, with the tag menu (the same on every row).
#[derive(sqlx::FromRow)]
struct StripRow {
    #[sqlx(flatten)]
    item: ContactListItem,
    menu: Vec<String>,
}

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
        let tally = Tally::of(query);
        // A look-ahead page reads one row more than it shows: that row says whether
        // another page follows.
        let rows_read = match tally {
            Tally::InStatement => PAGE_SIZE,
            Tally::LookAhead => PAGE_SIZE + 1,
        };
        let mut rows = QueryBuilder::<Postgres>::new(PAGE_ROWS);
        rows.push(order).push(") as n from ");
        match MonthWalk::of(query, page) {
            Some(walk) => self.push_month_walk(&mut rows, walk),
            None => {
                rows.push("contact_stats s");
                self.push_filters(&mut rows, query);
            }
        }
        // The limit and offset are written into the statement, not bound (they are
        // numbers computed here): with them as parameters Postgres planned every call
        // anew (half a millisecond of each list) rather than keep one plan per page.
        rows.push(" order by ")
            .push(order)
            .push(format_args!(
                " limit {rows_read} offset {}) ",
                (page - 1).saturating_mul(PAGE_SIZE)
            ))
            .push(PAGE_COLUMNS)
            .push(", ");
        match tally {
            Tally::InStatement => self.push_count(&mut rows, query),
            Tally::LookAhead => {
                rows.push("null::int8");
            }
        }
        rows.push(" as matching").push(PAGE_FROM);
        let mut read = rows
            .build_query_as::<CountedRow>()
            .fetch_all(self.pool)
            .await?;
        let matching = read.first().and_then(|row| row.matching);
        let more = read.len() as i64 > PAGE_SIZE;
        read.truncate(PAGE_SIZE as usize);
        let contacts: Vec<ContactListItem> = read.into_iter().map(|row| row.item).collect();

        let before = (page - 1) * PAGE_SIZE;
        let shown = contacts.len() as i64;
        // A page that is neither full nor past the end is the last one: it gives the
        // count. So does a look-ahead page without a row after it (`more` is false).
        let last = tally == Tally::LookAhead || shown < PAGE_SIZE;
        let total = if more {
            ListTotal::MoreThan(before + PAGE_SIZE)
        } else if last && (shown > 0 || page == 1) {
            ListTotal::Exactly(before + shown)
        } else {
            // A full page of a counted list, or a page past the end (an old link).
            let counted = match matching {
                Some(matching) => matching,
                None => {
                    let mut count = QueryBuilder::<Postgres>::new("select ");
                    self.push_count(&mut count, query);
                    count.build_query_scalar().fetch_one(self.pool).await?
                }
            };
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

    /// The rows of a [`MonthWalk`]: for each month of the range, its strongest contacts
    /// last seen in the range (a descent of `contact_list_by_month` and at most a page's
    /// end of entries), merged by strength by the outer query.
    fn push_month_walk(self, sql: &mut QueryBuilder<'_, Postgres>, walk: MonthWalk) {
        sql.push("generate_series(date_trunc('month', ")
            .push_bind(walk.from)
            .push(" at time zone 'UTC'), ")
            .push_bind(walk.to)
            .push(
                " at time zone 'UTC', interval '1 month') as walked(month)
             cross join lateral (
               select m.user_id, m.contact_id, m.strength, m.email_count,
                      m.last_interaction_at, m.unanswered_inbound
                 from contact_stats m
                where m.user_id = ",
            )
            .push_bind(self.user.0)
            .push(
                " and m.listed and m.last_month = walked.month::date and m.last_interaction_at >= ",
            )
            .push_bind(walk.from)
            .push(" and m.last_interaction_at < ")
            .push_bind(walk.to)
            .push(format_args!(
                " order by m.strength desc, m.contact_id limit {}) s",
                walk.rows_each
            ));
    }

    /// How many contacts match `query`, up to one past [`COUNT_LIMIT`], as an expression:
    /// read in the order of the index that holds the filter's entries, so that Postgres
    /// counts index entries (an index-only scan) rather than reading a row of
    /// `contact_stats` per match (a sequential scan of the user's rows was 0.6 ms at
    /// 100,000 contacts against 0.2 ms for the index).
    fn push_count<'q>(self, sql: &mut QueryBuilder<'q, Postgres>, query: &'q ContactQuery) {
        if let Some(tag) = &query.tag
            && !query.filtered_beyond_tag()
        {
            // A tag's listed contacts are the tag's entries in `contact_tags`.
            sql.push("(select count(*) from (select 1 from contact_tags t where t.user_id = ")
                .push_bind(self.user.0)
                .push(" and t.tag = ")
                .push_bind(tag.as_str())
                .push(format_args!(" limit {}) matches)", COUNT_LIMIT + 1));
            return;
        }
        let order = if query.last_from.is_some() || query.last_to.is_some() {
            "s.last_interaction_at desc nulls last, s.contact_id"
        } else {
            "s.strength desc, s.contact_id"
        };
        sql.push("(select count(*) from (select 1 from contact_stats s");
        self.push_filters(sql, query);
        sql.push(format_args!(
            " order by {order} limit {}) matches)",
            COUNT_LIMIT + 1
        ));
    }

    fn push_filters<'q>(self, sql: &mut QueryBuilder<'q, Postgres>, query: &'q ContactQuery) {
        sql.push(" where s.user_id = ")
            .push_bind(self.user.0)
            .push(" and s.listed");
        match query.search_text() {
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
    /// read at once on two pooled connections, so the page waits for the slower read
    /// rather than their sum.
    pub async fn page(
        self,
        query: &ContactQuery,
        top: i64,
    ) -> Result<(ContactListPage, Vec<ContactListItem>, Vec<String>), DomainError> {
        let (page, (top, tags)) = tokio::try_join!(self.list(query), self.strip(top))?;
        Ok((page, top, tags))
    }

    /// The strongest relationships, for the strip above the list, and the tag menu: one
    /// statement for both (each is on every contacts page), unless the strip is empty.
    pub async fn strip(
        self,
        limit: i64,
    ) -> Result<(Vec<ContactListItem>, Vec<String>), DomainError> {
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
            .push(PAGE_COLUMNS)
            .push(", (");
        self.push_tag_menu(&mut rows);
        rows.push(") as menu").push(PAGE_FROM);
        let rows = rows
            .build_query_as::<StripRow>()
            .fetch_all(self.pool)
            .await?;
        let Some(menu) = rows.first().map(|row| row.menu.clone()) else {
            return Ok((Vec::new(), self.tags().await?));
        };
        Ok((rows.into_iter().map(|row| row.item).collect(), menu))
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

    /// Every tag on the user's listed contacts, A to Z, for the filter menu.
    pub async fn tags(self) -> Result<Vec<String>, DomainError> {
        let mut menu = QueryBuilder::<Postgres>::new("");
        self.push_tag_menu(&mut menu);
        Ok(menu.build_query_scalar().fetch_one(self.pool).await?)
    }

    /// The tag menu as a statement giving one array: one index descent per tag in
    /// `contact_tags` (each step finds the next tag after the last), however many
    /// contacts carry them.
    fn push_tag_menu(self, sql: &mut QueryBuilder<'_, Postgres>) {
        sql.push(
            "with recursive menu as (select min(tag) as tag from contact_tags where user_id = ",
        )
        .push_bind(self.user.0)
        .push(" union all select (select min(t.tag) from contact_tags t where t.user_id = ")
        .push_bind(self.user.0)
        .push(
            " and t.tag > menu.tag) from menu where menu.tag is not null)
                 select array(select tag from menu where tag is not null order by tag)",
        );
    }
}

/// The default sort (strength) of contacts last seen in a date range, read month by
/// month. Strength follows recency, so contacts last seen in a past range are the
/// weakest: walking the strength index and skipping everyone seen since read about a
/// third of the user's contacts before a page was found, at any size.
/// Each month of `contact_stats.last_month` is instead its own strength-ordered run of
/// `contact_list_by_month`, and a page needs at most a page's end from each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MonthWalk {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Rows read from each month: the end of the wanted page.
    rows_each: i64,
}

/// Most index entries a month walk may read; past that (long ranges, deep pages) the
/// strength index is walked instead.
const MONTH_WALK_ROWS: i64 = 5_000;

impl MonthWalk {
    /// The walk for `query`'s page, when the range is its only filter, it is sorted by
    /// strength and the walk stays within [`MONTH_WALK_ROWS`].
    fn of(query: &ContactQuery, page: i64) -> Option<Self> {
        let (Some(from), Some(to)) = (query.last_from, query.last_to) else {
            return None;
        };
        let only_the_range = query.sort == ContactSort::Strength
            && query.search_text().is_none()
            && query.company.is_none()
            && query.tag.is_none()
            && !query.unanswered;
        if !only_the_range || from >= to {
            return None;
        }
        let month = |t: DateTime<Utc>| i64::from(t.year()) * 12 + i64::from(t.month0());
        let months = month(to) - month(from) + 1;
        let rows_each = page.saturating_mul(PAGE_SIZE);
        (months.saturating_mul(rows_each) <= MONTH_WALK_ROWS).then_some(Self {
            from,
            to,
            rows_each,
        })
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
    fn month_walks_are_for_a_range_alone_by_strength_within_the_budget() {
        let at = |y, m, d| chrono::TimeZone::with_ymd_and_hms(&Utc, y, m, d, 0, 0, 0).unwrap();
        let range = ContactQuery {
            last_from: Some(at(2026, 1, 15)),
            last_to: Some(at(2026, 6, 30)),
            ..ContactQuery::default()
        };
        assert_eq!(
            MonthWalk::of(&range, 2),
            Some(MonthWalk {
                from: at(2026, 1, 15),
                to: at(2026, 6, 30),
                rows_each: 100
            }),
            "six months, two pages' rows from each"
        );
        assert_eq!(
            MonthWalk::of(&range, 17),
            None,
            "6 x 850 rows is past the budget"
        );
        let seven_years = ContactQuery {
            last_from: Some(at(2019, 7, 1)),
            ..range.clone()
        };
        assert_eq!(
            MonthWalk::of(&seven_years, 1).map(|w| w.rows_each),
            Some(50)
        );
        assert_eq!(MonthWalk::of(&seven_years, 2), None);
        for other in [
            ContactQuery {
                last_to: None,
                ..range.clone()
            },
            ContactQuery {
                last_from: Some(at(2026, 7, 1)),
                ..range.clone()
            },
            ContactQuery {
                sort: ContactSort::Name,
                ..range.clone()
            },
            ContactQuery {
                search: Some("ada".into()),
                ..range.clone()
            },
            ContactQuery {
                tag: Some("vip".into()),
                ..range.clone()
            },
            ContactQuery {
                unanswered: true,
                ..range.clone()
            },
            ContactQuery {
                company: Some(Uuid::nil()),
                ..range.clone()
            },
        ] {
            assert_eq!(MonthWalk::of(&other, 1), None, "{other:?}");
        }
        let blank_search = ContactQuery {
            search: Some("  ".into()),
            ..range.clone()
        };
        assert!(MonthWalk::of(&blank_search, 1).is_some());
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
