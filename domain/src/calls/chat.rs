//! A chat activity's conversation: every message of its thread on the same channel
//! (WhatsApp, SMS, Messenger, Instagram), both directions, oldest first. Messages are
//! grouped by `thread_key` (`timelinesai:{chat}`, `messenger:{id}`, or for Twilio
//! SMS the two numbers, `sms:+1555…,+1555…`).

use api::calls::{ChatAttachment, ChatMessage, ChatThread};
use api::{Channel, Direction};
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::CallsScope;

/// The most messages one chat view shows (the newest of them).
const MAX_MESSAGES: i64 = 500;

impl CallsScope<'_> {
    /// The conversation activity `opened` belongs to. `NotFound` for anything that is
    /// not one of this user's chat messages.
    pub async fn chat(self, opened: Uuid) -> Result<ChatThread, DomainError> {
        let not_found = || DomainError::NotFound("chat");
        let anchor = sqlx::query!(
            r#"select channel as "channel: Channel", thread_key
               from activities
               where user_id = $1 and id = $2 and deleted_at is null"#,
            self.user.0,
            opened,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or_else(not_found)?;
        if !anchor.channel.is_chat() {
            return Err(not_found());
        }
        let mut rows = sqlx::query!(
            r#"select a.id, a.occurred_at, a.direction as "direction: Direction",
                      a.body_text, a.snippet, a.attachments,
                      coalesce(a.headers ->> 'is_group', 'false') = 'true' as "is_group!",
                      (select coalesce(p.display_name, p.address) from activity_participants p
                       where p.user_id = $1 and p.activity_id = a.id and p.role = 'from'
                       order by p.address limit 1) as sender,
                      (select p.address from activity_participants p
                       where p.user_id = $1 and p.activity_id = a.id and p.role = 'from'
                       order by p.address limit 1) as sender_address
               from activities a
               where a.user_id = $1 and a.channel = $2 and a.deleted_at is null
                 -- Chat messages carry a thread key (the provider's, or the people it
                 -- is between: `WebhookActivity::conversation_key`); one without is a
                 -- chat of its own.
                 and (a.thread_key = $3 or a.id = $4)
               order by a.occurred_at desc, a.id desc
               limit $5"#,
            self.user.0,
            anchor.channel.as_str(),
            anchor.thread_key,
            opened,
            MAX_MESSAGES,
        )
        .fetch_all(self.pool)
        .await?;
        // The newest were taken; the chat reads oldest first.
        rows.reverse();
        let mut inbound_senders: Vec<&str> = rows
            .iter()
            .filter(|r| r.direction != Some(Direction::Outbound))
            .filter_map(|r| r.sender_address.as_deref())
            .collect();
        inbound_senders.sort_unstable();
        inbound_senders.dedup();
        let group = inbound_senders.len() > 1 || rows.iter().any(|r| r.is_group);
        let mut names: Vec<String> = rows
            .iter()
            .filter(|r| r.direction != Some(Direction::Outbound))
            .filter_map(|r| r.sender.clone())
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        names.retain(|n| seen.insert(n.clone()));
        let title = if names.is_empty() {
            anchor.channel.to_string()
        } else {
            names.join(", ")
        };
        let messages = rows
            .into_iter()
            .map(|r| ChatMessage {
                id: r.id,
                occurred_at: r.occurred_at,
                direction: r.direction,
                sender: match r.direction {
                    Some(Direction::Outbound) => "You".to_owned(),
                    _ => r.sender.unwrap_or_else(|| "Unknown".to_owned()),
                },
                text: r.body_text.or(r.snippet),
                attachments: attachments(&r.attachments),
            })
            .collect();
        Ok(ChatThread {
            channel: anchor.channel,
            title,
            group,
            opened,
            messages,
        })
    }
}

/// The attachments column as the chat shows it: a name, a type and a link when the
/// provider gave one.
fn attachments(value: &serde_json::Value) -> Vec<ChatAttachment> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|a| ChatAttachment {
                    name: a["filename"]
                        .as_str()
                        .or(a["file_name"].as_str())
                        .map(str::to_owned),
                    content_type: a["content_type"].as_str().map(str::to_owned),
                    url: a["url"]
                        .as_str()
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                        .map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default()
}
