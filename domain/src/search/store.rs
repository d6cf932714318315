//! The search query, bound to the acting user: the tsquery is built first (by
//! `search_tsquery`, so the words are stemmed exactly like the documents), then the
//! page is read with that tsquery as a constant, planned for it: a common word walks
//! the user's newest entries until the window is full, a rare one reads the GIN index.

use api::Channel;
use api::inbox::Sender;
use api::search::{PAGE_SIZE, SearchHit, SearchPage};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::highlight::{self, START, STOP};
use super::{RANK_WINDOW, SearchQuery};
use crate::DomainError;
use crate::db::scopes::SearchScope;

struct Row {
    id: Uuid,
    channel: Channel,
    occurred_at: DateTime<Utc>,
    headline: String,
    snippet: String,
    sender_address: Option<String>,
    sender_name: Option<String>,
    contact_id: Option<Uuid>,
}

impl From<Row> for SearchHit {
    fn from(row: Row) -> Self {
        Self {
            href: api::inbox::open_href(row.channel, row.id, row.contact_id),
            headline: highlight::fragments(&row.headline),
            snippet: highlight::fragments(&row.snippet),
            sender: row.sender_address.map(|address| Sender {
                name: row.sender_name,
                address,
                contact_id: row.contact_id,
            }),
            id: row.id,
            channel: row.channel,
            occurred_at: row.occurred_at,
        }
    }
}

/// What a search's words and operators match, as `search_tsquery` built it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Matching {
    /// Only stop words: nothing can match.
    Nothing,
    /// Everything in the query's dates: it has no words or operators, only `after:` /
    /// `before:`.
    Everything,
    /// What this tsquery (its text) matches.
    Tsquery(String),
}

impl Matching {
    /// The tsquery's text, bound as `$n::text` and cast where it is used.
    pub(crate) fn tsquery(&self) -> Option<&str> {
        match self {
            Self::Tsquery(tsquery) => Some(tsquery),
            Self::Nothing | Self::Everything => None,
        }
    }
}

impl SearchQuery {
    /// A transaction whose statements are each planned for their own values, never
    /// with a cached generic plan (a plan for a rare word is wrong for a common one),
    /// and what the query matches, read in the same round trip. The tsquery is built by
    /// `search_tsquery`, so the words are stemmed exactly like the documents, and is
    /// then bound to the search as a constant its plan can see.
    pub(crate) async fn begin_planned(
        &self,
        pool: &sqlx::PgPool,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, Matching), DomainError> {
        let mut tx = pool.begin().await?;
        let tsquery = sqlx::query_scalar!(
            r#"select search_tsquery($1, $2, $3, $4, $5, $6)::text
               from (select set_config('plan_cache_mode', 'force_custom_plan', true)) planned"#,
            &self.words,
            &self.phrases,
            &self.from,
            &self.to,
            &self.channel_names(),
            self.has_attachment,
        )
        .fetch_one(&mut *tx)
        .await?;
        let matching = match tsquery {
            Some(tsquery) => Matching::Tsquery(tsquery),
            None if self.after.is_some() || self.before.is_some() => Matching::Everything,
            None => Matching::Nothing,
        };
        Ok((tx, matching))
    }
}

impl SearchScope<'_> {
    /// Page `page` (from 1) of the results of `query`.
    pub async fn page(self, query: &SearchQuery, page: u32) -> Result<SearchPage, DomainError> {
        let offset = (page.max(1) as usize - 1) * PAGE_SIZE;
        let limit = PAGE_SIZE.min(RANK_WINDOW.saturating_sub(offset));
        let mut rows = self.rows(query, offset, limit + 1).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        Ok(SearchPage {
            hits: rows.into_iter().map(SearchHit::from).collect(),
            page: page.max(1),
            more,
            now: Utc::now(),
        })
    }

    async fn rows(
        self,
        query: &SearchQuery,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Row>, DomainError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (mut tx, matching) = query.begin_planned(self.pool).await?;
        if matching == Matching::Nothing {
            return Ok(Vec::new());
        }
        let marks = format!("{START}{STOP}");
        // The window is chosen and ordered by time on narrow rows (where each entry is,
        // not its document): sorting 1,000 of 4,000 matches with their documents took a
        // third of a rare word's search. Only the window's documents are then read, by
        // their place in the table, to rank them.
        let rows = sqlx::query_as!(
            Row,
            r#"with candidates as materialized (
                 select s.ctid as entry, s.activity_id, s.occurred_at
                 from activity_search s
                 where s.user_id = $1
                   and ($2::text is null or s.doc @@ $2::tsquery)
                   and s.occurred_at >= coalesce($3::timestamptz, '-infinity')
                   and s.occurred_at < coalesce($4::timestamptz, 'infinity')
                 order by s.occurred_at desc
                 limit $5
               ), ranked as (
                 select c.activity_id, c.occurred_at, coalesce(ts_rank(s.doc, $2::tsquery), 0) as rank
                 from candidates c
                 left join activity_search s on $2::text is not null and s.ctid = c.entry
                 order by rank desc, c.occurred_at desc, c.activity_id desc
                 offset $6 limit $7
               )
               select a.id, a.channel as "channel: Channel", a.occurred_at,
                      case when $2::text is null
                           then translate(coalesce(nullif(btrim(a.subject), ''), a.snippet, '(no subject)'), $8, '')
                           else ts_headline('english',
                                  translate(coalesce(nullif(btrim(a.subject), ''), a.snippet, '(no subject)'), $8, ''),
                                  $2::tsquery, $9)
                      end as "headline!",
                      case when $2::text is null
                           then left(translate(coalesce(a.snippet, ''), $8, ''), 200)
                           else ts_headline('english',
                                  translate(left(coalesce(a.body_text, a.snippet, ''), 10000), $8, ''),
                                  $2::tsquery, $10)
                      end as "snippet!",
                      s.address as "sender_address?",
                      coalesce(c.display_name, s.display_name) as "sender_name?",
                      c.id as "contact_id?"
               from ranked r
               join activities a on a.user_id = $1 and a.id = r.activity_id
               left join lateral (
                 select p.address, p.display_name, p.contact_id from activity_participants p
                 where p.activity_id = a.id and p.user_id = $1
                 order by p.role = 'from' desc, p.role = 'organizer' desc, p.role, p.address
                 limit 1) s on true
               left join contacts c on c.user_id = $1 and c.id = s.contact_id
               order by r.rank desc, r.occurred_at desc, r.activity_id desc"#,
            self.user.0,
            matching.tsquery(),
            query.after_instant(),
            query.before_instant(),
            RANK_WINDOW as i64,
            offset as i64,
            limit as i64,
            marks,
            highlight::options(false),
            highlight::options(true),
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows)
    }
}
