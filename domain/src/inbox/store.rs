//! The inbox's reads and state changes, all bound to the acting user. The list's
//! `where` repeats the `activities_inbox` index's predicate word for word so the planner
//! can prove the partial index applies.

use api::Channel;
use api::events::{Event, InboxChangedPayload};
use api::inbox::{InboxItem, InboxPage, Sender};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Cursor, InboxQuery};
use crate::DomainError;
use crate::db::scopes::InboxScope;
use crate::search::Matching;

/// One row as read, before it becomes an [`InboxItem`].
struct Row {
    id: Uuid,
    channel: Channel,
    occurred_at: DateTime<Utc>,
    subject: Option<String>,
    snippet: Option<String>,
    unread: bool,
    sender_address: Option<String>,
    sender_name: Option<String>,
    contact_id: Option<Uuid>,
}

impl From<Row> for InboxItem {
    fn from(row: Row) -> Self {
        let headline = crate::activities::headline(row.subject.as_deref(), row.snippet.as_deref());
        Self {
            href: api::inbox::open_href(row.channel, row.id, row.contact_id),
            snippet: row.snippet.filter(|s| *s != headline),
            headline,
            sender: row.sender_address.map(|address| Sender {
                name: row.sender_name,
                address,
                contact_id: row.contact_id,
            }),
            id: row.id,
            channel: row.channel,
            occurred_at: row.occurred_at,
            unread: row.unread,
        }
    }
}

/// Where the first page starts: after every real row. A sentinel instead of an
/// optional cursor keeps the keyset comparison an index condition in every plan.
fn start(after: Option<Cursor>) -> Cursor {
    after.unwrap_or(Cursor {
        occurred_at: DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31"),
        id: Uuid::max(),
    })
}

impl InboxScope<'_> {
    /// One page of the inbox, newest first.
    pub async fn page(self, query: &InboxQuery) -> Result<InboxPage, DomainError> {
        let after = start(query.after);
        let channels: Vec<String> = query
            .channels
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        let limit = query.limit as i64 + 1;
        let mut rows = match &query.search {
            None => {
                sqlx::query_as!(
                    Row,
                    r#"select a.id, a.channel as "channel: Channel", a.occurred_at, a.subject, a.snippet,
                              (a.read_at is null and (a.channel <> 'email' or 'UNREAD' = any(a.labels))) as "unread!",
                              s.address as "sender_address?",
                              coalesce(c.display_name, s.display_name) as "sender_name?",
                              c.id as "contact_id?"
                       from activities a
                       left join lateral (
                         select p.address, p.display_name, p.contact_id from activity_participants p
                         where p.activity_id = a.id and p.user_id = $1
                         order by p.role = 'from' desc, p.role = 'organizer' desc, p.role, p.address
                         limit 1) s on true
                       left join contacts c on c.user_id = $1 and c.id = s.contact_id
                       where a.user_id = $1
                         and a.done_at is null and a.dismissed_at is null and a.deleted_at is null
                         and (a.direction = 'inbound' or a.channel = 'meeting')
                         and (a.occurred_at, a.id) < ($2, $3)
                         and (cardinality($4::text[]) = 0 or a.channel = any($4))
                         and (not $5 or (a.read_at is null and (a.channel <> 'email' or 'UNREAD' = any(a.labels))))
                       order by a.occurred_at desc, a.id desc
                       limit $6"#,
                    self.user.0,
                    after.occurred_at,
                    after.id,
                    &channels,
                    query.unread_only,
                    limit,
                )
                .fetch_all(self.pool)
                .await?
            }
            Some(search) => {
                // Planned for its own tsquery: a common word walks the inbox index
                // newest first and checks each row's document; a rare one reads the
                // search index.
                let (mut tx, matching) = search.begin_planned(self.pool).await?;
                if matching == Matching::Nothing {
                    return Ok(InboxPage {
                        items: Vec::new(),
                        now: Utc::now(),
                        next: None,
                    });
                }
                let rows = sqlx::query_as!(
                    Row,
                    r#"with page as (
                         select a.id from activities a
                         join activity_search s on s.activity_id = a.id and s.user_id = $1
                         where a.user_id = $1
                           and a.done_at is null and a.dismissed_at is null and a.deleted_at is null
                           and (a.direction = 'inbound' or a.channel = 'meeting')
                           and (a.occurred_at, a.id) < ($2, $3)
                           and (cardinality($4::text[]) = 0 or a.channel = any($4))
                           and (not $5 or (a.read_at is null and (a.channel <> 'email' or 'UNREAD' = any(a.labels))))
                           and ($7::text is null or s.doc @@ $7::tsquery)
                           and a.occurred_at >= coalesce($8::timestamptz, '-infinity')
                           and a.occurred_at < coalesce($9::timestamptz, 'infinity')
                         order by a.occurred_at desc, a.id desc
                         limit $6
                       )
                       select a.id, a.channel as "channel: Channel", a.occurred_at, a.subject, a.snippet,
                              (a.read_at is null and (a.channel <> 'email' or 'UNREAD' = any(a.labels))) as "unread!",
                              s.address as "sender_address?",
                              coalesce(c.display_name, s.display_name) as "sender_name?",
                              c.id as "contact_id?"
                       from activities a
                       left join lateral (
                         select p.address, p.display_name, p.contact_id from activity_participants p
                         where p.activity_id = a.id and p.user_id = $1
                         order by p.role = 'from' desc, p.role = 'organizer' desc, p.role, p.address
                         limit 1) s on true
                       left join contacts c on c.user_id = $1 and c.id = s.contact_id
                       where a.user_id = $1
                         and a.id in (select id from page)
                       order by a.occurred_at desc, a.id desc"#,
                    self.user.0,
                    after.occurred_at,
                    after.id,
                    &channels,
                    query.unread_only,
                    limit,
                    matching.tsquery(),
                    search.after_instant(),
                    search.before_instant(),
                )
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                rows
            }
        };
        let next = (rows.len() > query.limit).then(|| {
            rows.truncate(query.limit);
            let last = rows.last().expect("a full page");
            Cursor {
                occurred_at: last.occurred_at,
                id: last.id,
            }
            .to_string()
        });
        Ok(InboxPage {
            now: Utc::now(),
            items: rows.into_iter().map(Into::into).collect(),
            next,
        })
    }

    /// Opens an item: marks it read and returns where it opens. `NotFound` for an
    /// activity that is not this user's, or was dismissed.
    pub async fn open(self, activity: Uuid) -> Result<String, DomainError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query!(
            r#"with opened as (
                 select id, channel, read_at from activities
                 where user_id = $1 and id = $2 and dismissed_at is null
                 for update
               ), marked as (
                 update activities a set read_at = now()
                 from opened where a.id = opened.id and opened.read_at is null
                 returning a.id
               )
               select o.channel as "channel: Channel",
                      exists (select 1 from marked) as "marked!",
                      (select p.contact_id from activity_participants p
                        where p.user_id = $1 and p.activity_id = o.id and p.contact_id is not null
                        order by p.role = 'from' desc, p.role = 'organizer' desc, p.role, p.address
                        limit 1) as "contact?"
               from opened o"#,
            self.user.0,
            activity,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("activity"))?;
        if row.marked {
            self.announce(&mut tx, activity).await?;
        }
        tx.commit().await?;
        Ok(api::inbox::open_href(row.channel, activity, row.contact))
    }

    /// Marks an item done: it leaves the inbox and stays on the timeline.
    pub async fn done(self, activity: Uuid) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query_scalar!(
            r#"update activities set done_at = coalesce(done_at, now())
               where user_id = $1 and id = $2 and dismissed_at is null
               returning id"#,
            self.user.0,
            activity,
        )
        .fetch_optional(&mut *tx)
        .await?;
        self.commit_change(tx, changed, activity).await
    }

    /// Undoes [`Self::done`]: the item is back in the inbox.
    pub async fn undo_done(self, activity: Uuid) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query_scalar!(
            r#"update activities set done_at = null
               where user_id = $1 and id = $2 and dismissed_at is null
               returning id"#,
            self.user.0,
            activity,
        )
        .fetch_optional(&mut *tx)
        .await?;
        self.commit_change(tx, changed, activity).await
    }

    /// Dismisses an item: it leaves the inbox and the timeline for good (nothing clears
    /// `dismissed_at`, so syncing it again does not bring it back).
    pub async fn dismiss(self, activity: Uuid) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query_scalar!(
            r#"update activities set dismissed_at = coalesce(dismissed_at, now())
               where user_id = $1 and id = $2
               returning id"#,
            self.user.0,
            activity,
        )
        .fetch_optional(&mut *tx)
        .await?;
        self.commit_change(tx, changed, activity).await
    }

    /// After a state change (`changed`: the updated row, none when the activity is not
    /// this user's or was dismissed): tells the user's other tabs (`inbox.changed`) and
    /// commits.
    async fn commit_change(
        self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        changed: Option<Uuid>,
        activity: Uuid,
    ) -> Result<(), DomainError> {
        changed.ok_or(DomainError::NotFound("activity"))?;
        self.announce(&mut tx, activity).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Tells the user's other tabs (`inbox.changed`).
    async fn announce(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        activity: Uuid,
    ) -> Result<(), DomainError> {
        let event = Event::InboxChanged(InboxChangedPayload {
            activity_ids: vec![activity],
        });
        self.events().record(tx, &event).await?;
        Ok(())
    }
}
