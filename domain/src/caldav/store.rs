//! Writing calendar objects as `meeting` activities. One object (one `.ics`) is written
//! in one transaction: its instances, their participants and `caldav_instances` rows,
//! and its `caldav_objects` row, so a bad object never costs the others.
//!
//! Rules: a CANCELLED instance is not stored, and a stored one is marked cancelled
//! (kept, shown as cancelled, not counted). An instance that is gone from the object is
//! deleted when it was still to come and kept when it is past. A dismissed activity is
//! never deleted, and the upsert never touches `dismissed_at`: the row stays, so a later
//! sync updates it in place instead of bringing it back.

use std::collections::HashSet;

use api::Direction;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::client::CalendarObject;
use super::ical::{CalendarPerson, EventInstance, EventStatus, IcalError};
use crate::db::scopes::CalendarsScope;

/// What subject a cancelled meeting shows.
const CANCELLED_PREFIX: &str = "Cancelled: ";

/// The calendar an object belongs to, with what storing needs.
#[derive(Debug, Clone)]
pub(super) struct CalendarTarget {
    pub id: Uuid,
    pub account_id: Uuid,
    /// Lower-cased addresses of the user (sign-in email, CalDAV user name): a meeting
    /// they organize is outbound.
    pub owner: Vec<String>,
}

/// What storing one object did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectOutcome {
    pub stored: usize,
    pub cancelled: usize,
    pub deleted: usize,
    pub failed: usize,
}

impl ObjectOutcome {
    pub fn add(&mut self, other: ObjectOutcome) {
        self.stored += other.stored;
        self.cancelled += other.cancelled;
        self.deleted += other.deleted;
        self.failed += other.failed;
    }
}

/// How an object's instances are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Write {
    /// New ETag: every instance is written again (and processed again).
    Changed,
    /// Same ETag, re-expanded for a new window: only instances new to the window are
    /// added.
    NewOnly,
}

impl CalendarsScope<'_> {
    /// Stores one object's parse result. A parse error is recorded on the object and its
    /// stored instances are left as they were.
    pub(super) async fn store_object(
        self,
        target: &CalendarTarget,
        object: &CalendarObject,
        parsed: Result<Vec<EventInstance>, IcalError>,
        write: Write,
        now: DateTime<Utc>,
    ) -> Result<ObjectOutcome, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let CalendarObject { href, etag, data } = object;
        let error = parsed.as_ref().err().map(ToString::to_string);
        sqlx::query!(
            r#"insert into caldav_objects (calendar_id, user_id, href, etag, data, error)
               values ($1, $2, $3, $4, $5, $6)
               on conflict (calendar_id, href) do update
                 set etag = excluded.etag, data = excluded.data, error = excluded.error"#,
            target.id,
            self.user.0,
            href,
            etag,
            data,
            error,
        )
        .execute(&mut *tx)
        .await?;
        let mut outcome = ObjectOutcome::default();
        match parsed {
            Err(error) => {
                tracing::warn!(%error, href, "a calendar object could not be read");
                outcome.failed = 1;
            }
            Ok(instances) => {
                let mut kept = HashSet::new();
                for instance in &instances {
                    kept.insert(instance.external_id());
                    if instance.status == EventStatus::Cancelled {
                        outcome.cancelled += self.mark_cancelled(&mut tx, target, instance).await?;
                    } else if self
                        .upsert_instance(&mut tx, target, object, instance, write)
                        .await?
                    {
                        outcome.stored += 1;
                    }
                }
                outcome.deleted = self
                    .drop_vanished(&mut tx, target.id, href, &kept, now)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// The object is gone from the server (or from the window): its future instances go,
    /// past and dismissed ones stay.
    pub(super) async fn forget_object(
        self,
        calendar: Uuid,
        href: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let deleted = self
            .drop_vanished(&mut tx, calendar, href, &HashSet::new(), now)
            .await?;
        sqlx::query!(
            "delete from caldav_objects where user_id = $1 and calendar_id = $2 and href = $3",
            self.user.0,
            calendar,
            href,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Deletes the object's stored instances not in `kept` that start after `now` and
    /// were not dismissed.
    async fn drop_vanished(
        self,
        tx: &mut PgConnection,
        calendar: Uuid,
        href: &str,
        kept: &HashSet<String>,
        now: DateTime<Utc>,
    ) -> Result<usize, sqlx::Error> {
        let kept: Vec<String> = kept.iter().cloned().collect();
        let deleted = sqlx::query!(
            r#"delete from activities a
               using caldav_instances e
               where e.user_id = $1 and e.calendar_id = $2 and e.href = $3
                 and a.user_id = e.user_id and a.id = e.activity_id
                 and a.external_id <> all($4) and a.occurred_at > $5
                 and a.dismissed_at is null"#,
            self.user.0,
            calendar,
            href,
            &kept,
            now,
        )
        .execute(&mut *tx)
        .await?;
        Ok(deleted.rows_affected() as usize)
    }

    /// Marks a stored instance cancelled; returns 1 when one was stored.
    async fn mark_cancelled(
        self,
        tx: &mut PgConnection,
        target: &CalendarTarget,
        instance: &EventInstance,
    ) -> Result<usize, sqlx::Error> {
        let marked = sqlx::query!(
            r#"with a as (
                 update activities set subject = $4
                 where user_id = $1 and account_id = $2 and external_id = $3
                 returning id)
               update caldav_instances e set status = 'cancelled', sequence = $5
               from a where e.activity_id = a.id and e.user_id = $1"#,
            self.user.0,
            target.account_id,
            instance.external_id(),
            subject(instance),
            instance.sequence,
        )
        .execute(&mut *tx)
        .await?;
        Ok(marked.rows_affected() as usize)
    }

    /// Inserts or updates one instance with its participants. With [`Write::NewOnly`] an
    /// existing row is left alone. Returns whether anything was written.
    async fn upsert_instance(
        self,
        tx: &mut PgConnection,
        target: &CalendarTarget,
        object: &CalendarObject,
        instance: &EventInstance,
        write: Write,
    ) -> Result<bool, sqlx::Error> {
        let outbound = instance
            .organizer
            .as_ref()
            .is_none_or(|o| target.owner.contains(&o.address));
        let direction = if outbound {
            Direction::Outbound
        } else {
            Direction::Inbound
        };
        let snippet = instance.description.as_deref().map(|d| {
            d.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(200)
                .collect::<String>()
        });
        let id = sqlx::query_scalar!(
            r#"insert into activities (user_id, account_id, external_id, channel, direction,
                 occurred_at, subject, snippet, body_text, size_bytes)
               values ($1, $2, $3, 'meeting', $4, $5, $6, $7, $8, $9)
               on conflict (account_id, external_id) do update set
                 direction = excluded.direction, occurred_at = excluded.occurred_at,
                 subject = excluded.subject, snippet = excluded.snippet,
                 body_text = excluded.body_text, size_bytes = excluded.size_bytes,
                 state = case when activities.state = 'processing' then activities.state else 'raw' end,
                 attempts = 0, next_attempt_at = now(), last_error = null
               where $10
               returning id"#,
            self.user.0,
            target.account_id,
            instance.external_id(),
            direction.as_str(),
            instance.starts_at,
            subject(instance).map(|s| pg(&s)),
            snippet.as_deref().map(pg),
            instance.description.as_deref().map(pg),
            i64::try_from(object.data.len()).unwrap_or(i64::MAX),
            write == Write::Changed,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        let organizer = instance.organizer.as_ref().map(|o| serde_json::json!(o));
        sqlx::query!(
            r#"insert into caldav_instances (activity_id, user_id, calendar_id, href, uid,
                 recurrence_id, starts_at, ends_at, all_day, location, status, sequence, etag,
                 organizer, attendees)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
               on conflict (activity_id) do update set
                 calendar_id = excluded.calendar_id, href = excluded.href,
                 recurrence_id = excluded.recurrence_id, starts_at = excluded.starts_at,
                 ends_at = excluded.ends_at, all_day = excluded.all_day,
                 location = excluded.location, status = excluded.status,
                 sequence = excluded.sequence, etag = excluded.etag,
                 organizer = excluded.organizer, attendees = excluded.attendees"#,
            id,
            self.user.0,
            target.id,
            object.href,
            pg(&instance.uid),
            instance.recurrence_id,
            instance.starts_at,
            instance.ends_at,
            instance.all_day,
            instance.location.as_deref().map(pg),
            instance.status.as_str(),
            instance.sequence,
            object.etag,
            organizer,
            serde_json::json!(instance.attendees),
        )
        .execute(&mut *tx)
        .await?;
        self.replace_participants(tx, id, instance).await?;
        Ok(true)
    }

    /// The organizer and attendees as participants; known contacts are linked at once
    /// (processing links and creates the rest).
    async fn replace_participants(
        self,
        tx: &mut PgConnection,
        activity: Uuid,
        instance: &EventInstance,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "delete from activity_participants where user_id = $1 and activity_id = $2",
            self.user.0,
            activity,
        )
        .execute(&mut *tx)
        .await?;
        let people: Vec<(&str, &CalendarPerson)> = instance
            .organizer
            .iter()
            .map(|o| ("organizer", o))
            .chain(instance.attendees.iter().map(|a| ("attendee", a)))
            .collect();
        let roles: Vec<String> = people.iter().map(|(r, _)| (*r).to_owned()).collect();
        let kinds: Vec<String> = people
            .iter()
            .map(|(_, p)| if p.is_email() { "email" } else { "handle" }.to_owned())
            .collect();
        let addresses: Vec<String> = people.iter().map(|(_, p)| pg(&p.address)).collect();
        let names: Vec<Option<String>> = people
            .iter()
            .map(|(_, p)| p.name.as_deref().map(pg))
            .collect();
        sqlx::query!(
            r#"insert into activity_participants
                 (user_id, activity_id, role, address_kind, address, display_name, occurred_at,
                  contact_id)
               select $1, $2, p.role, p.kind, p.address, p.display_name, $3,
                      (select coalesce(c.merged_into, c.id)
                       from contact_identities ci
                       join contacts c on c.user_id = ci.user_id and c.id = ci.contact_id
                       where ci.user_id = $1 and ci.kind = p.kind and ci.value = p.address)
               from unnest($4::text[], $5::text[], $6::text[], $7::text[])
                 as p(role, kind, address, display_name)
               on conflict do nothing"#,
            self.user.0,
            activity,
            instance.starts_at,
            &roles,
            &kinds,
            &addresses,
            &names as &[Option<String>],
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// The subject the timeline shows: the summary, prefixed when cancelled.
fn subject(instance: &EventInstance) -> Option<String> {
    let summary = instance.summary.clone();
    match instance.status {
        EventStatus::Cancelled => Some(format!(
            "{CANCELLED_PREFIX}{}",
            summary.as_deref().unwrap_or("meeting")
        )),
        _ => summary,
    }
}

/// Postgres text cannot hold NUL.
fn pg(text: &str) -> String {
    text.replace('\0', "")
}
