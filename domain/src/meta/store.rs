//! Storing what a poll read of one conversation, in one transaction: the conversation
//! (created only by a customer's message), each message once by its platform id, and
//! each message with details as an activity linked to the customer's contact through a
//! handle identity (`messenger:{PSID}` / `instagram:{IGSID}`).

use api::meta::{MetaPlatform, SenderType};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::integration::Integration;
use super::types::{GraphConversation, GraphMessage};
use crate::UserId;

/// One conversation as read from Graph, messages oldest first.
pub(super) struct ReadThread<'a> {
    pub integration: &'a Integration,
    pub platform: MetaPlatform,
    pub conversation: &'a GraphConversation,
    pub messages: Vec<GraphMessage>,
    /// The integration's first import: everything is old and counts as answered.
    pub history: bool,
    /// How long the agent stays quiet after a person replied from the Page.
    pub pause: Duration,
}

/// The thread key activities of a conversation share, for chat views.
pub fn thread_key(platform: MetaPlatform, conversation_id: &str) -> String {
    format!("{}:{conversation_id}", platform.as_str())
}

/// The handle identity of a customer (or of the Page side).
pub fn handle(platform: MetaPlatform, id: &str) -> String {
    format!("{}:{id}", platform.as_str())
}

impl ReadThread<'_> {
    /// The id the Page (or its Instagram account) writes as.
    fn own_id(&self) -> &str {
        match self.platform {
            MetaPlatform::Messenger => &self.integration.page_id,
            MetaPlatform::Instagram => self
                .integration
                .instagram_id
                .as_deref()
                .unwrap_or(&self.integration.page_id),
        }
    }

    fn customer(&self) -> Option<(String, String)> {
        let own = self.own_id();
        self.conversation
            .participants
            .iter()
            .find(|p| p.id != own)
            .or_else(|| {
                self.messages
                    .iter()
                    .filter_map(|m| m.from.as_ref())
                    .find(|p| p.id != own)
            })
            .map(|p| (p.id.clone(), p.name.clone()))
    }

    /// Stores the thread; returns how many messages were new.
    pub(super) async fn store(
        &self,
        conn: &mut PgConnection,
        user: UserId,
    ) -> Result<usize, sqlx::Error> {
        let Some((customer_id, customer_name)) = self.customer() else {
            return Ok(0);
        };
        let own = self.own_id().to_owned();
        let existing = sqlx::query!(
            r#"select id, contact_id from meta_conversations
               where user_id = $1 and platform = $2 and conversation_id = $3"#,
            user.0,
            self.platform.as_str(),
            self.conversation.id,
        )
        .fetch_optional(&mut *conn)
        .await?;
        let (conversation, contact) = match existing {
            Some(row) => (row.id, row.contact_id),
            None => {
                // Messages from the Page never start a conversation.
                let customer_wrote = self
                    .messages
                    .iter()
                    .any(|m| m.from.as_ref().is_some_and(|f| f.id != own));
                if !customer_wrote {
                    return Ok(0);
                }
                let contact = customer_contact(
                    conn,
                    user,
                    &handle(self.platform, &customer_id),
                    &customer_name,
                )
                .await?;
                let id = sqlx::query_scalar!(
                    r#"insert into meta_conversations (user_id, integration_id, platform,
                         conversation_id, customer_id, customer_name, contact_id, ai_enabled)
                       values ($1, $2, $3, $4, $5, $6, $7, $8) returning id"#,
                    user.0,
                    self.integration.id,
                    self.platform.as_str(),
                    self.conversation.id,
                    customer_id,
                    customer_name,
                    contact,
                    self.integration.ai_default,
                )
                .fetch_one(&mut *conn)
                .await?;
                (id, Some(contact))
            }
        };
        let mut stored = 0;
        for message in &self.messages {
            let known = sqlx::query_scalar!(
                r#"select exists(select 1 from meta_messages
                                 where user_id = $1 and platform_message_id = $2) as "known!""#,
                user.0,
                message.id,
            )
            .fetch_one(&mut *conn)
            .await?;
            if known {
                continue;
            }
            let sender = match &message.from {
                None => None,
                Some(from) if from.id == own => Some(
                    adopt_intent(conn, user, conversation, message)
                        .await?
                        .unwrap_or(SenderType::Employee),
                ),
                Some(_) => Some(SenderType::Customer),
            };
            let (is_old, reply_sent) = match (self.history, sender) {
                (true, _) => (true, true),
                (false, Some(SenderType::Customer)) => (false, false),
                (false, _) => (false, true),
            };
            let inserted = sqlx::query_scalar!(
                r#"insert into meta_messages (user_id, conversation_id, platform_message_id,
                     sender, text, sent_at, is_old, reply_sent)
                   values ($1, $2, $3, $4, $5, $6, $7, $8)
                   on conflict (user_id, platform_message_id) do nothing
                   returning id"#,
                user.0,
                conversation,
                message.id,
                sender.map(SenderType::as_str),
                message.text.as_deref().map(pg),
                message.created_time,
                is_old,
                reply_sent,
            )
            .fetch_optional(&mut *conn)
            .await?;
            let Some(row) = inserted else { continue };
            stored += 1;
            if let Some(sender) = sender {
                let activity = MessageActivity {
                    account: self.integration.account_id,
                    platform: self.platform,
                    conversation_id: &self.conversation.id,
                    message_id: &message.id,
                    from_customer: sender == SenderType::Customer,
                    customer: (&customer_id, &customer_name, contact),
                    own_id: &own,
                    text: message.text.as_deref().unwrap_or_default(),
                    at: message.created_time,
                };
                activity.insert(conn, user, row).await?;
            }
            if !self.history {
                after_new_message(
                    conn,
                    user,
                    conversation,
                    sender,
                    message.created_time,
                    self.pause,
                )
                .await?;
            }
        }
        sqlx::query!(
            r#"update meta_conversations c set last_message_at = m.sent_at, last_message_text = m.text
               from (select sent_at, text from meta_messages
                     where user_id = $1 and conversation_id = $2 and sender is not null
                     order by sent_at desc, created_at desc limit 1) m
               where c.user_id = $1 and c.id = $2"#,
            user.0,
            conversation,
        )
        .execute(&mut *conn)
        .await?;
        Ok(stored)
    }
}

/// A Page message matching a pending send of Rapport's (the worker died before it
/// recorded the answer): the intent is completed with the message's id, and the
/// message counts as the intent's sender rather than as a person's reply.
async fn adopt_intent(
    conn: &mut PgConnection,
    user: UserId,
    conversation: Uuid,
    message: &GraphMessage,
) -> Result<Option<SenderType>, sqlx::Error> {
    let sent_id = sqlx::query!(
        r#"select sender as "sender: SenderType" from send_intents
           where user_id = $1 and conversation_id = $2 and platform_message_id = $3"#,
        user.0,
        conversation,
        message.id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = sent_id {
        return Ok(Some(row.sender));
    }
    let Some(text) = message.text.as_deref() else {
        return Ok(None);
    };
    let adopted = sqlx::query!(
        r#"update send_intents set state = 'sent', platform_message_id = $4
           where id = (select id from send_intents
                       where user_id = $1 and conversation_id = $2 and state = 'pending'
                         and text = $3 order by created_at limit 1)
           returning sender as "sender: SenderType", turn_id"#,
        user.0,
        conversation,
        text,
        message.id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(adopted) = adopted else {
        return Ok(None);
    };
    if let Some(turn) = adopted.turn_id {
        super::agent::complete_turn_after_send(conn, user, conversation, turn).await?;
    }
    Ok(Some(adopted.sender))
}

/// A person's reply from the Page answers what the customer wrote before it and pauses
/// the agent; a customer writing reopens a closed conversation.
async fn after_new_message(
    conn: &mut PgConnection,
    user: UserId,
    conversation: Uuid,
    sender: Option<SenderType>,
    at: DateTime<Utc>,
    pause: Duration,
) -> Result<(), sqlx::Error> {
    match sender {
        Some(SenderType::Employee) => {
            sqlx::query!(
                r#"update meta_messages set reply_sent = true
                   where user_id = $1 and conversation_id = $2 and sender = 'customer'
                     and sent_at <= $3 and not reply_sent"#,
                user.0,
                conversation,
                at,
            )
            .execute(&mut *conn)
            .await?;
            sqlx::query!(
                r#"update meta_conversations
                   set paused_until = greatest(coalesce(paused_until, $3), $3),
                       status = case when status = 'new' then 'open' else status end
                   where user_id = $1 and id = $2"#,
                user.0,
                conversation,
                at + pause,
            )
            .execute(&mut *conn)
            .await?;
        }
        Some(SenderType::Customer) => {
            sqlx::query!(
                r#"update meta_conversations set status = 'open'
                   where user_id = $1 and id = $2 and status = 'closed'"#,
                user.0,
                conversation,
            )
            .execute(&mut *conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// The customer's contact: the one holding their handle identity, or a new contact
/// named as Graph names them.
pub(super) async fn customer_contact(
    conn: &mut PgConnection,
    user: UserId,
    handle: &str,
    name: &str,
) -> Result<Uuid, sqlx::Error> {
    let known = sqlx::query_scalar!(
        r#"select coalesce(c.merged_into, c.id) as "id!"
           from contact_identities ci
           join contacts c on c.user_id = ci.user_id and c.id = ci.contact_id
           where ci.user_id = $1 and ci.kind = 'handle' and ci.value = $2"#,
        user.0,
        handle,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = known {
        return Ok(id);
    }
    let name = name.trim();
    let contact = sqlx::query_scalar!(
        "insert into contacts (user_id, display_name) values ($1, $2) returning id",
        user.0,
        (!name.is_empty()).then(|| pg(name)),
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        r#"insert into contact_identities (user_id, contact_id, kind, value, source)
           values ($1, $2, 'handle', $3, 'import')"#,
        user.0,
        contact,
        handle,
    )
    .execute(&mut *conn)
    .await?;
    Ok(contact)
}

/// A message as a timeline activity (`messenger` / `instagram`).
pub(super) struct MessageActivity<'a> {
    pub account: Uuid,
    pub platform: MetaPlatform,
    pub conversation_id: &'a str,
    pub message_id: &'a str,
    pub from_customer: bool,
    /// (id, name, contact)
    pub customer: (&'a str, &'a str, Option<Uuid>),
    pub own_id: &'a str,
    pub text: &'a str,
    pub at: DateTime<Utc>,
}

impl MessageActivity<'_> {
    /// Inserts the activity (once per message id) and links it to the message row.
    pub(super) async fn insert(
        &self,
        conn: &mut PgConnection,
        user: UserId,
        message_row: Uuid,
    ) -> Result<(), sqlx::Error> {
        let direction = if self.from_customer {
            "inbound"
        } else {
            "outbound"
        };
        let text = pg(self.text);
        let snippet: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(200)
            .collect();
        let Some(activity) = sqlx::query_scalar!(
            r#"insert into activities (user_id, account_id, external_id, channel, direction,
                 occurred_at, thread_key, snippet, body_text)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               on conflict (account_id, external_id) do nothing
               returning id"#,
            user.0,
            self.account,
            self.message_id,
            self.platform.channel().as_str(),
            direction,
            self.at,
            thread_key(self.platform, self.conversation_id),
            snippet,
            text,
        )
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(());
        };
        let (customer_id, customer_name, contact) = self.customer;
        let customer = handle(self.platform, customer_id);
        let own = handle(self.platform, self.own_id);
        let (from, to) = if self.from_customer {
            ((&customer, contact), (&own, None))
        } else {
            ((&own, None), (&customer, contact))
        };
        for (role, (address, contact)) in [("from", from), ("to", to)] {
            let name = (contact.is_some() && !customer_name.is_empty()).then(|| pg(customer_name));
            sqlx::query!(
                r#"insert into activity_participants (user_id, activity_id, role, address_kind,
                     address, display_name, occurred_at, contact_id)
                   values ($1, $2, $3, 'handle', $4, $5, $6, $7)
                   on conflict do nothing"#,
                user.0,
                activity,
                role,
                address,
                name,
                self.at,
                contact,
            )
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query!(
            r#"insert into sync_ledger (user_id, account_id, external_id, outcome, activity_id)
               values ($1, $2, $3, 'imported', $4)
               on conflict (account_id, external_id) do nothing"#,
            user.0,
            self.account,
            self.message_id,
            activity,
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "update meta_messages set activity_id = $3 where user_id = $1 and id = $2",
            user.0,
            message_row,
            activity,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// Postgres text cannot hold NUL.
pub(super) fn pg(text: &str) -> String {
    text.replace('\0', "")
}
