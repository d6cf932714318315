//! One contact as its page shows it: profile, identities and recent threads. Stats,
//! duplicates and the merge log come from their own modules.

use api::{AddressKind, Direction};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::ContactsScope;
use crate::events::{ContactPayload, Event};
use crate::processing::{FieldSource, Provenance};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactProfile {
    pub id: Uuid,
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub company_id: Option<Uuid>,
    pub company_name: Option<String>,
    pub company_domain: Option<String>,
    pub notes: String,
    pub tags: Vec<String>,
    pub links: serde_json::Value,
    pub custom_fields: serde_json::Value,
    pub field_sources: serde_json::Value,
    /// Set when this contact was merged into another one.
    pub merged_into: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl ContactProfile {
    /// The links as (kind, url) pairs, by kind.
    pub fn link_pairs(&self) -> Vec<(String, String)> {
        text_pairs(&self.links)
    }

    /// The custom fields as (name, value) pairs, by name.
    pub fn custom_field_pairs(&self) -> Vec<(String, String)> {
        text_pairs(&self.custom_fields)
    }

    /// Fields the user edited: sync never overwrites them.
    pub fn user_edited_fields(&self) -> Vec<String> {
        self.field_sources
            .as_object()
            .map(|fields| {
                fields
                    .iter()
                    .filter(|(_, source)| {
                        serde_json::from_value::<Provenance>((*source).clone())
                            .is_ok_and(|p| p.source == FieldSource::User)
                    })
                    .map(|(field, _)| field.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn text_pairs(object: &serde_json::Value) -> Vec<(String, String)> {
    object
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub kind: AddressKind,
    pub value: String,
    pub label: Option<String>,
    pub source: String,
}

/// A conversation with the contact, by its latest message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentThread {
    pub thread_key: Option<String>,
    pub activity_id: Uuid,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub last_at: DateTime<Utc>,
    pub direction: Option<Direction>,
    pub messages: i64,
    /// Whether the thread came from Gmail (its key is then a Gmail thread id).
    pub from_gmail: bool,
}

/// How many of the contact's latest messages the recent threads are drawn from: a bound
/// that keeps the page fast for contacts with thousands of emails.
const RECENT_MESSAGES_SCANNED: i64 = 300;

impl ContactsScope<'_> {
    /// The contact's profile for its page, recording the visit (`contact.viewed`,
    /// history only: never sent to open tabs). Someone else's contact is not found and
    /// records nothing.
    pub async fn view(self, contact: Uuid) -> Result<ContactProfile, DomainError> {
        let profile = self.profile(contact).await?;
        let viewed = Event::ContactViewed(ContactPayload {
            contact_id: contact,
        });
        self.events()
            .record(&mut *self.pool.acquire().await?, &viewed)
            .await?;
        Ok(profile)
    }

    pub async fn profile(self, contact: Uuid) -> Result<ContactProfile, DomainError> {
        sqlx::query_as!(
            ContactProfile,
            r#"select c.id, c.display_name, c.title, c.company_id, co.name as "company_name?",
                      co.domain as "company_domain?", c.notes, c.tags, c.links, c.custom_fields,
                      c.field_sources, c.merged_into, c.created_at
               from contacts c left join companies co on co.id = c.company_id
               where c.user_id = $1 and c.id = $2"#,
            self.user.0,
            contact,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("contact"))
    }

    pub async fn identities(self, contact: Uuid) -> Result<Vec<Identity>, DomainError> {
        Ok(sqlx::query_as!(
            Identity,
            r#"select kind as "kind: AddressKind", value, label, source from contact_identities
               where user_id = $1 and contact_id = $2
               order by kind, created_at, value"#,
            self.user.0,
            contact,
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// The contact's latest threads, newest first.
    pub async fn recent_threads(
        self,
        contact: Uuid,
        limit: i64,
    ) -> Result<Vec<RecentThread>, DomainError> {
        Ok(sqlx::query_as!(
            RecentThread,
            r#"with recent as (
                 select distinct newest.activity_id from (
                   select activity_id from activity_participants
                   where user_id = $1 and contact_id = $2
                   order by occurred_at desc limit $4) newest
               ),
               latest as (
                 select a.id, a.thread_key, a.subject, a.snippet, a.occurred_at, a.direction,
                        acc.provider = 'google' as from_gmail
                 from recent r
                 join activities a on a.user_id = $1 and a.id = r.activity_id
                 join accounts acc on acc.user_id = a.user_id and acc.id = a.account_id
                 where a.deleted_at is null
               ),
               threads as (
                 select coalesce(thread_key, id::text) as key, count(*) as messages,
                        (array_agg(id order by occurred_at desc))[1] as last_id
                 from latest group by 1
               )
               select l.thread_key, l.id as activity_id, l.subject, l.snippet,
                      l.occurred_at as last_at, l.direction as "direction?: Direction",
                      t.messages as "messages!",
                      l.from_gmail as "from_gmail!"
               from threads t join latest l on l.id = t.last_id
               order by l.occurred_at desc
               limit $3"#,
            self.user.0,
            contact,
            limit,
            RECENT_MESSAGES_SCANNED,
        )
        .fetch_all(self.pool)
        .await?)
    }
}
