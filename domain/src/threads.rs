//! Reading mail: the conversation an email belongs to, its HTML for the mail frame, and
//! the user's choice to load a message's remote images. Threads are found when a
//! message is opened (see [`crate::mail::thread`] for the rules), so they cover mail
//! stored before threading existed and never go stale when a late reply arrives.

use std::collections::BTreeSet;

use api::mail::{Attachment, MessageBody, Person, RemoteImages, Thread, ThreadMessage};
use api::{Direction, ParticipantRole, Provider};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::ThreadsScope;
use crate::mail::frame::{FrameDocument, document};
use crate::mail::quotes::split_quotes;
use crate::mail::thread::{ThreadCandidate, thread_members, thread_subject};
use crate::mail::{AttachmentMeta, REMOTE_IMAGE_ATTRIBUTE, frame_html};

/// Most messages considered for one thread: a common subject ("Hello") could otherwise
/// pull in years of unrelated mail, which the rules would then discard anyway.
const MAX_CANDIDATES: i64 = 2_000;

struct MessageRow {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    direction: Option<Direction>,
    subject: Option<String>,
    body_text: Option<String>,
    has_html: bool,
    has_remote_images: bool,
    remote_images_allowed: bool,
    attachments: serde_json::Value,
    thread_key: Option<String>,
    provider: Provider,
}

struct ParticipantRow {
    activity_id: Uuid,
    role: ParticipantRole,
    address: String,
    display_name: Option<String>,
}

fn not_found() -> DomainError {
    DomainError::NotFound("email")
}

impl ThreadsScope<'_> {
    /// The conversation containing email `activity`, oldest first. `NotFound` for
    /// anything that is not one of this user's (undeleted) emails.
    pub async fn thread_of(self, activity: Uuid) -> Result<Thread, DomainError> {
        let anchor = sqlx::query!(
            r#"select thread_key, subject,
                      headers ->> 'message_id' as message_id,
                      array(select jsonb_array_elements_text(
                        coalesce(headers -> 'references', '[]') || coalesce(headers -> 'in_reply_to', '[]')))
                        as "named!"
               from activities
               where user_id = $1 and id = $2 and channel = 'email' and deleted_at is null"#,
            self.user.0,
            activity,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or_else(not_found)?;
        let mut ids = anchor.named;
        ids.extend(anchor.message_id);
        let candidates = sqlx::query!(
            r#"select a.id, a.thread_key, a.subject,
                      a.headers ->> 'message_id' as message_id,
                      array(select jsonb_array_elements_text(coalesce(a.headers -> 'references', '[]')))
                        as "references!",
                      array(select jsonb_array_elements_text(coalesce(a.headers -> 'in_reply_to', '[]')))
                        as "in_reply_to!",
                      array(select lower(p.address) from activity_participants p
                            where p.user_id = $1 and p.activity_id = a.id
                              and p.role in ('from', 'to', 'cc')) as "participants!"
               from activities a
               where a.user_id = $1 and a.channel = 'email' and a.deleted_at is null
                 and (a.id = $2
                      or a.thread_key = $3
                      or a.headers ->> 'message_id' = any($4)
                      or a.headers -> 'references' ->> 0 = any($4)
                      or a.headers -> 'in_reply_to' ->> 0 = any($4)
                      or mail_thread_subject(a.subject) = $5)
               order by a.occurred_at, a.id
               limit $6"#,
            self.user.0,
            activity,
            anchor.thread_key,
            &ids,
            anchor.subject.as_deref().and_then(thread_subject),
            MAX_CANDIDATES,
        )
        .fetch_all(self.pool)
        .await?
        .into_iter()
        .map(|c| ThreadCandidate {
            id: c.id,
            provider_thread: c.thread_key,
            message_id: c.message_id,
            references: c.references,
            in_reply_to: c.in_reply_to,
            subject: c.subject,
            participants: c.participants.into_iter().collect::<BTreeSet<_>>(),
        })
        .collect::<Vec<_>>();
        let members = thread_members(activity, &candidates);
        let rows = sqlx::query_as!(
            MessageRow,
            r#"select a.id, a.occurred_at, a.direction as "direction: Direction", a.subject,
                      a.body_text, a.body_html is not null as "has_html!",
                      coalesce(a.body_html like '%' || $3 || '="http%', false) as "has_remote_images!",
                      a.remote_images_allowed_at is not null as "remote_images_allowed!",
                      a.attachments, a.thread_key, acc.provider as "provider: Provider"
               from activities a
               join accounts acc on acc.user_id = a.user_id and acc.id = a.account_id
               where a.user_id = $1 and a.id = any($2)
               order by a.occurred_at, a.id"#,
            self.user.0,
            &members,
            REMOTE_IMAGE_ATTRIBUTE,
        )
        .fetch_all(self.pool)
        .await?;
        let participants = sqlx::query_as!(
            ParticipantRow,
            r#"select activity_id, role as "role: ParticipantRole", address, display_name
               from activity_participants
               where user_id = $1 and activity_id = any($2) and role in ('from', 'to', 'cc')
               order by activity_id, role, address"#,
            self.user.0,
            &members,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(thread(activity, rows, &participants))
    }

    /// Email `activity`'s HTML for the mail frame. `NotFound` when it is not this
    /// user's or has no HTML body.
    pub async fn frame(self, activity: Uuid) -> Result<FrameDocument, DomainError> {
        let row = sqlx::query!(
            r#"select body_html as "body_html!", remote_images_allowed_at is not null as "allowed!"
               from activities
               where user_id = $1 and id = $2 and channel = 'email' and deleted_at is null
                 and body_html is not null"#,
            self.user.0,
            activity,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or_else(not_found)?;
        Ok(document(
            &frame_html(&row.body_html, row.allowed),
            row.allowed,
        ))
    }

    /// Lets email `activity`'s HTML load remote images from now on.
    pub async fn allow_remote_images(self, activity: Uuid) -> Result<(), DomainError> {
        sqlx::query!(
            "update activities set remote_images_allowed_at = coalesce(remote_images_allowed_at, now())
             where user_id = $1 and id = $2 and channel = 'email' and deleted_at is null
             returning id",
            self.user.0,
            activity,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or_else(not_found)?;
        Ok(())
    }
}

fn thread(opened: Uuid, rows: Vec<MessageRow>, participants: &[ParticipantRow]) -> Thread {
    let subject = rows
        .iter()
        .find(|r| r.id == opened)
        .or(rows.first())
        .and_then(|r| r.subject.clone())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "(no subject)".to_owned());
    let messages = rows
        .into_iter()
        .map(|row| {
            let people = |role: ParticipantRole| {
                participants
                    .iter()
                    .filter(|p| p.activity_id == row.id && p.role == role)
                    .map(|p| Person {
                        name: p.display_name.clone(),
                        address: p.address.clone(),
                    })
                    .collect()
            };
            ThreadMessage {
                from: people(ParticipantRole::From),
                to: people(ParticipantRole::To),
                cc: people(ParticipantRole::Cc),
                body: body(&row),
                attachments: attachments(&row),
                gmail_url: match (row.provider, &row.thread_key) {
                    (Provider::Google, Some(thread)) => {
                        Some(format!("https://mail.google.com/mail/u/0/#all/{thread}"))
                    }
                    _ => None,
                },
                id: row.id,
                occurred_at: row.occurred_at,
                direction: row.direction,
                subject: row.subject,
            }
        })
        .collect();
    Thread {
        subject,
        opened,
        messages,
    }
}

fn body(row: &MessageRow) -> MessageBody {
    if row.has_html {
        let remote_images = match (row.has_remote_images, row.remote_images_allowed) {
            (false, _) => RemoteImages::None,
            (true, false) => RemoteImages::Blocked,
            (true, true) => RemoteImages::Allowed,
        };
        MessageBody::Html {
            html_src: api::mail::html_src(row.id, remote_images),
            remote_images,
        }
    } else if let Some(text) = &row.body_text {
        MessageBody::Text(split_quotes(text))
    } else {
        MessageBody::Empty
    }
}

/// Attachments as ingest recorded them; inline parts (images in the HTML) are not
/// files the user attached.
fn attachments(row: &MessageRow) -> Vec<Attachment> {
    let stored: Vec<AttachmentMeta> = match serde_json::from_value(row.attachments.clone()) {
        Ok(stored) => stored,
        Err(error) => {
            tracing::warn!(%error, activity = %row.id, "unreadable attachment list");
            Vec::new()
        }
    };
    stored
        .into_iter()
        .filter(|a| !a.inline)
        .map(|a| Attachment {
            filename: a.filename,
            content_type: a.content_type,
            size: a.size as u64,
        })
        .collect()
}
