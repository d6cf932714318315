//! The unified store of every communication. Ingestion and processing come with the
//! sync and ingestion features; this module holds the user-scoped reads.

use api::{ActivityState, Channel, Direction};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::TimelineScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivitySummary {
    pub id: Uuid,
    pub channel: Channel,
    pub direction: Option<Direction>,
    pub occurred_at: DateTime<Utc>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub state: ActivityState,
    /// The first sender (or the first participant when there is no sender).
    pub counterpart: Option<String>,
}

impl TimelineScope<'_> {
    /// The newest activities across all channels, skipping ones deleted at the source.
    pub async fn recent(self, limit: i64) -> Result<Vec<ActivitySummary>, DomainError> {
        let rows = sqlx::query_as!(
            ActivitySummary,
            r#"select a.id, a.channel as "channel: Channel", a.direction as "direction: Direction",
                      a.occurred_at, a.subject, a.snippet, a.state as "state: ActivityState",
                      (select coalesce(p.display_name, p.address) from activity_participants p
                        where p.activity_id = a.id
                        order by (p.role = 'from') desc, p.address limit 1) as "counterpart?"
               from activities a
               where a.user_id = $1 and a.deleted_at is null and a.dismissed_at is null
               order by a.occurred_at desc, a.id
               limit $2"#,
            self.user.0,
            limit,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows)
    }
}

/// What a list shows for an activity: its subject, else its snippet.
pub fn headline(subject: Option<&str>, snippet: Option<&str>) -> String {
    subject
        .filter(|s| !s.trim().is_empty())
        .or(snippet)
        .unwrap_or("(no subject)")
        .to_owned()
}

impl From<ActivitySummary> for api::timeline::ActivityRow {
    fn from(a: ActivitySummary) -> Self {
        Self {
            id: a.id,
            headline: headline(a.subject.as_deref(), a.snippet.as_deref()),
            channel: a.channel,
            direction: a.direction,
            occurred_at: a.occurred_at,
            counterpart: a.counterpart,
            state: a.state,
        }
    }
}
