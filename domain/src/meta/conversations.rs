//! Conversations as the pages read them, and what the user changes: the AI toggle and
//! the status.

pub use api::conversations::{
    AgentTurn, ConversationMessage, ConversationSummary, ConversationsPage, Handoff,
};
use api::conversations::{CONVERSATIONS_PAGE, decode_cursor, encode_cursor};
use api::meta::{ConversationStatus, MetaPlatform, SenderType, TurnOutcome};
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::MetaScope;

/// Who a conversation is with and through which Page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationCustomer {
    pub integration_id: Uuid,
    pub page_id: String,
    pub platform: MetaPlatform,
    pub customer_id: String,
    pub customer_name: String,
}

/// Filters of the conversation list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub platform: Option<MetaPlatform>,
}

impl MetaScope<'_> {
    /// One page of the user's conversations, newest message first, after `cursor`
    /// (empty: the first page). A cursor this version did not write is refused.
    pub async fn conversations(
        self,
        filter: &ConversationFilter,
        cursor: &str,
    ) -> Result<ConversationsPage, DomainError> {
        let after = match cursor {
            "" => None,
            cursor => Some(
                decode_cursor(cursor)
                    .ok_or_else(|| DomainError::invalid("cursor", "not a page of this list"))?,
            ),
        };
        let mut rows = sqlx::query_as!(
            ConversationSummary,
            r#"select id, platform as "platform: MetaPlatform", customer_name, contact_id,
                      status as "status: ConversationStatus", ai_enabled, paused_until,
                      last_message_at, last_message_text
               from meta_conversations
               where user_id = $1 and ($2::text is null or status = $2)
                 and ($3::text is null or platform = $3)
                 and ($4::timestamptz is null
                      or (coalesce(last_message_at, 'epoch'), id) < ($4, $5))
               order by coalesce(last_message_at, 'epoch') desc, id desc limit $6"#,
            self.user.0,
            filter.status.map(ConversationStatus::as_str),
            filter.platform.map(MetaPlatform::as_str),
            after.map(|(at, _)| at),
            after.map(|(_, id)| id).unwrap_or_default(),
            CONVERSATIONS_PAGE + 1,
        )
        .fetch_all(self.pool)
        .await?;
        let more = rows.len() as i64 > CONVERSATIONS_PAGE;
        rows.truncate(CONVERSATIONS_PAGE as usize);
        let next = more
            .then(|| rows.last().map(|r| encode_cursor(r.last_message_at, r.id)))
            .flatten();
        Ok(ConversationsPage { rows, next })
    }

    /// Conversations the agent handed to a person that are still pending, newest
    /// first: what the handoff banner announces.
    pub async fn handoffs(self) -> Result<Vec<Handoff>, DomainError> {
        Ok(sqlx::query_as!(
            Handoff,
            r#"select c.id as conversation_id, c.platform as "platform: MetaPlatform",
                      c.customer_name, t.handoff_reason as reason, t.created_at as "at!"
               from meta_conversations c
               join lateral (select outcome, handoff_reason, created_at from agent_turns
                             where user_id = $1 and conversation_id = c.id
                             order by created_at desc limit 1) t on true
               where c.user_id = $1 and c.status = 'pending' and t.outcome = 'handoff'
               order by t.created_at desc limit 20"#,
            self.user.0,
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

    pub async fn customer(self, id: Uuid) -> Result<ConversationCustomer, DomainError> {
        sqlx::query_as!(
            ConversationCustomer,
            r#"select c.integration_id, i.page_id, c.platform as "platform: MetaPlatform",
                      c.customer_id, c.customer_name
               from meta_conversations c join meta_integrations i on i.id = c.integration_id
               where c.user_id = $1 and c.id = $2"#,
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

/// A Page's conversation as stored, with the customer's newest message: what a fake
/// Graph API started again needs to be given back (demo mode after a restart). Every
/// user who connected the Page stored the same Graph ids, so each comes once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredThread {
    pub platform: MetaPlatform,
    pub conversation_id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub message_id: String,
    pub text: String,
    pub sent_at: chrono::DateTime<chrono::Utc>,
}

pub async fn stored_threads(
    db: &crate::Db,
    page_id: &str,
) -> Result<Vec<StoredThread>, sqlx::Error> {
    sqlx::query_as!(
        StoredThread,
        r#"select distinct on (c.platform, c.conversation_id)
                  c.platform as "platform: MetaPlatform", c.conversation_id, c.customer_id,
                  c.customer_name, m.platform_message_id as message_id, m.text as "text!",
                  m.sent_at
           from meta_conversations c
           join meta_integrations i on i.id = c.integration_id
           join meta_messages m on m.user_id = c.user_id and m.conversation_id = c.id
           where i.page_id = $1 and m.sender = 'customer' and m.text is not null
           order by c.platform, c.conversation_id, m.sent_at desc, m.created_at desc"#,
        page_id,
    )
    .fetch_all(db.pool())
    .await
}

/// The users who connected the Page.
pub async fn users_of_page(
    db: &crate::Db,
    page_id: &str,
) -> Result<Vec<crate::UserId>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "select user_id from meta_integrations where page_id = $1 order by created_at",
        page_id,
    )
    .fetch_all(db.pool())
    .await?
    .into_iter()
    .map(crate::UserId)
    .collect())
}
