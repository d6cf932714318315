//! A contact's activity timeline: every activity linked to the contact, from every
//! channel, newest first, at most [`MAX_TIMELINE_ROWS`] at a time. The page shows a
//! window of the newest rows that "Load more" widens; the whole window is re-read when
//! an activity changes state, so every badge in it stays current.

use api::{ActivityState, Channel, Direction};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::TimelineScope;

/// Most rows one read returns.
pub const MAX_TIMELINE_ROWS: i64 = 500;

/// Which part of a timeline to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineQuery {
    /// Only this channel.
    pub channel: Option<Channel>,
    pub limit: i64,
}

impl TimelineQuery {
    pub fn new(channel: Option<&str>, limit: i64) -> Result<Self, DomainError> {
        let channel = match channel.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                Channel::parse(c)
                    .map_err(|_| DomainError::invalid("channel", "unknown channel"))?,
            ),
        };
        Ok(Self {
            channel,
            limit: limit.clamp(1, MAX_TIMELINE_ROWS),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub id: Uuid,
    pub channel: Channel,
    pub direction: Option<Direction>,
    pub occurred_at: DateTime<Utc>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub state: ActivityState,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub size_bytes: Option<i64>,
    /// The AI summary, once one was written (see [`crate::summaries`]).
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    /// Older rows follow the last entry.
    pub more: bool,
}

impl TimelineScope<'_> {
    /// A page of `contact`'s timeline. `NotFound` for a contact that is not this user's.
    pub async fn for_contact(
        self,
        contact: Uuid,
        query: &TimelineQuery,
    ) -> Result<TimelinePage, DomainError> {
        let contact = self.files().upload_target(contact).await?;
        let mut entries = sqlx::query_as!(
            TimelineEntry,
            r#"select a.id, a.channel as "channel: Channel", a.direction as "direction: Direction",
                      a.occurred_at, a.subject, a.snippet, a.state as "state: ActivityState", a.attempts, a.last_error, a.size_bytes, s.summary
               from activities a
               left join activity_summaries s
                 on s.activity_id = a.id and s.user_id = $1 and s.state = 'done'
               where a.user_id = $1 and a.deleted_at is null and a.dismissed_at is null
                 and a.id in (select p.activity_id from activity_participants p
                              where p.user_id = $1 and p.contact_id = $2)
                 and ($3::text is null or a.channel = $3)
               order by a.occurred_at desc, a.id desc
               limit $4"#,
            self.user.0,
            contact,
            query.channel.map(Channel::as_str),
            query.limit + 1,
        )
        .fetch_all(self.pool)
        .await?;
        let more = entries.len() as i64 > query.limit;
        entries.truncate(query.limit as usize);
        Ok(TimelinePage { entries, more })
    }
}

impl From<TimelineEntry> for api::timeline::TimelineItem {
    fn from(e: TimelineEntry) -> Self {
        let failed = matches!(e.state, ActivityState::Failed | ActivityState::Dead);
        Self {
            download: (e.channel == Channel::File).then(|| format!("/files/{}", e.id)),
            headline: crate::activities::headline(e.subject.as_deref(), e.snippet.as_deref()),
            snippet: e
                .snippet
                .filter(|s| e.subject.as_deref() != Some(s.as_str())),
            id: e.id,
            channel: e.channel,
            direction: e.direction,
            occurred_at: e.occurred_at,
            error: e.last_error.filter(|_| failed),
            state: e.state,
            attempts: e.attempts,
            summary: e.summary,
        }
    }
}

impl From<TimelinePage> for api::timeline::TimelineWindow {
    fn from(page: TimelinePage) -> Self {
        Self {
            items: page.entries.into_iter().map(Into::into).collect(),
            more: page.more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_check_the_channel_and_bound_the_rows() {
        assert_eq!(
            TimelineQuery::new(None, 10_000).unwrap().limit,
            MAX_TIMELINE_ROWS
        );
        assert_eq!(TimelineQuery::new(Some(""), 0).unwrap().limit, 1);
        assert_eq!(TimelineQuery::new(Some(""), 5).unwrap().channel, None);
        assert_eq!(
            TimelineQuery::new(Some("file"), 5).unwrap().channel,
            Some(Channel::File)
        );
        assert!(TimelineQuery::new(Some("fax"), 5).is_err());
    }
}
