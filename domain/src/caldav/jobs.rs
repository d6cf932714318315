//! Polling on the job queue: [`PollCalendar`] (`caldav.poll`, one live job per
//! calendar) and a scheduler that queues one for every calendar of an active CalDAV
//! account every interval (`RAPPORT_CALDAV_POLL_SECS`, 60 s by default).

use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::client::HttpCalDav;
use super::connect::CredentialsError;
use super::poll::{PollError, poll_calendar};
use crate::crypto::SecretBox;
use crate::jobs::{BackgroundJob, Job, JobError, QueueError};
use crate::{Db, UserId};

/// What a poll needs: the database, the key that opens app passwords, an HTTP client.
#[derive(Debug, Clone)]
pub struct CalDavContext {
    pub db: Db,
    pub secrets: SecretBox,
    pub http: reqwest::Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollCalendar {
    pub calendar_id: Uuid,
}

impl BackgroundJob for PollCalendar {
    const KIND: &'static str = "caldav.poll";
    type Context = CalDavContext;

    fn unique_key(&self) -> Option<String> {
        Some(format!("{}:{}", Self::KIND, self.calendar_id))
    }

    async fn run(&self, ctx: &CalDavContext, job: &Job) -> Result<(), JobError> {
        let user = job
            .user
            .ok_or_else(|| JobError::Permanent("calendar poll without a user".to_owned()))?;
        run_poll(ctx, user, self.calendar_id).await
    }
}

async fn run_poll(ctx: &CalDavContext, user: UserId, calendar: Uuid) -> Result<(), JobError> {
    let scope = ctx.db.for_user(user);
    let account = sqlx::query_scalar!(
        "select account_id from caldav_calendars where user_id = $1 and id = $2",
        user.0,
        calendar,
    )
    .fetch_optional(ctx.db.pool())
    .await
    .map_err(|e| JobError::Retryable(e.to_string()))?
    .ok_or_else(|| JobError::Permanent("the calendar is gone".to_owned()))?;
    let credentials = match scope
        .accounts()
        .caldav_credentials(account, &ctx.secrets)
        .await
    {
        Ok(credentials) => credentials,
        Err(CredentialsError::Database(e)) => return Err(JobError::Retryable(e.to_string())),
        Err(other) => return Err(JobError::Permanent(other.to_string())),
    };
    let client = HttpCalDav::new(ctx.http.clone(), credentials);
    match poll_calendar(scope.calendars(), &client, calendar, Utc::now()).await {
        Ok(_) => Ok(()),
        Err(PollError::CalDav(error)) => {
            let message = error.to_string();
            let recorded = if error.needs_reconnect() {
                scope
                    .accounts()
                    .mark_caldav_needs_reconnect(account, &message)
                    .await
            } else {
                scope
                    .calendars()
                    .record_poll_error(calendar, &message)
                    .await
            };
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "could not record a calendar poll error");
            }
            if error.is_retryable() {
                Err(JobError::Retryable(message))
            } else {
                Err(JobError::Permanent(message))
            }
        }
        Err(PollError::Database(e)) => Err(JobError::Retryable(e.to_string())),
        Err(PollError::NotFound) => Err(JobError::Permanent("the calendar is gone".to_owned())),
    }
}

/// Queues a [`PollCalendar`] for every calendar of an active CalDAV account that has
/// none queued or running, in one statement. Returns how many were queued.
pub async fn enqueue_calendar_polls(db: &Db) -> Result<u64, QueueError> {
    let queued = sqlx::query!(
        r#"insert into jobs (user_id, kind, payload, unique_key)
           select c.user_id, $1, jsonb_build_object('calendar_id', c.id), $1 || ':' || c.id
           from caldav_calendars c
           join accounts a on a.user_id = c.user_id and a.id = c.account_id
           where a.provider = 'caldav' and a.status = 'active'
           on conflict (unique_key)
             where unique_key is not null and state in ('queued', 'running')
             do nothing"#,
        PollCalendar::KIND,
    )
    .execute(db.pool())
    .await?;
    Ok(queued.rows_affected())
}
