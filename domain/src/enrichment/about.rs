//! The contact page's About section: every enriched field with each source's value and
//! date, the lookups and their outcome, and the X posts; the user's pick of an
//! alternative; Refresh for one contact or many.

use api::ClosedSet;
use api::enrichment::{
    AboutField, AboutLookup, AboutPost, AboutValue, AboutView, EnrichedField, EnrichmentProvider,
    LookupStatus,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::EnrichContact;
use super::apply::CONTACT_FIELDS;
use crate::DomainError;
use crate::db::scopes::ContactsScope;
use crate::jobs::{BackgroundJob, QueueError};

/// Posts the section shows.
const POSTS_SHOWN: i64 = 10;

fn source_label(source: &str) -> String {
    match EnrichmentProvider::parse(source) {
        Ok(provider) => provider.label().to_owned(),
        Err(_) => api::capitalize(source),
    }
}

/// The contact's own value of a column field, with its `field_sources` entry.
fn own_value(
    field: EnrichedField,
    display_name: Option<&str>,
    title: Option<&str>,
    links: &Value,
    sources: &Value,
) -> Option<(String, String, Option<DateTime<Utc>>)> {
    let value = match field {
        EnrichedField::DisplayName => display_name.map(str::to_owned),
        EnrichedField::Title => title.map(str::to_owned),
        _ => links
            .get(field.as_str())
            .and_then(Value::as_str)
            .map(str::to_owned),
    }?;
    let entry = sources.get(field.as_str());
    let source = entry
        .and_then(|e| e.get("source"))
        .and_then(Value::as_str)
        .unwrap_or("header")
        .to_owned();
    let at = entry
        .and_then(|e| e.get("at"))
        .and_then(|a| serde_json::from_value(a.clone()).ok());
    Some((value, source, at))
}

impl ContactsScope<'_> {
    /// The About section of one of the user's contacts.
    pub async fn about(self, contact: Uuid) -> Result<AboutView, DomainError> {
        let row = sqlx::query!(
            r#"select display_name, title, links, field_sources,
                      exists(select 1 from jobs j where j.user_id = c.user_id
                             and j.unique_key = $3 || ':' || c.id::text
                             and j.state in ('queued', 'running')) as "running!"
               from contacts c where user_id = $1 and id = $2 and merged_into is null"#,
            self.user.0,
            contact,
            EnrichContact::KIND,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("contact"))?;
        let values = sqlx::query!(
            r#"select field as "field: EnrichedField", value, source, confidence, fetched_at, picked
               from enrichment_values where user_id = $1 and contact_id = $2
               order by picked desc, confidence desc, fetched_at desc, source"#,
            self.user.0,
            contact,
        )
        .fetch_all(self.pool)
        .await?;
        let mut fields = Vec::new();
        for field in EnrichedField::ALL.iter().copied() {
            let own = CONTACT_FIELDS
                .contains(&field)
                .then(|| {
                    own_value(
                        field,
                        row.display_name.as_deref(),
                        row.title.as_deref(),
                        &row.links,
                        &row.field_sources,
                    )
                })
                .flatten();
            let mut shown: Vec<AboutValue> = Vec::new();
            if let Some((value, source, at)) = &own
                && EnrichmentProvider::parse(source).is_err()
            {
                shown.push(AboutValue {
                    value: value.clone(),
                    source: source.clone(),
                    source_label: source_label(source),
                    at: *at,
                    confidence: None,
                    current: true,
                });
            }
            for v in values.iter().filter(|v| v.field == field) {
                let current = match &own {
                    Some((value, source, _)) => *value == v.value && *source == v.source,
                    // Not a contact column: the first (picked, else most confident) is shown.
                    None => !CONTACT_FIELDS.contains(&field) && shown.is_empty(),
                };
                shown.push(AboutValue {
                    value: v.value.clone(),
                    source: v.source.clone(),
                    source_label: source_label(&v.source),
                    at: Some(v.fetched_at),
                    confidence: Some(v.confidence),
                    current,
                });
            }
            if !shown.is_empty() {
                fields.push(AboutField {
                    field,
                    label: field.label().to_owned(),
                    values: shown,
                });
            }
        }
        let lookups = sqlx::query!(
            r#"select provider as "provider: EnrichmentProvider", request_key,
                      status as "status: LookupStatus", error, fetched_at
               from enrichments where user_id = $1 and contact_id = $2
               order by provider, request_key"#,
            self.user.0,
            contact,
        )
        .fetch_all(self.pool)
        .await?
        .into_iter()
        .map(|r| AboutLookup {
            label: r.provider.label().to_owned(),
            provider: r.provider,
            request_key: r.request_key,
            status: r.status,
            error: r.error,
            fetched_at: r.fetched_at,
        })
        .collect();
        let posts = self
            .recent_posts(contact, POSTS_SHOWN)
            .await?
            .into_iter()
            .map(|p| AboutPost {
                handle: p.handle,
                text: p.text,
                posted_at: p.posted_at,
            })
            .collect();
        Ok(AboutView {
            contact_id: contact,
            fields,
            lookups,
            posts,
            running: row.running,
        })
    }

    /// The user picks `source`'s value of `field`. For a field of the contact itself
    /// this is an edit (source `user`, never overwritten); for the others the pick
    /// is what the About section shows until the provider says something else.
    pub async fn pick_enriched(
        self,
        contact: Uuid,
        field: EnrichedField,
        source: &str,
    ) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let value = sqlx::query_scalar!(
            r#"select value from enrichment_values
               where user_id = $1 and contact_id = $2 and field = $3 and source = $4
               order by confidence desc limit 1"#,
            self.user.0,
            contact,
            field.as_str(),
            source,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("enriched value"))?;
        sqlx::query!(
            r#"update enrichment_values set picked = (source = $4 and value = $5)
               where user_id = $1 and contact_id = $2 and field = $3"#,
            self.user.0,
            contact,
            field.as_str(),
            source,
            value,
        )
        .execute(&mut *tx)
        .await?;
        if CONTACT_FIELDS.contains(&field) {
            let user_source = json!({"source": "user", "at": Utc::now()});
            sqlx::query!(
                r#"update contacts set
                     display_name = case when $3 = 'display_name' then $4 else display_name end,
                     title = case when $3 = 'title' then $4 else title end,
                     links = case when $3 in ('display_name', 'title') then links
                                  else links || jsonb_build_object($3::text, $4::text) end,
                     field_sources = field_sources || jsonb_build_object($3::text, $5::jsonb)
                   where user_id = $1 and id = $2 and merged_into is null"#,
                self.user.0,
                contact,
                field.as_str(),
                value,
                user_source,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues a fresh lookup of the contact with every provider (the Refresh button).
    /// Returns false when one is queued or running already.
    pub async fn refresh_enrichment(self, contact: Uuid) -> Result<bool, DomainError> {
        let exists = sqlx::query_scalar!(
            r#"select exists(select 1 from contacts where user_id = $1 and id = $2
                             and merged_into is null) as "exists!""#,
            self.user.0,
            contact,
        )
        .fetch_one(self.pool)
        .await?;
        if !exists {
            return Err(DomainError::NotFound("contact"));
        }
        let job = EnrichContact {
            contact_id: contact,
            force: true,
        };
        let queued = self.jobs().enqueue(&job).await.map_err(|e| match e {
            QueueError::Database(e) => DomainError::Database(e),
            other => DomainError::invalid("refresh", other.to_string()),
        })?;
        Ok(queued.created)
    }

    /// Refresh for many contacts at once (the contacts list); returns how many were
    /// queued. Ids that are not the user's live contacts are skipped.
    pub async fn refresh_enrichment_many(self, contacts: &[Uuid]) -> Result<u64, DomainError> {
        let queued = sqlx::query!(
            r#"insert into jobs (user_id, kind, payload, unique_key)
               select c.user_id, $3, jsonb_build_object('contact_id', c.id, 'force', true),
                      $3 || ':' || c.id
               from contacts c
               where c.user_id = $1 and c.id = any($2) and c.merged_into is null
               on conflict (unique_key)
                 where unique_key is not null and state in ('queued', 'running')
                 do nothing"#,
            self.user.0,
            contacts,
            EnrichContact::KIND,
        )
        .execute(self.pool)
        .await?;
        Ok(queued.rows_affected())
    }
}
