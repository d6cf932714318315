//! An interaction's calendar event (`calendar_events`, `related_table = 'interactions'`),
//! written in the interaction's transaction.
//!
//! Rules: an interaction is on the calendar when it has a date no older than
//! [`CALENDAR_WINDOW_DAYS`], a subject, and is not archived. Then its event is upserted
//! on `(related_table, related_id)` (created if missing, whatever the reason); an
//! archived interaction's event, or one that no longer qualifies, is `cancelled`, never
//! deleted; deleting the interaction deletes the event. The interaction records
//! `calendar_synced_at`, and an interaction not changed since is not synced again. Every
//! attempt writes a `calendar_sync_log` row.
//!
//! Field mapping: title = subject; start = the interaction's date and time; end = start
//! plus the duration; all day when there is no duration; status `completed` once it has
//! ended (else `scheduled`); participants = the contact's name and addresses and the
//! company's name and domain; `synced_from = 'interaction'`.

use api::interactions::{EventStatus, InteractionKind, SyncAction};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::DomainError;
use crate::calendar::write_back::RemoteCopy;
use crate::db::scopes::InteractionsScope;
use crate::zone::UserZone;

/// An interaction older than this many days is not put on the calendar.
pub const CALENDAR_WINDOW_DAYS: i64 = 30;

/// What a sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Nothing changed since the last sync: nothing written, nothing logged.
    Unchanged,
    /// Written (or skipped, for an interaction not on the calendar) and logged.
    Synced {
        action: SyncAction,
        event: Option<Uuid>,
    },
}

/// Whether an interaction belongs on the calendar as of `now`.
pub fn on_calendar(
    occurred_at: Option<DateTime<Utc>>,
    subject: Option<&str>,
    archived: bool,
    now: DateTime<Utc>,
) -> bool {
    !archived
        && subject.is_some_and(|s| !s.trim().is_empty())
        && occurred_at.is_some_and(|at| at >= now - Duration::days(CALENDAR_WINDOW_DAYS))
}

/// Start, end and all-day of an event starting at `start`.
pub fn event_times(
    start: DateTime<Utc>,
    duration_minutes: Option<i32>,
) -> (DateTime<Utc>, Option<DateTime<Utc>>, bool) {
    match duration_minutes {
        Some(minutes) => (
            start,
            Some(start + Duration::minutes(i64::from(minutes))),
            false,
        ),
        None => (start, None, true),
    }
}

/// `completed` once it has ended (an all-day event: once its day, on `zone`'s clock, is
/// over).
pub fn status_at(
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    zone: UserZone,
) -> EventStatus {
    let end = end.unwrap_or_else(|| zone.start_of(zone.date(start) + Duration::days(1)));
    if end <= now {
        EventStatus::Completed
    } else {
        EventStatus::Scheduled
    }
}

impl InteractionsScope<'_> {
    /// Brings the event in line with the interaction (see the module docs).
    pub(super) async fn sync_event(
        self,
        tx: &mut PgConnection,
        id: Uuid,
    ) -> Result<SyncOutcome, DomainError> {
        let now = Utc::now();
        let zone = self.time_zone().await?;
        let i = sqlx::query!(
            r#"select i.kind as "kind: InteractionKind", i.subject, i.occurred_at, i.duration_minutes,
                      i.location, i.description, i.archived_at, i.calendar_synced_at, i.updated_at,
                      c.display_name as "contact_name?", co.name as "company_name?",
                      co.domain as "company_domain?",
                      coalesce((select array_agg(ci.value order by ci.kind, ci.value) from contact_identities ci
                                where ci.user_id = i.user_id and ci.contact_id = i.contact_id
                                  and ci.kind = 'email'), '{}') as "emails!",
                      e.id as "event_id?"
               from interactions i
               left join contacts c on c.user_id = i.user_id and c.id = i.contact_id
               left join companies co on co.user_id = i.user_id and co.id = i.company_id
               left join calendar_events e on e.related_table = 'interactions' and e.related_id = i.id
               where i.user_id = $1 and i.id = $2
               for update of i"#,
            self.user.0,
            id,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("interaction"))?;
        if i.calendar_synced_at.is_some_and(|at| at >= i.updated_at) {
            return Ok(SyncOutcome::Unchanged);
        }
        let (action, event) = match (
            on_calendar(
                i.occurred_at,
                i.subject.as_deref(),
                i.archived_at.is_some(),
                now,
            ),
            i.occurred_at,
            i.subject.as_deref(),
            i.event_id,
        ) {
            (true, Some(start), Some(title), existing) => {
                let (start, end, all_day) = event_times(start, i.duration_minutes);
                let mut participants: Vec<Value> = Vec::new();
                if let Some(name) = &i.contact_name {
                    participants.push(json!({ "name": name, "emails": i.emails }));
                } else if !i.emails.is_empty() {
                    participants.push(json!({ "emails": i.emails }));
                }
                if i.company_name.is_some() || i.company_domain.is_some() {
                    participants.push(json!({
                        "name": i.company_name.clone().or(i.company_domain.clone()),
                        "domain": i.company_domain,
                    }));
                }
                let event = sqlx::query_scalar!(
                    r#"insert into calendar_events (user_id, uid, title, description, event_date,
                         start_time, end_time, all_day, event_type, status, related_table, related_id,
                         location, participants, created_by, updated_by, synced_from, last_synced_at)
                       values ($1, $2, $3, $4, $13,
                         $5, $6, $7, $8, $9, 'interactions', $12, $10, $11, $1, $1,
                         'interaction', now())
                       on conflict (related_table, related_id) do update set
                         title = excluded.title, description = excluded.description,
                         event_date = excluded.event_date, start_time = excluded.start_time,
                         end_time = excluded.end_time, all_day = excluded.all_day,
                         event_type = excluded.event_type, status = excluded.status,
                         location = excluded.location, participants = excluded.participants,
                         updated_by = excluded.updated_by, last_synced_at = now(),
                         sequence = calendar_events.sequence + 1
                       where calendar_events.user_id = excluded.user_id
                       returning id"#,
                    self.user.0,
                    format!("{id}@rapport"),
                    title,
                    i.description,
                    start,
                    end,
                    all_day,
                    i.kind.as_str(),
                    status_at(start, end, now, zone).as_str(),
                    i.location,
                    Value::Array(participants),
                    id,
                    // The event's day is the user's day (an all-day meeting on the 8th in
                    // Tokyo starts on the 7th in UTC).
                    zone.date(start),
                )
                .fetch_one(&mut *tx)
                .await?;
                let action = if existing.is_some() {
                    SyncAction::Update
                } else {
                    SyncAction::Create
                };
                (action, Some(event))
            }
            (_, _, _, Some(existing)) => {
                sqlx::query!(
                    r#"update calendar_events set status = 'cancelled', sequence = sequence + 1,
                         updated_by = $1, last_synced_at = now()
                       where user_id = $1 and id = $2 and status <> 'cancelled'"#,
                    self.user.0,
                    existing,
                )
                .execute(&mut *tx)
                .await?;
                (SyncAction::Cancel, Some(existing))
            }
            _ => (SyncAction::Skip, None),
        };
        self.log(tx, id, event, action).await?;
        sqlx::query!(
            "update interactions set calendar_synced_at = now() where user_id = $1 and id = $2",
            self.user.0,
            id,
        )
        .execute(&mut *tx)
        .await?;
        Ok(SyncOutcome::Synced { action, event })
    }

    /// Deletes the interaction's event (the interaction is being deleted); returns where
    /// it was written back, if it was, for its copy to be deleted too.
    pub(super) async fn delete_event(
        self,
        tx: &mut PgConnection,
        id: Uuid,
    ) -> Result<Option<RemoteCopy>, DomainError> {
        let event = sqlx::query!(
            r#"delete from calendar_events
               where user_id = $1 and related_table = 'interactions' and related_id = $2
               returning id, caldav_calendar_id, caldav_href, caldav_etag"#,
            self.user.0,
            id,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let action = if event.is_some() {
            SyncAction::Delete
        } else {
            SyncAction::Skip
        };
        self.log(tx, id, event.as_ref().map(|e| e.id), action)
            .await?;
        Ok(event.and_then(|e| {
            Some(RemoteCopy {
                event_id: e.id,
                calendar_id: e.caldav_calendar_id?,
                href: e.caldav_href?,
                etag: e.caldav_etag,
            })
        }))
    }

    async fn log(
        self,
        tx: &mut PgConnection,
        interaction: Uuid,
        event: Option<Uuid>,
        action: SyncAction,
    ) -> Result<(), DomainError> {
        let status = if action == SyncAction::Skip {
            "skipped"
        } else {
            "success"
        };
        sqlx::query!(
            r#"insert into calendar_sync_log (user_id, interaction_id, event_id, action, status)
               values ($1, $2, $3, $4, $5)"#,
            self.user.0,
            interaction,
            event,
            action.as_str(),
            status,
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_calendar_takes_dated_subjects_within_thirty_days() {
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        let recent = Some(now - Duration::days(29));
        assert!(on_calendar(recent, Some("Review"), false, now));
        assert!(on_calendar(
            Some(now + Duration::days(90)),
            Some("Plan"),
            false,
            now
        ));
        assert!(!on_calendar(
            Some(now - Duration::days(31)),
            Some("Old"),
            false,
            now
        ));
        assert!(!on_calendar(None, Some("Undated"), false, now));
        assert!(!on_calendar(recent, None, false, now));
        assert!(!on_calendar(recent, Some("  "), false, now));
        assert!(!on_calendar(recent, Some("Archived"), true, now));
    }

    #[test]
    fn durations_give_the_end_and_none_is_all_day() {
        let start = Utc.with_ymd_and_hms(2026, 12, 8, 10, 0, 0).unwrap();
        assert_eq!(
            event_times(start, Some(90)),
            (
                start,
                Some(Utc.with_ymd_and_hms(2026, 12, 8, 11, 30, 0).unwrap()),
                false
            )
        );
        assert_eq!(event_times(start, None), (start, None, true));
        let during = Utc.with_ymd_and_hms(2026, 12, 8, 20, 0, 0).unwrap();
        let utc = UserZone::UTC;
        assert_eq!(status_at(start, None, during, utc), EventStatus::Scheduled);
        assert_eq!(
            status_at(start, None, during + Duration::hours(5), utc),
            EventStatus::Completed
        );
        assert_eq!(
            status_at(start, Some(start + Duration::minutes(30)), during, utc),
            EventStatus::Completed
        );
        // In Tokyo the 8th is over at 15:00 UTC.
        let tokyo = UserZone::parse("Asia/Tokyo").unwrap();
        assert_eq!(
            status_at(start, None, during, tokyo),
            EventStatus::Completed
        );
        assert_eq!(
            status_at(start, None, start + Duration::hours(4), tokyo),
            EventStatus::Scheduled
        );
    }
}
