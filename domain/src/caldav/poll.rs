//! One poll of one calendar: compare the change markers, and only when they moved (or a
//! new day moved the window) list the ETags in the window, fetch the objects whose ETag
//! changed, and store them. The markers are saved after everything they cover is
//! stored, so a poll that fails half-way is simply repeated.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::CalDavError;
use super::client::{CalDavApi, CalendarObject, CalendarState};
use super::ical::{Window, parse_object};
use super::store::{CalendarTarget, ObjectOutcome, Write};
use crate::db::scopes::CalendarsScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// Same ctag and sync-token, same day: nothing more was asked.
    Unchanged,
    Synced {
        /// Objects fetched with a new or changed ETag.
        fetched: usize,
        /// Objects no longer in the window.
        gone: usize,
        instances: ObjectOutcome,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("calendar not found")]
    NotFound,
    #[error(transparent)]
    CalDav(#[from] CalDavError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<PollError> for crate::DomainError {
    fn from(e: PollError) -> Self {
        match e {
            PollError::NotFound => crate::DomainError::NotFound("calendar"),
            PollError::Database(e) => crate::DomainError::Database(e),
            PollError::CalDav(e) => crate::DomainError::invalid("calendar", e.to_string()),
        }
    }
}

/// Polls `calendar` (of this user) through `client`, as of `now`.
pub async fn poll_calendar<C: CalDavApi>(
    scope: CalendarsScope<'_>,
    client: &C,
    calendar: Uuid,
    now: DateTime<Utc>,
) -> Result<PollOutcome, PollError> {
    let row = sqlx::query!(
        r#"select c.href, c.account_id, c.ctag, c.sync_token, c.expanded_on,
                  array[lower(u.email), lower(a.external_id)] as "owner!"
           from caldav_calendars c
           join accounts a on a.user_id = c.user_id and a.id = c.account_id
           join users u on u.id = c.user_id
           where c.user_id = $1 and c.id = $2"#,
        scope.user.0,
        calendar,
    )
    .fetch_optional(scope.pool)
    .await?
    .ok_or(PollError::NotFound)?;
    let stored = CalendarState {
        ctag: row.ctag,
        sync_token: row.sync_token,
    };
    let today = now.date_naive();
    let state = client.calendar_state(&row.href).await?;
    if state.is_known() && state == stored && row.expanded_on == Some(today) {
        sqlx::query!(
            r#"with synced as (
                 update accounts set last_synced_at = $3 where user_id = $1 and id = $4)
               update caldav_calendars set polled_at = $3, last_error = null
               where user_id = $1 and id = $2"#,
            scope.user.0,
            calendar,
            now,
            row.account_id,
        )
        .execute(scope.pool)
        .await?;
        return Ok(PollOutcome::Unchanged);
    }

    let window = Window::around(now);
    let listed = client.etags(&row.href, &window).await?;
    let known: HashMap<String, CalendarObject> = sqlx::query!(
        "select href, etag, data from caldav_objects where user_id = $1 and calendar_id = $2",
        scope.user.0,
        calendar,
    )
    .fetch_all(scope.pool)
    .await?
    .into_iter()
    .map(|r| {
        let object = CalendarObject {
            href: r.href.clone(),
            etag: r.etag,
            data: r.data,
        };
        (r.href, object)
    })
    .collect();
    let changed: Vec<String> = listed
        .iter()
        .filter(|(href, etag)| known.get(href).is_none_or(|old| &old.etag != etag))
        .map(|(href, _)| href.clone())
        .collect();
    let fetched = if changed.is_empty() {
        Vec::new()
    } else {
        client.multiget(&row.href, &changed).await?
    };

    let target = CalendarTarget {
        id: calendar,
        account_id: row.account_id,
        owner: row.owner,
    };
    let mut instances = ObjectOutcome::default();
    for object in &fetched {
        let parsed = parse_object(&object.data, &window);
        instances.add(
            scope
                .store_object(&target, object, parsed, Write::Changed, now)
                .await?,
        );
    }
    // Unchanged objects on a new day: the window moved, occurrences may have come in.
    if row.expanded_on != Some(today) {
        for (href, etag) in &listed {
            if let Some(old) = known.get(href).filter(|old| &old.etag == etag) {
                let parsed = parse_object(&old.data, &window);
                instances.add(
                    scope
                        .store_object(&target, old, parsed, Write::NewOnly, now)
                        .await?,
                );
            }
        }
    }
    let listed_hrefs: std::collections::HashSet<&String> = listed.iter().map(|(h, _)| h).collect();
    let mut gone = 0;
    for href in known.keys().filter(|h| !listed_hrefs.contains(h)) {
        instances.deleted += scope.forget_object(calendar, href, now).await?;
        gone += 1;
    }
    sqlx::query!(
        r#"update caldav_calendars
           set ctag = $3, sync_token = $4, expanded_on = $5, polled_at = $6, last_error = null
           where user_id = $1 and id = $2"#,
        scope.user.0,
        calendar,
        state.ctag,
        state.sync_token,
        today,
        now,
    )
    .execute(scope.pool)
    .await?;
    // Settings shows the account's last sync like a Gmail account's.
    sqlx::query!(
        "update accounts set last_synced_at = $3 where user_id = $1 and id = $2",
        scope.user.0,
        target.account_id,
        now,
    )
    .execute(scope.pool)
    .await?;
    if instances.stored > 0 {
        // Wake the processors for rows put back to `raw` (the insert trigger covers new ones).
        sqlx::query!("select pg_notify('rapport_activities', '')")
            .execute(scope.pool)
            .await?;
    }
    Ok(PollOutcome::Synced {
        fetched: fetched.len(),
        gone,
        instances,
    })
}
