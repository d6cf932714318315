//! The SQL of enrichment: what a contact can be looked up by, the stored answers, the
//! daily budgets and when a contact is next due. Every query names the user.

use std::collections::BTreeSet;
use std::time::Duration;

use api::enrichment::{EnrichmentProvider, LookupStatus};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{FoundField, Post};
use crate::extract::domains::CompanyDomain;
use crate::{Db, UserId};

/// What a contact can be looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    pub emails: Vec<String>,
    /// Registrable domains of its non-free-mail addresses.
    pub domains: Vec<String>,
    pub x_handle: Option<String>,
    pub strength: i16,
}

/// A stored lookup: which provider and key, how it ended and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub provider: EnrichmentProvider,
    pub key: String,
    pub status: LookupStatus,
    pub expires_at: DateTime<Utc>,
}

/// A lookup's result to store.
#[derive(Debug)]
pub struct Recorded<'a> {
    pub provider: EnrichmentProvider,
    pub key: &'a str,
    pub status: LookupStatus,
    pub raw: serde_json::Value,
    pub error: Option<String>,
    pub valid_for: Duration,
    pub fields: &'a [FoundField],
    pub posts: &'a [Post],
}

fn until(valid_for: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(valid_for).unwrap_or(chrono::Duration::days(1))
}

/// The contact's inputs; `None` when it does not exist for this user or was merged away.
pub async fn inputs(db: &Db, user: UserId, contact: Uuid) -> Result<Option<Inputs>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select c.links ->> 'twitter' as twitter,
                  coalesce((select s.strength from contact_stats s
                            where s.user_id = c.user_id and s.contact_id = c.id), 0::smallint) as "strength!",
                  array(select value from contact_identities i
                        where i.user_id = c.user_id and i.contact_id = c.id and i.kind = 'email'
                        order by value) as "emails!"
           from contacts c
           where c.user_id = $1 and c.id = $2 and c.merged_into is null"#,
        user.0,
        contact,
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|r| {
        let domains: BTreeSet<String> = r
            .emails
            .iter()
            .filter_map(|e| CompanyDomain::from_email(e))
            .map(|d| d.as_str().to_owned())
            .collect();
        Inputs {
            domains: domains.into_iter().collect(),
            emails: r.emails,
            x_handle: r.twitter.as_deref().and_then(super::x::handle_of),
            strength: r.strength,
        }
    }))
}

/// The contact's stored lookups.
pub async fn stored(db: &Db, user: UserId, contact: Uuid) -> Result<Vec<Stored>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select provider as "provider: EnrichmentProvider", request_key,
                  status as "status: LookupStatus", expires_at
           from enrichments where user_id = $1 and contact_id = $2"#,
        user.0,
        contact,
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Stored {
            provider: r.provider,
            key: r.request_key,
            status: r.status,
            expires_at: r.expires_at,
        })
        .collect())
}

/// Stores one lookup's answer, its field values (replacing what the same provider and
/// key gave before) and posts, in one transaction.
pub async fn record(
    db: &Db,
    user: UserId,
    contact: Uuid,
    result: &Recorded<'_>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    // The contact may have been merged away or deleted while the lookup ran.
    let live = sqlx::query_scalar!(
        r#"select exists(select 1 from contacts
                         where user_id = $1 and id = $2 and merged_into is null) as "live!""#,
        user.0,
        contact,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !live {
        return Ok(());
    }
    let fetched_at = sqlx::query_scalar!(
        r#"insert into enrichments (user_id, contact_id, provider, request_key, status, raw,
                                    error, fetched_at, expires_at)
           values ($1, $2, $3, $4, $5, $6, $7, now(), $8)
           on conflict (user_id, contact_id, provider, request_key) do update
             set status = excluded.status, raw = excluded.raw, error = excluded.error,
                 fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
           returning fetched_at"#,
        user.0,
        contact,
        result.provider.as_str(),
        result.key,
        result.status.as_str(),
        result.raw,
        result.error,
        until(result.valid_for),
    )
    .fetch_one(&mut *tx)
    .await?;
    // Only a definite answer replaces values: an error or a queued lookup keeps what
    // the provider said last time.
    if matches!(result.status, LookupStatus::Found | LookupStatus::NotFound) {
        let fields: Vec<String> = result
            .fields
            .iter()
            .map(|f| f.field.as_str().to_owned())
            .collect();
        let values: Vec<String> = result.fields.iter().map(|f| f.value.clone()).collect();
        let confidence: Vec<f32> = result.fields.iter().map(|f| f.confidence).collect();
        sqlx::query!(
            r#"delete from enrichment_values
               where user_id = $1 and contact_id = $2 and source = $3 and request_key = $4
                 and not (field = any($5))"#,
            user.0,
            contact,
            result.provider.as_str(),
            result.key,
            &fields,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"insert into enrichment_values (user_id, contact_id, field, value, source,
                                              request_key, confidence, fetched_at, picked)
               select $1, $2, f, v, $3, $4, c, $5, false
               from unnest($6::text[], $7::text[], $8::real[]) as t(f, v, c)
               on conflict (user_id, contact_id, field, source, request_key) do update
                 set value = excluded.value, confidence = excluded.confidence,
                     fetched_at = excluded.fetched_at,
                     -- the user's pick holds while the provider says the same
                     picked = enrichment_values.picked
                              and enrichment_values.value = excluded.value"#,
            user.0,
            contact,
            result.provider.as_str(),
            result.key,
            fetched_at,
            &fields,
            &values,
            &confidence,
        )
        .execute(&mut *tx)
        .await?;
        let ids: Vec<String> = result.posts.iter().map(|p| p.id.clone()).collect();
        let handles: Vec<String> = result.posts.iter().map(|p| p.handle.clone()).collect();
        let texts: Vec<String> = result.posts.iter().map(|p| p.text.clone()).collect();
        let times: Vec<DateTime<Utc>> = result.posts.iter().map(|p| p.posted_at).collect();
        if !ids.is_empty() {
            sqlx::query!(
                r#"insert into enrichment_posts (user_id, contact_id, post_id, handle, text,
                                                 posted_at, fetched_at)
                   select $1, $2, i, h, t, p, now()
                   from unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[])
                     as x(i, h, t, p)
                   on conflict (user_id, contact_id, post_id) do update
                     set text = excluded.text, fetched_at = excluded.fetched_at"#,
                user.0,
                contact,
                &ids,
                &handles,
                &texts,
                &times,
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}

/// Takes one lookup from `provider`'s budget for today (UTC); false when it is spent.
pub async fn take_budget(
    db: &Db,
    provider: EnrichmentProvider,
    budget: u32,
) -> Result<bool, sqlx::Error> {
    let budget = i32::try_from(budget).unwrap_or(i32::MAX);
    let taken = sqlx::query_scalar!(
        r#"insert into enrichment_budget (provider, day, used)
           values ($1, (now() at time zone 'utc')::date, 1)
           on conflict (provider, day) do update set used = enrichment_budget.used + 1
             where enrichment_budget.used < $2
           returning used"#,
        provider.as_str(),
        budget,
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(taken.is_some_and(|used| used <= budget))
}

/// The time until the next UTC midnight, when budgets start again.
pub fn until_tomorrow(now: DateTime<Utc>) -> Duration {
    let tomorrow = (now.date_naive() + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    (tomorrow - now).to_std().unwrap_or(Duration::from_secs(1))
}

/// Makes the contact due again when its earliest result expires (or after
/// `otherwise` when it has none).
pub async fn schedule_next(
    db: &Db,
    user: UserId,
    contact: Uuid,
    otherwise: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into enrichment_due (user_id, contact_id, due_at)
           select $1, $2, coalesce(
             (select min(expires_at) from enrichments where user_id = $1 and contact_id = $2),
             $3)
           where exists(select 1 from contacts where user_id = $1 and id = $2
                        and merged_into is null)
           on conflict (user_id, contact_id) do update set due_at = excluded.due_at"#,
        user.0,
        contact,
        until(otherwise),
    )
    .execute(db.pool())
    .await?;
    Ok(())
}
