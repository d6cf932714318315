//! The user's own calendar (`calendar_events`, written by [`crate::interactions`]): the
//! `/calendar` page's agenda and week ([`agenda`]) and the secret ICS subscription feed
//! ([`feed`], rendered by [`ics`]). Not to be confused with [`crate::caldav`], which
//! reads the user's external calendars.

pub mod agenda;
pub mod feed;
pub mod ics;
pub mod write_back;

pub use feed::FeedToken;

use api::interactions::EventStatus;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::CalendarScope;

/// Most events one feed carries (the newest by start).
const FEED_EVENTS: i64 = 5_000;

/// One event as the feed writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    pub uid: String,
    pub title: String,
    pub description: Option<String>,
    pub event_date: NaiveDate,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub all_day: bool,
    pub event_type: String,
    pub status: EventStatus,
    pub location: Option<String>,
    pub sequence: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub attendees: Vec<Attendee>,
}

/// Where an event was written back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredCopy {
    pub calendar_id: Option<Uuid>,
    pub href: Option<String>,
    pub etag: Option<String>,
}

/// Someone with an address among an event's participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    pub name: Option<String>,
    pub email: String,
}

/// One entry of `calendar_events.participants`.
#[derive(Debug, Deserialize)]
struct Participant {
    name: Option<String>,
    #[serde(default)]
    emails: Vec<String>,
}

fn attendees(participants: serde_json::Value) -> Vec<Attendee> {
    serde_json::from_value::<Vec<Participant>>(participants)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|p| {
            let name = p.name;
            p.emails.into_iter().map(move |email| Attendee {
                name: name.clone(),
                email,
            })
        })
        .filter(|a| {
            a.email.contains('@') && !a.email.chars().any(|c| c.is_whitespace() || c.is_control())
        })
        .collect()
}

impl CalendarScope<'_> {
    /// Every event of the user for the feed, cancelled ones included, by start.
    pub async fn feed_events(self) -> Result<Vec<FeedEvent>, DomainError> {
        self.feed_rows(None).await
    }

    async fn feed_rows(self, event: Option<Uuid>) -> Result<Vec<FeedEvent>, DomainError> {
        let rows = sqlx::query!(
            r#"select uid, title, description, event_date, start_time, end_time, all_day, event_type,
                      status as "status: EventStatus", location, sequence, participants,
                      created_at, updated_at
               from (select * from calendar_events where user_id = $1
                       and ($3::uuid is null or id = $3)
                     order by start_time desc limit $2) e
               order by start_time, uid"#,
            self.user.0,
            FEED_EVENTS,
            event,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| FeedEvent {
                uid: r.uid,
                title: r.title,
                description: r.description,
                event_date: r.event_date,
                start_time: r.start_time,
                end_time: r.end_time,
                all_day: r.all_day,
                event_type: r.event_type,
                status: r.status,
                location: r.location,
                sequence: r.sequence,
                created_at: r.created_at,
                updated_at: r.updated_at,
                attendees: attendees(r.participants),
            })
            .collect())
    }

    /// One event as the feed writes it.
    pub async fn feed_event(self, event: Uuid) -> Result<Option<FeedEvent>, DomainError> {
        Ok(self.feed_rows(Some(event)).await?.into_iter().next())
    }

    /// Where the event was written back, if it was: (calendar, href, ETag).
    pub(crate) async fn stored_copy(self, event: Uuid) -> Result<Option<StoredCopy>, DomainError> {
        Ok(sqlx::query_as!(
            StoredCopy,
            r#"select caldav_calendar_id as calendar_id, caldav_href as href, caldav_etag as etag
               from calendar_events where user_id = $1 and id = $2"#,
            self.user.0,
            event,
        )
        .fetch_optional(self.pool)
        .await?)
    }

    /// The feed's iCalendar text.
    pub async fn feed_ics(self) -> Result<String, DomainError> {
        let zone = self.time_zone().await?;
        Ok(ics::render(
            "Rapport",
            zone.name(),
            &self.feed_events().await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attendees_are_the_participants_with_addresses() {
        let found = attendees(serde_json::json!([
            {"name": "Ada", "emails": ["ada@example.com", "bad address"]},
            {"name": "Acme", "domain": "acme.example"}
        ]));
        assert_eq!(
            found,
            vec![Attendee {
                name: Some("Ada".into()),
                email: "ada@example.com".into()
            }]
        );
    }
}
