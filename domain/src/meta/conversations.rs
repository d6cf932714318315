//! Conversations as the pages read them, and what the user changes: the AI toggle and
//! the status.

use api::meta::{ConversationStatus, MetaPlatform, SenderType, TurnOutcome};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::MetaScope;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub platform: MetaPlatform,
    pub customer_name: String,
    pub contact_id: Option<Uuid>,
    pub status: ConversationStatus,
    pub ai_enabled: bool,
    pub paused_until: Option<DateTime<Utc>>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_message_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationMessage {
    pub id: Uuid,
    pub sender: Option<SenderType>,
    pub text: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub is_old: bool,
    pub reply_sent: bool,
}

/// One logged agent turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentTurn {
    pub id: Uuid,
    pub outcome: TurnOutcome,
    pub context: serde_json::Value,
    pub tool_calls: serde_json::Value,
    pub reply: Option<String>,
    pub handoff_reason: Option<String>,
    pub model: String,
    pub tokens: i32,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Filters of the conversation list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub platform: Option<MetaPlatform>,
}

impl MetaScope<'_> {
    pub async fn conversations(
        self,
        filter: &ConversationFilter,
    ) -> Result<Vec<ConversationSummary>, DomainError> {
        Ok(sqlx::query_as!(
            ConversationSummary,
            r#"select id, platform as "platform: MetaPlatform", customer_name, contact_id,
                      status as "status: ConversationStatus", ai_enabled, paused_until,
                      last_message_at, last_message_text
               from meta_conversations
               where user_id = $1 and ($2::text is null or status = $2)
                 and ($3::text is null or platform = $3)
               order by last_message_at desc nulls last, id limit 500"#,
            self.user.0,
            filter.status.map(ConversationStatus::as_str),
            filter.platform.map(MetaPlatform::as_str),
        )
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn conversation(self, id: Uuid) -> Result<ConversationSummary, DomainError> {
        sqlx::query_as!(
            ConversationSummary,
            r#"select id, platform as "platform: MetaPlatform", customer_name, contact_id,
                      status as "status: ConversationStatus", ai_enabled, paused_until,
                      last_message_at, last_message_text
               from meta_conversations where user_id = $1 and id = $2"#,
            self.user.0,
            id,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("conversation"))
    }

    /// The thread, oldest first.
    pub async fn messages(
        self,
        conversation: Uuid,
    ) -> Result<Vec<ConversationMessage>, DomainError> {
        Ok(sqlx::query_as!(
            ConversationMessage,
            r#"select id, sender as "sender: SenderType", text, sent_at, is_old, reply_sent
               from meta_messages where user_id = $1 and conversation_id = $2
               order by sent_at, created_at"#,
            self.user.0,
            conversation,
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// The agent's log, newest first.
    pub async fn turns(self, conversation: Uuid) -> Result<Vec<AgentTurn>, DomainError> {
        Ok(sqlx::query_as!(
            AgentTurn,
            r#"select id, outcome as "outcome: TurnOutcome", context, tool_calls, reply,
                      handoff_reason, model, tokens, latency_ms, error, created_at
               from agent_turns where user_id = $1 and conversation_id = $2
               order by created_at desc"#,
            self.user.0,
            conversation,
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Switches the agent on or off for a conversation. On needs a model: without one
    /// the answer says why.
    pub async fn set_ai_enabled(
        self,
        conversation: Uuid,
        on: bool,
        model_configured: bool,
    ) -> Result<(), DomainError> {
        if on && !model_configured {
            return Err(DomainError::invalid(
                "AI",
                "no model is configured: set OPENAI_API_KEY (or OPENAI_BASE_URL) to use the agent",
            ));
        }
        let done = sqlx::query!(
            "update meta_conversations set ai_enabled = $3 where user_id = $1 and id = $2",
            self.user.0,
            conversation,
            on,
        )
        .execute(self.pool)
        .await?;
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("conversation")),
            _ => Ok(()),
        }
    }

    pub async fn set_status(
        self,
        conversation: Uuid,
        status: ConversationStatus,
    ) -> Result<(), DomainError> {
        let done = sqlx::query!(
            "update meta_conversations set status = $3 where user_id = $1 and id = $2",
            self.user.0,
            conversation,
            status.as_str(),
        )
        .execute(self.pool)
        .await?;
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("conversation")),
            _ => Ok(()),
        }
    }

    /// Conversations of the integration where the agent has something to answer: on,
    /// not pending or closed, not paused, with a new unanswered customer message that
    /// no finished turn covers.
    pub async fn conversations_to_answer(
        self,
        integration: Uuid,
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        sqlx::query_scalar!(
            r#"select c.id from meta_conversations c
               where c.user_id = $1 and c.integration_id = $2 and c.ai_enabled
                 and c.status in ('new', 'open')
                 and (c.paused_until is null or c.paused_until <= now())
                 and exists (select 1 from meta_messages m
                             where m.user_id = $1 and m.conversation_id = c.id
                               and m.sender = 'customer' and not m.is_old and not m.reply_sent
                               and not exists (select 1 from agent_turns t
                                               where t.answers_message_id = m.id
                                                 and t.outcome <> 'running'))"#,
            self.user.0,
            integration,
        )
        .fetch_all(self.pool)
        .await
    }
}
