//! Write-back: when the user has connected a CalDAV calendar, each of their calendar
//! events is also written there, by a [`WriteBackEvent`] job (`calendar.write_back`)
//! queued in the interaction's transaction. The event is one `.ics` resource named by
//! its UID in the user's first connected calendar: created with `If-None-Match: *`,
//! replaced with `If-Match` on the stored ETag, cancelled as `STATUS:CANCELLED`, and
//! DELETEd with the interaction. When the server holds another version (412), the
//! local event wins: the write is repeated over the version found there.
//!
//! A failed attempt is logged (`calendar_sync_log`, status `failed`) and kept in
//! `calendar_sync_failures` with its error, retry count and `next_retry_at` (doubling
//! from [`FIRST_RETRY`] up to [`LAST_RETRY`]); a job queued for that time retries it,
//! and a success marks it resolved. After [`MAX_RETRIES`] it stays unresolved, shown on
//! the contact page, until the interaction changes again.

use api::interactions::{EventStatus, SyncAction};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::caldav::connect::CredentialsError;
use crate::caldav::jobs::CalDavContext;
use crate::caldav::{CalDavError, HttpCalDav};
use crate::jobs::{BackgroundJob, Job, JobError};
use crate::{DomainError, UserId};

/// The first retry waits this long; each next one twice as long.
pub const FIRST_RETRY: Duration = Duration::seconds(30);
/// The longest wait between retries.
pub const LAST_RETRY: Duration = Duration::hours(6);
/// Retries before a failure waits for the next change.
pub const MAX_RETRIES: i32 = 12;

/// The wait before retry number `retry` (1 for the first).
pub fn retry_delay(retry: i32) -> Duration {
    let doublings = u32::try_from(retry.saturating_sub(1)).unwrap_or(0).min(20);
    (FIRST_RETRY * 2_i32.pow(doublings)).min(LAST_RETRY)
}

/// Where a deleted event was written, so its copy can be deleted too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteCopy {
    pub event_id: Uuid,
    pub calendar_id: Uuid,
    pub href: String,
    pub etag: Option<String>,
}

/// Writes one interaction's event to the user's CalDAV calendar (or deletes its copy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteBackEvent {
    pub interaction_id: Uuid,
    /// Set when the event was deleted: the copy to delete.
    #[serde(default)]
    pub deleted: Option<RemoteCopy>,
    /// A retry waits for its time.
    #[serde(default)]
    pub run_at: Option<DateTime<Utc>>,
}

impl BackgroundJob for WriteBackEvent {
    const KIND: &'static str = "calendar.write_back";
    type Context = CalDavContext;

    fn run_at(&self) -> Option<DateTime<Utc>> {
        self.run_at
    }

    async fn run(&self, ctx: &CalDavContext, job: &Job) -> Result<(), JobError> {
        let user = job
            .user
            .ok_or_else(|| JobError::Permanent("a calendar write-back without a user".into()))?;
        match write_back(ctx, user, self).await {
            Ok(_) => Ok(()),
            Err(e) => Err(JobError::Retryable(e.to_string())),
        }
    }
}

/// Queues the write-back of `interaction`'s event in the caller's transaction, when the
/// user has a calendar to write to.
pub(crate) async fn queue(
    tx: &mut PgConnection,
    user: UserId,
    interaction: Uuid,
    deleted: Option<RemoteCopy>,
) -> Result<(), DomainError> {
    let job = WriteBackEvent {
        interaction_id: interaction,
        deleted,
        run_at: None,
    };
    sqlx::query!(
        r#"insert into jobs (user_id, kind, payload)
           select $1, $2, $3
           where exists (select 1 from caldav_calendars c
                         join accounts a on a.user_id = c.user_id and a.id = c.account_id
                         where c.user_id = $1 and a.provider = 'caldav' and a.status = 'active')"#,
        user.0,
        WriteBackEvent::KIND,
        serde_json::to_value(&job).map_err(|e| DomainError::invalid("job", e.to_string()))?,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// What one write-back did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteBackOutcome {
    /// No calendar connected, or no event to write.
    Nothing,
    Written,
    /// Failed: recorded, and retried at this time (`None`: out of retries).
    Failed {
        error: String,
        next_retry_at: Option<DateTime<Utc>>,
    },
}

/// The calendar written to and the client for it.
struct Target {
    calendar_id: Uuid,
    calendar_href: String,
    client: HttpCalDav,
}

#[derive(Debug)]
enum Attempt {
    Database(DomainError),
    Remote(CalDavError),
    Credentials(String),
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Database(e) => write!(f, "{e}"),
            Self::Remote(e) => write!(f, "{e}"),
            Self::Credentials(e) => f.write_str(e),
        }
    }
}

impl From<DomainError> for Attempt {
    fn from(e: DomainError) -> Self {
        Self::Database(e)
    }
}

impl From<sqlx::Error> for Attempt {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e.into())
    }
}

impl From<CalDavError> for Attempt {
    fn from(e: CalDavError) -> Self {
        Self::Remote(e)
    }
}

/// Runs one write-back now: writes, or records the failure and queues its retry.
pub async fn write_back(
    ctx: &CalDavContext,
    user: UserId,
    job: &WriteBackEvent,
) -> Result<WriteBackOutcome, DomainError> {
    let pool = ctx.db.pool();
    let (action, event, result) = match &job.deleted {
        Some(copy) => (
            SyncAction::Delete,
            Some(copy.event_id),
            delete_copy(ctx, user, copy).await.map(|()| true),
        ),
        None => {
            let event = sqlx::query!(
                r#"select id, uid, status as "status: EventStatus", caldav_href
                   from calendar_events
                   where user_id = $1 and related_table = 'interactions' and related_id = $2"#,
                user.0,
                job.interaction_id,
            )
            .fetch_optional(pool)
            .await?;
            let Some(event) = event else {
                return Ok(WriteBackOutcome::Nothing);
            };
            let action = match (event.status, &event.caldav_href) {
                (EventStatus::Cancelled, _) => SyncAction::Cancel,
                (_, None) => SyncAction::Create,
                (_, Some(_)) => SyncAction::Update,
            };
            (action, Some(event.id), put_event(ctx, user, event.id).await)
        }
    };
    match result {
        Ok(false) => Ok(WriteBackOutcome::Nothing),
        Ok(true) => {
            let mut tx = pool.begin().await?;
            log(&mut tx, user, job.interaction_id, event, action, None).await?;
            sqlx::query!(
                r#"update calendar_sync_failures set resolved_at = now()
                   where user_id = $1 and interaction_id = $2 and resolved_at is null"#,
                user.0,
                job.interaction_id,
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(WriteBackOutcome::Written)
        }
        Err(Attempt::Database(e)) => Err(e),
        Err(failure) => {
            let error = failure.to_string();
            let mut tx = pool.begin().await?;
            log(
                &mut tx,
                user,
                job.interaction_id,
                event,
                action,
                Some(&error),
            )
            .await?;
            let now = Utc::now();
            let retries = sqlx::query_scalar!(
                r#"select retry_count from calendar_sync_failures
                   where user_id = $1 and interaction_id = $2 and resolved_at is null"#,
                user.0,
                job.interaction_id,
            )
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0)
                + 1;
            // To the microsecond, as Postgres keeps it.
            let next = (now + retry_delay(retries))
                .duration_trunc(Duration::microseconds(1))
                .unwrap_or(now + retry_delay(retries));
            let remote_action = if job.deleted.is_some() {
                "delete"
            } else {
                "put"
            };
            sqlx::query!(
                r#"insert into calendar_sync_failures (user_id, interaction_id, event_id, action, error,
                     retry_count, next_retry_at)
                   values ($1, $2, $3, $4, $5, 1, $6)
                   on conflict (user_id, interaction_id) where resolved_at is null do update set
                     event_id = excluded.event_id, action = excluded.action, error = excluded.error,
                     retry_count = calendar_sync_failures.retry_count + 1,
                     next_retry_at = excluded.next_retry_at"#,
                user.0,
                job.interaction_id,
                event,
                remote_action,
                error,
                next,
            )
            .execute(&mut *tx)
            .await?;
            let next_retry_at = (retries <= MAX_RETRIES).then_some(next);
            if let Some(at) = next_retry_at {
                let retry = WriteBackEvent {
                    run_at: Some(at),
                    ..job.clone()
                };
                sqlx::query!(
                    "insert into jobs (user_id, kind, payload, run_at) values ($1, $2, $3, $4)",
                    user.0,
                    WriteBackEvent::KIND,
                    serde_json::to_value(&retry)
                        .map_err(|e| DomainError::invalid("job", e.to_string()))?,
                    at,
                )
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            tracing::warn!(%error, interaction = %job.interaction_id, "a calendar write-back failed");
            Ok(WriteBackOutcome::Failed {
                error,
                next_retry_at,
            })
        }
    }
}

async fn log(
    tx: &mut PgConnection,
    user: UserId,
    interaction: Uuid,
    event: Option<Uuid>,
    action: SyncAction,
    error: Option<&str>,
) -> Result<(), DomainError> {
    sqlx::query!(
        r#"insert into calendar_sync_log (user_id, interaction_id, event_id, action, status, error)
           values ($1, $2, $3, $4, $5, $6)"#,
        user.0,
        interaction,
        event,
        action.as_str(),
        if error.is_some() { "failed" } else { "success" },
        error,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The calendar to write to: `calendar` when given (where the event already is), else
/// the user's first calendar of an active CalDAV account.
async fn target(
    ctx: &CalDavContext,
    user: UserId,
    calendar: Option<Uuid>,
) -> Result<Option<Target>, Attempt> {
    let row = sqlx::query!(
        r#"select c.id, c.href, c.account_id from caldav_calendars c
           join accounts a on a.user_id = c.user_id and a.id = c.account_id
           where c.user_id = $1 and a.provider = 'caldav' and a.status = 'active'
             and ($2::uuid is null or c.id = $2)
           order by c.created_at, c.id limit 1"#,
        user.0,
        calendar,
    )
    .fetch_optional(ctx.db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let credentials = ctx
        .db
        .for_user(user)
        .accounts()
        .caldav_credentials(row.account_id, &ctx.secrets)
        .await
        .map_err(|e| match e {
            CredentialsError::Database(e) => Attempt::Database(e.into()),
            other => Attempt::Credentials(other.to_string()),
        })?;
    Ok(Some(Target {
        calendar_id: row.id,
        calendar_href: row.href,
        client: HttpCalDav::new(ctx.http.clone(), credentials),
    }))
}

/// PUTs the event; `false` when there is no calendar to write to.
async fn put_event(ctx: &CalDavContext, user: UserId, event: Uuid) -> Result<bool, Attempt> {
    let scope = ctx.db.for_user(user).calendar();
    let Some(stored) = scope.stored_copy(event).await? else {
        return Ok(false);
    };
    let Some(target) = target(ctx, user, stored.calendar_id).await? else {
        return Ok(false);
    };
    let Some(feed_event) = scope.feed_event(event).await? else {
        return Ok(false);
    };
    let href = stored.href.unwrap_or_else(|| {
        let base = target.calendar_href.trim_end_matches('/');
        let name: String = feed_event
            .uid
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{base}/{name}.ics")
    });
    let zone = scope.time_zone().await?;
    let ics = super::ics::render("Rapport", zone.name(), std::slice::from_ref(&feed_event));
    let etag = match target
        .client
        .put_object(&href, &ics, stored.etag.as_deref())
        .await
    {
        Err(e) if e.is_precondition_failed() => {
            // Another version is there (changed on the server, or the ETag was lost):
            // this event is the truth, written over what is there now.
            let current = target.client.current_etag(&href).await?;
            target
                .client
                .put_object(&href, &ics, current.as_deref())
                .await?
        }
        other => other?,
    };
    sqlx::query!(
        r#"update calendar_events set caldav_calendar_id = $3, caldav_href = $4, caldav_etag = $5
           where user_id = $1 and id = $2"#,
        user.0,
        event,
        target.calendar_id,
        href,
        etag,
    )
    .execute(ctx.db.pool())
    .await?;
    Ok(true)
}

async fn delete_copy(ctx: &CalDavContext, user: UserId, copy: &RemoteCopy) -> Result<(), Attempt> {
    let Some(target) = target(ctx, user, Some(copy.calendar_id)).await? else {
        return Ok(());
    };
    match target
        .client
        .delete_object(&copy.href, copy.etag.as_deref())
        .await
    {
        Err(e) if e.is_precondition_failed() => {
            target.client.delete_object(&copy.href, None).await?;
            Ok(())
        }
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_up_to_the_cap() {
        assert_eq!(retry_delay(1), Duration::seconds(30));
        assert_eq!(retry_delay(2), Duration::seconds(60));
        assert_eq!(retry_delay(3), Duration::seconds(120));
        assert_eq!(retry_delay(40), LAST_RETRY);
    }
}
