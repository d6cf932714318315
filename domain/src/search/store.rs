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

impl SearchQuery {
    /// The query's words and operators as a tsquery's text (built by `search_tsquery`,
    /// which stems them like the documents), `Some(None)` for a query that is only a
    /// date range, and `None` when nothing can match (only stop words).
    pub(crate) async fn tsquery(
        &self,
        conn: &mut sqlx::PgConnection,
    ) -> Result<Option<Option<String>>, DomainError> {
        let tsquery = sqlx::query_scalar!(
            r#"select search_tsquery($1, $2, $3, $4, $5, $6)::text"#,
            &self.words,
            &self.phrases,
            &self.from,
            &self.to,
            &self.channel_names(),
            self.has_attachment,
        )
        .fetch_one(conn)
        .await?;
        let dated = self.after.is_some() || self.before.is_some();
        Ok((tsquery.is_some() || dated).then_some(tsquery))
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
        let mut tx = self.pool.begin().await?;
        // A plan for a rare word is wrong for a common one: plan each search for its own
        // tsquery, never with a cached generic plan.
        sqlx::query!("set local plan_cache_mode = force_custom_plan")
            .execute(&mut *tx)
            .await?;
        let Some(tsquery) = query.tsquery(&mut tx).await? else {
            return Ok(Vec::new());
        };
        let marks = format!("{START}{STOP}");
        let rows = sqlx::query_as!(
            Row,
            r#"with candidates as materialized (
                 select s.activity_id, s.occurred_at, s.doc
                 from activity_search s
                 where s.user_id = $1
                   and ($2::text is null or s.doc @@ $2::tsquery)
                   and s.occurred_at >= coalesce($3::timestamptz, '-infinity')
                   and s.occurred_at < coalesce($4::timestamptz, 'infinity')
                 order by s.occurred_at desc
                 limit $5
               ), ranked as (
                 select activity_id, occurred_at,
                        case when $2::text is null then 0 else ts_rank(doc, $2::tsquery) end as rank
                 from candidates
                 order by rank desc, occurred_at desc, activity_id desc
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
            tsquery.as_deref(),
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
