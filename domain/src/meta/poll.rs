//! The poll of one connected Page: `GET /{page-id}/conversations?platform=…` newest
//! first, down to the integration's `last_fetch_timestamp`, then the messages of each
//! conversation updated since, following `paging.next` to the end. Each conversation is
//! committed on its own; the timestamp moves only after all of them are. Graph's usage
//! headers slow the poll down before the limit, throttling codes back off until a later
//! poll, and a 500 asking for less data is retried with smaller pages.

use api::AccountStatus;
use api::meta::MetaPlatform;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::graph::{GraphApi, GraphError};
use super::integration::Integration;
use super::store::ReadThread;
use super::types::{
    GraphConversation, GraphMessage, GraphPage, parse_conversations, parse_messages,
};
use super::{MetaError, MetaService};
use crate::UserId;

/// How far before the newest conversation seen the next poll starts reading.
const OVERLAP: chrono::Duration = chrono::Duration::minutes(5);

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Messages stored for the first time.
    pub stored: usize,
    /// Conversations whose customer waits for the agent.
    pub to_answer: Vec<Uuid>,
    /// The poll stopped early and will resume on a later one.
    pub outcome: PollOutcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PollOutcome {
    #[default]
    Done,
    /// Skipped or stopped by a rate limit; nothing is lost, the timestamp stays.
    BackingOff(DateTime<Utc>),
    /// Graph refused the token (190): the Page needs reconnecting.
    NeedsReconnect(String),
}

impl<G: GraphApi> MetaService<G> {
    /// Polls one integration of `user`.
    pub async fn poll(&self, user: UserId, integration: Uuid) -> Result<PollReport, MetaError> {
        let scope = self.db.for_user(user);
        let meta = scope.meta();
        let Some(integration) = meta.integration(integration, &self.secrets).await? else {
            return Err(MetaError::NotFound);
        };
        if matches!(
            integration.status,
            AccountStatus::NeedsReconnect | AccountStatus::Disconnected
        ) {
            return Ok(PollReport {
                outcome: PollOutcome::NeedsReconnect("connect the Page again".into()),
                ..PollReport::default()
            });
        }
        let now = Utc::now();
        if let Some(until) = integration.backoff_until.filter(|u| *u > now) {
            return Ok(PollReport {
                outcome: PollOutcome::BackingOff(until),
                ..PollReport::default()
            });
        }
        let mut report = PollReport::default();
        match self.read_everything(user, &integration, &mut report).await {
            Ok(newest) => {
                if let Some(newest) = newest {
                    // A message written while the listing was read may carry an earlier
                    // time than the newest conversation seen: the next poll reads again
                    // from a little before (what it re-reads is already stored).
                    let covered = newest.min(now) - OVERLAP;
                    meta.save_last_fetch(integration.id, covered).await?;
                } else if integration.last_fetch.is_none() {
                    // An empty Page: its (empty) history is imported. Graph's times are
                    // whole seconds, so a message written in this second reads as
                    // earlier than `now`: the next poll reads from a little before.
                    meta.save_last_fetch(integration.id, now - OVERLAP).await?;
                }
                meta.set_backoff(integration.id, None).await?;
                meta.accounts()
                    .mark_status(integration.account_id, AccountStatus::Active, None)
                    .await?;
            }
            Err(MetaError::Graph(e)) if e.is_expired_token() => {
                meta.accounts()
                    .mark_status(
                        integration.account_id,
                        AccountStatus::NeedsReconnect,
                        Some(&e.message()),
                    )
                    .await?;
                report.outcome = PollOutcome::NeedsReconnect(e.message());
            }
            Err(MetaError::Graph(e)) if e.is_rate_limited() => {
                let until = Utc::now() + self.options.backoff;
                meta.set_backoff(integration.id, Some(until)).await?;
                tracing::info!(integration = %integration.id, error = %e, %until, "Meta rate limit: backing off");
                report.outcome = PollOutcome::BackingOff(until);
            }
            Err(other) => return Err(other),
        }
        report.to_answer = meta.conversations_to_answer(integration.id).await?;
        Ok(report)
    }

    /// Reads and stores every conversation updated since the last poll; returns the
    /// newest `updated_time` seen.
    async fn read_everything(
        &self,
        user: UserId,
        integration: &Integration,
        report: &mut PollReport,
    ) -> Result<Option<DateTime<Utc>>, MetaError> {
        let since = integration.last_fetch;
        let history = since.is_none();
        let mut newest: Option<DateTime<Utc>> = None;
        let mut platforms = vec![MetaPlatform::Messenger];
        if integration.instagram_id.is_some() {
            platforms.push(MetaPlatform::Instagram);
        }
        for platform in platforms {
            let conversations = self
                .updated_conversations(integration, platform, since)
                .await?;
            for conversation in conversations {
                let messages = self
                    .messages_since(integration, &conversation, since)
                    .await?;
                let thread = ReadThread {
                    integration,
                    platform,
                    conversation: &conversation,
                    messages,
                    history,
                    pause: self.options.pause_after_human,
                };
                let mut tx = self.db.pool().begin().await?;
                report.stored += thread.store(&mut tx, user).await?;
                tx.commit().await?;
                newest = newest.max(Some(conversation.updated_time));
            }
        }
        Ok(newest)
    }

    async fn updated_conversations(
        &self,
        integration: &Integration,
        platform: MetaPlatform,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<GraphConversation>, MetaError> {
        let url = format!(
            "{}/{}/conversations?platform={}&fields=id,updated_time,participants",
            integration.graph_url,
            integration.page_id,
            platform.as_str()
        );
        self.newest_since(
            integration,
            url,
            parse_conversations,
            |c| c.updated_time,
            since,
        )
        .await
    }

    async fn messages_since(
        &self,
        integration: &Integration,
        conversation: &GraphConversation,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<GraphMessage>, MetaError> {
        let url = format!(
            "{}/{}/messages?fields=id,created_time,from,to,message",
            integration.graph_url, conversation.id
        );
        let mut found = self
            .newest_since(integration, url, parse_messages, |m| m.created_time, since)
            .await?;
        found.reverse();
        Ok(found)
    }

    /// Follows `paging.next` from `url` through a newest-first listing, keeping items up
    /// to the first one older than `since` (which ends the listing).
    async fn newest_since<T>(
        &self,
        integration: &Integration,
        mut url: String,
        parse: fn(&Value) -> Result<GraphPage<T>, GraphError>,
        at: fn(&T) -> DateTime<Utc>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<T>, MetaError> {
        let mut found = Vec::new();
        loop {
            let body = self.get_paged(&url, &integration.token).await?;
            let page = parse(&body)?;
            let total = page.data.len();
            let kept: Vec<T> = page
                .data
                .into_iter()
                .take_while(|item| since.is_none_or(|s| at(item) >= s))
                .collect();
            let complete = kept.len() < total;
            found.extend(kept);
            match page.next {
                Some(next) if !complete => url = next,
                _ => break,
            }
        }
        Ok(found)
    }

    /// One GET with the poll's page size; a 500 asking for less data is retried with
    /// half the page (down to one item), and high usage slows the next request down.
    async fn get_paged(&self, url: &str, token: &str) -> Result<Value, MetaError> {
        let mut limit = self.options.page_size;
        loop {
            let request = with_limit(url, limit);
            match self.graph.get(&request, token).await {
                Ok(response) => {
                    if response.usage_percent >= self.options.slow_down_at {
                        tracing::info!(
                            usage = response.usage_percent,
                            "Meta usage is high: slowing down"
                        );
                        tokio::time::sleep(self.options.slow_down_pause).await;
                    }
                    return Ok(response.body);
                }
                Err(e) if e.wants_less_data() && limit > 1 => limit /= 2,
                Err(e) => return Err(MetaError::Graph(e)),
            }
        }
    }
}

/// `url` with its `limit` parameter set (a `paging.next` URL carries one already).
pub(super) fn with_limit(url: &str, limit: u32) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("limit="))
        .collect();
    let limit = format!("limit={limit}");
    params.push(&limit);
    format!("{base}?{}", params.join("&"))
}

impl From<GraphError> for MetaError {
    fn from(e: GraphError) -> Self {
        MetaError::Graph(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_size_replaces_the_one_in_the_url() {
        assert_eq!(
            with_limit("http://g/1/conversations?platform=messenger", 25),
            "http://g/1/conversations?platform=messenger&limit=25"
        );
        assert_eq!(
            with_limit("http://g/t/messages?limit=25&after=abc", 12),
            "http://g/t/messages?after=abc&limit=12"
        );
        assert_eq!(with_limit("http://g/x", 3), "http://g/x?limit=3");
    }
}
