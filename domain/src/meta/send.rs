//! Sending through the Send API so that a worker killed at any point never sends twice:
//! the intent (conversation, text, the turn it belongs to) is committed before the
//! request; after a crash a pending intent is first looked for in the conversation on
//! Graph (a Page message with its text, sent after it), and only sent again when it is
//! not there. The sent message, its id, the answered customer messages and the turn's
//! outcome are stored in one transaction.

use api::meta::{MetaPlatform, SenderType, TurnOutcome};
use chrono::{Duration, SubsecRound, Utc};
use uuid::Uuid;

use super::agent::{complete_turn_after_send, finish};
use super::graph::GraphApi;
use super::integration::Integration;
use super::poll::with_limit;
use super::store::MessageActivity;
use super::types::parse_messages;
use super::{MetaError, MetaService};
use crate::{DomainError, UserId};

/// What happened to a message Rapport sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Delivered; Graph's message id.
    Sent(String),
    /// The customer's last message is older than 24 hours: Meta refused, nothing sent.
    OutsideWindow,
}

struct Target {
    integration: Integration,
    platform: MetaPlatform,
    conversation_id: String,
    customer_id: String,
    customer_name: String,
    contact: Option<Uuid>,
}

struct Intent {
    id: Uuid,
    turn: Option<Uuid>,
    sender: SenderType,
    text: String,
    created_at: chrono::DateTime<Utc>,
}

impl<G: GraphApi> MetaService<G> {
    /// A person's reply from Rapport's reply box: sent as an employee message, which
    /// answers the customer and pauses the agent.
    pub async fn reply(
        &self,
        user: UserId,
        conversation: Uuid,
        text: &str,
    ) -> Result<SendOutcome, MetaError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 2000 {
            return Err(DomainError::invalid("reply", "must be 1 to 2000 characters").into());
        }
        self.send_reply(user, conversation, None, SenderType::Employee, text)
            .await
    }

    pub(super) async fn send_reply(
        &self,
        user: UserId,
        conversation: Uuid,
        turn: Option<Uuid>,
        sender: SenderType,
        text: &str,
    ) -> Result<SendOutcome, MetaError> {
        let target = self.target(user, conversation).await?;
        let inserted = sqlx::query!(
            r#"insert into send_intents (user_id, conversation_id, turn_id, sender, text)
               values ($1, $2, $3, $4, $5) on conflict (turn_id) do nothing
               returning id, created_at"#,
            user.0,
            conversation,
            turn,
            sender.as_str(),
            text,
        )
        .fetch_optional(self.db.pool())
        .await?;
        match inserted {
            Some(row) => {
                let intent = Intent {
                    id: row.id,
                    turn,
                    sender,
                    text: text.to_owned(),
                    created_at: row.created_at,
                };
                self.deliver(user, conversation, &target, &intent).await
            }
            // Another run of the same turn recorded its intent: that run sends.
            None => Err(DomainError::Conflict("send of this agent turn").into()),
        }
    }

    /// Finishes the send of a turn a stopped worker left; `None` when the turn never
    /// got as far as recording an intent.
    pub(super) async fn resume_send(
        &self,
        user: UserId,
        conversation: Uuid,
        turn: Uuid,
    ) -> Result<Option<TurnOutcome>, MetaError> {
        let Some(row) = sqlx::query!(
            r#"select id, sender as "sender: SenderType", text, state, created_at
               from send_intents where user_id = $1 and turn_id = $2"#,
            user.0,
            turn,
        )
        .fetch_optional(self.db.pool())
        .await?
        else {
            return Ok(None);
        };
        let intent = Intent {
            id: row.id,
            turn: Some(turn),
            sender: row.sender,
            text: row.text,
            created_at: row.created_at,
        };
        let outcome = match row.state.as_str() {
            "sent" => {
                let mut tx = self.db.pool().begin().await?;
                complete_turn_after_send(&mut tx, user, conversation, turn).await?;
                tx.commit().await?;
                TurnOutcome::Replied
            }
            "failed" => TurnOutcome::Failed,
            _ => {
                let target = self.target(user, conversation).await?;
                match self.already_sent(&target, &intent).await? {
                    Some(message_id) => {
                        tracing::info!(%conversation, "a reply sent before a crash was found; not sending again");
                        self.record(user, conversation, &target, &intent, &message_id)
                            .await?;
                        TurnOutcome::Replied
                    }
                    None => match self.deliver(user, conversation, &target, &intent).await? {
                        SendOutcome::Sent(_) => TurnOutcome::Replied,
                        SendOutcome::OutsideWindow => TurnOutcome::OutsideWindow,
                    },
                }
            }
        };
        Ok(Some(outcome))
    }

    async fn target(&self, user: UserId, conversation: Uuid) -> Result<Target, MetaError> {
        let row = sqlx::query!(
            r#"select integration_id, platform as "platform: MetaPlatform", conversation_id,
                      customer_id, customer_name, contact_id
               from meta_conversations where user_id = $1 and id = $2"#,
            user.0,
            conversation,
        )
        .fetch_optional(self.db.pool())
        .await?
        .ok_or(MetaError::NotFound)?;
        let integration = self
            .db
            .for_user(user)
            .meta()
            .integration(row.integration_id, &self.secrets)
            .await?
            .ok_or(MetaError::NotFound)?;
        Ok(Target {
            integration,
            platform: row.platform,
            conversation_id: row.conversation_id,
            customer_id: row.customer_id,
            customer_name: row.customer_name,
            contact: row.contact_id,
        })
    }

    fn own_id<'a>(&self, target: &'a Target) -> &'a str {
        match target.platform {
            MetaPlatform::Instagram => target
                .integration
                .instagram_id
                .as_deref()
                .unwrap_or(&target.integration.page_id),
            MetaPlatform::Messenger => &target.integration.page_id,
        }
    }

    /// A Page message in the conversation with the intent's text, sent after the
    /// intent was recorded, that no stored message claims.
    async fn already_sent(
        &self,
        target: &Target,
        intent: &Intent,
    ) -> Result<Option<String>, MetaError> {
        let url = with_limit(
            &format!(
                "{}/{}/messages?fields=id,created_time,from,message",
                target.integration.graph_url, target.conversation_id
            ),
            25,
        );
        let response = self.graph.get(&url, &target.integration.token).await?;
        let page = parse_messages(&response.body)?;
        let own = self.own_id(target);
        let candidates: Vec<String> = page
            .data
            .into_iter()
            .filter(|m| {
                m.from.as_ref().is_some_and(|f| f.id == own)
                    && m.text.as_deref() == Some(intent.text.as_str())
                    // Graph's times have whole seconds.
                    && m.created_time >= intent.created_at - Duration::seconds(1)
            })
            .map(|m| m.id)
            .collect();
        for id in candidates {
            let claimed = sqlx::query_scalar!(
                r#"select exists(select 1 from send_intents where platform_message_id = $1 and id <> $2)
                     or exists(select 1 from meta_messages m where m.platform_message_id = $1
                               and not exists (select 1 from send_intents i
                                               where i.id = $2 and i.platform_message_id = $1))
                   as "claimed!""#,
                id,
                intent.id,
            )
            .fetch_one(self.db.pool())
            .await?;
            if !claimed {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    async fn deliver(
        &self,
        user: UserId,
        conversation: Uuid,
        target: &Target,
        intent: &Intent,
    ) -> Result<SendOutcome, MetaError> {
        let sent = self
            .graph
            .send(
                &target.integration.graph_url,
                &target.integration.page_id,
                &target.integration.token,
                &target.customer_id,
                &intent.text,
            )
            .await;
        match sent {
            Ok(message_id) => {
                self.record(user, conversation, target, intent, &message_id)
                    .await?;
                Ok(SendOutcome::Sent(message_id))
            }
            Err(e) if e.is_outside_window() => {
                sqlx::query!(
                    "update send_intents set state = 'failed', error = $2 where id = $1",
                    intent.id,
                    e.message(),
                )
                .execute(self.db.pool())
                .await?;
                if let Some(turn) = intent.turn {
                    finish(
                        self.db.pool(),
                        turn,
                        TurnOutcome::OutsideWindow,
                        Some(&e.message()),
                    )
                    .await?;
                }
                Ok(SendOutcome::OutsideWindow)
            }
            Err(e) => {
                if e.is_expired_token() {
                    self.db
                        .for_user(user)
                        .accounts()
                        .mark_status(
                            target.integration.account_id,
                            api::AccountStatus::NeedsReconnect,
                            Some(&e.message()),
                        )
                        .await?;
                }
                Err(MetaError::Graph(e))
            }
        }
    }

    /// Stores the sent message with Graph's id, completes the intent and the turn, and
    /// for a person's reply answers the customer and pauses the agent: one transaction.
    async fn record(
        &self,
        user: UserId,
        conversation: Uuid,
        target: &Target,
        intent: &Intent,
        message_id: &str,
    ) -> Result<(), MetaError> {
        // Graph's times have second precision, as the customer's messages are stored:
        // a reply kept to the millisecond would sort after a customer message written
        // later in the same second, and the agent's next turn would see its own reply
        // as the newest message instead of the customer's question.
        let now = Utc::now().trunc_subsecs(0);
        let mut tx = self.db.pool().begin().await?;
        let inserted = sqlx::query_scalar!(
            r#"insert into meta_messages (user_id, conversation_id, platform_message_id, sender,
                 text, sent_at, is_old, reply_sent)
               values ($1, $2, $3, $4, $5, $6, false, true)
               on conflict (user_id, platform_message_id) do nothing returning id"#,
            user.0,
            conversation,
            message_id,
            intent.sender.as_str(),
            intent.text,
            now,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = inserted {
            MessageActivity {
                account: target.integration.account_id,
                platform: target.platform,
                conversation_id: &target.conversation_id,
                message_id,
                from_customer: false,
                customer: (&target.customer_id, &target.customer_name, target.contact),
                own_id: self.own_id(target),
                text: &intent.text,
                at: now,
            }
            .insert(&mut tx, user, row)
            .await?;
        }
        sqlx::query!(
            "update send_intents set state = 'sent', platform_message_id = $2 where id = $1",
            intent.id,
            message_id,
        )
        .execute(&mut *tx)
        .await?;
        match intent.turn {
            Some(turn) => complete_turn_after_send(&mut tx, user, conversation, turn).await?,
            None => {
                sqlx::query!(
                    r#"update meta_messages set reply_sent = true
                       where user_id = $1 and conversation_id = $2 and sender = 'customer' and not reply_sent"#,
                    user.0,
                    conversation,
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query!(
                    r#"update meta_conversations set paused_until = $3,
                         status = case when status = 'new' then 'open' else status end
                       where user_id = $1 and id = $2"#,
                    user.0,
                    conversation,
                    now + self.options.pause_after_human,
                )
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query!(
            r#"update meta_conversations set last_message_at = $3, last_message_text = $4
               where user_id = $1 and id = $2"#,
            user.0,
            conversation,
            now,
            intent.text,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
