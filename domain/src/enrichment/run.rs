//! One contact's enrichment: which lookups are due, running them concurrently under
//! each provider's timeout, token bucket, `Retry-After` and daily budget, storing each
//! answer as it arrives, then setting the contact's fields.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use api::enrichment::{EnrichedField, EnrichmentProgressPayload, EnrichmentProvider, LookupStatus};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use uuid::Uuid;

use super::store::{self, Inputs, Recorded, Stored};
use super::{EnrichmentSettings, apply};
use super::{FoundField, Lookup, Need, Outcome, Post, Source};
use crate::events::Event;
use crate::limits::RateLimiter;
use crate::{Db, UserId};

/// What one run did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub lookups: usize,
    pub found: usize,
    pub not_found: usize,
    pub errors: usize,
    pub pending: usize,
    /// Contact fields the run set or changed.
    pub changed: Vec<EnrichedField>,
}

/// Runs providers for contacts. One per process: its token buckets are the process's.
#[derive(Clone)]
pub struct Enricher {
    db: Db,
    sources: Vec<Arc<dyn Source>>,
    settings: EnrichmentSettings,
    buckets: RateLimiter<EnrichmentProvider>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.sources.iter().map(|s| s.provider()).collect();
        f.debug_struct("Enricher").field("sources", &names).finish()
    }
}

/// A lookup to make: the provider (by index into the sources) and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub source: usize,
    pub key: String,
}

/// The keys a provider with `need` looks the contact up by.
fn keys(need: Need, contact: Uuid, inputs: &Inputs) -> Vec<String> {
    match need {
        Need::Contact => vec![contact.to_string()],
        Need::Email => inputs.emails.clone(),
        Need::Domain => inputs.domains.clone(),
        Need::XHandle => inputs.x_handle.iter().cloned().collect(),
    }
}

/// What decides whether a lookup is due besides the contact.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Look up again even when the stored answer is fresh.
    pub force: bool,
    pub paid_min_strength: i16,
    pub now: DateTime<Utc>,
}

/// The lookups due: every key of every provider, except answers still fresh (unless
/// `force`), paid providers for contacts weaker than the threshold, and `done`.
pub fn plan(
    providers: &[(EnrichmentProvider, Need)],
    contact: Uuid,
    inputs: &Inputs,
    stored: &[Stored],
    done: &HashSet<(EnrichmentProvider, String)>,
    rules: Rules,
) -> Vec<Planned> {
    let Rules {
        force,
        paid_min_strength,
        now,
    } = rules;
    let mut planned = Vec::new();
    for (index, (provider, need)) in providers.iter().enumerate() {
        if provider.is_paid() && inputs.strength < paid_min_strength {
            continue;
        }
        for key in keys(*need, contact, inputs) {
            let fresh = stored
                .iter()
                .any(|s| s.provider == *provider && s.key == key && s.expires_at > now);
            if (fresh && !force) || done.contains(&(*provider, key.clone())) {
                continue;
            }
            planned.push(Planned { source: index, key });
        }
    }
    planned
}

/// A lookup's end, before it is stored.
struct Answer {
    status: LookupStatus,
    raw: serde_json::Value,
    error: Option<String>,
    valid_for: Duration,
    fields: Vec<FoundField>,
    posts: Vec<Post>,
}

impl Answer {
    fn error(message: String, valid_for: Duration) -> Self {
        Self {
            status: LookupStatus::Error,
            raw: serde_json::Value::Null,
            error: Some(message),
            valid_for,
            fields: Vec::new(),
            posts: Vec::new(),
        }
    }
}

/// One value per field: the most confident.
fn best_per_field(mut fields: Vec<FoundField>) -> Vec<FoundField> {
    fields.sort_by(|a, b| {
        a.field.cmp(&b.field).then(
            b.confidence
                .partial_cmp(&a.confidence)
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    fields.dedup_by(|later, first| later.field == first.field);
    fields
}

impl Enricher {
    pub fn new(db: &Db, sources: Vec<Arc<dyn Source>>, settings: EnrichmentSettings) -> Self {
        let buckets = RateLimiter::per_minute(settings.per_minute, "enrichment lookups");
        Self {
            db: db.clone(),
            sources,
            settings,
            buckets,
        }
    }

    pub fn settings(&self) -> &EnrichmentSettings {
        &self.settings
    }

    /// Looks the contact up with every provider whose answer is missing or expired
    /// (every provider when `force`), then sets its fields. A contact that is gone or
    /// merged away is left alone.
    pub async fn enrich(
        &self,
        user: UserId,
        contact: Uuid,
        force: bool,
    ) -> Result<RunSummary, sqlx::Error> {
        let mut summary = RunSummary::default();
        let providers: Vec<_> = self
            .sources
            .iter()
            .map(|s| (s.provider(), s.needs()))
            .collect();
        let mut done = HashSet::new();
        // Two rounds: a handle found in the first (an X link from People Data Labs) is
        // looked up in the second.
        for _ in 0..2 {
            let Some(inputs) = store::inputs(&self.db, user, contact).await? else {
                return Ok(summary);
            };
            let stored = store::stored(&self.db, user, contact).await?;
            let planned = plan(
                &providers,
                contact,
                &inputs,
                &stored,
                &done,
                Rules {
                    force,
                    paid_min_strength: self.settings.paid_min_strength,
                    now: Utc::now(),
                },
            );
            if planned.is_empty() {
                break;
            }
            self.run_round(user, contact, planned, &mut done, &mut summary)
                .await?;
            let changed = apply::apply(&self.db, user, contact).await?;
            summary.changed.extend(changed);
        }
        summary.changed.sort();
        summary.changed.dedup();
        store::schedule_next(&self.db, user, contact, self.settings.expire_after).await?;
        self.progress(user, contact, summary.lookups, summary.lookups, None, true)
            .await?;
        Ok(summary)
    }

    async fn run_round(
        &self,
        user: UserId,
        contact: Uuid,
        planned: Vec<Planned>,
        done: &mut HashSet<(EnrichmentProvider, String)>,
        summary: &mut RunSummary,
    ) -> Result<(), sqlx::Error> {
        let total = summary.lookups + planned.len();
        let mut running: FuturesUnordered<_> = planned
            .into_iter()
            .map(|p| {
                let source = Arc::clone(&self.sources[p.source]);
                let lookup = Lookup {
                    user,
                    contact_id: contact,
                    key: p.key,
                };
                async move {
                    let answer = self.lookup(source.as_ref(), &lookup).await;
                    (source.provider(), lookup.key, answer)
                }
            })
            .collect();
        while let Some((provider, key, answer)) = running.next().await {
            let answer = answer?;
            match answer.status {
                LookupStatus::Found => summary.found += 1,
                LookupStatus::NotFound => summary.not_found += 1,
                LookupStatus::Error => summary.errors += 1,
                LookupStatus::Pending => summary.pending += 1,
            }
            if let Some(error) = &answer.error {
                tracing::info!(provider = provider.as_str(), %error, "enrichment lookup failed");
            }
            let fields = best_per_field(answer.fields);
            store::record(
                &self.db,
                user,
                contact,
                &Recorded {
                    provider,
                    key: &key,
                    status: answer.status,
                    raw: answer.raw,
                    error: answer.error,
                    valid_for: answer.valid_for,
                    fields: &fields,
                    posts: &answer.posts,
                },
            )
            .await?;
            done.insert((provider, key));
            summary.lookups += 1;
            self.progress(user, contact, summary.lookups, total, Some(provider), false)
                .await?;
        }
        Ok(())
    }

    /// One lookup to its end: found, not found, queued for later, or an error (with
    /// how long until it is tried again). Only database errors are returned as `Err`.
    async fn lookup(&self, source: &dyn Source, lookup: &Lookup) -> Result<Answer, sqlx::Error> {
        let provider = source.provider();
        let settings = &self.settings;
        if provider.is_paid()
            && !store::take_budget(&self.db, provider, settings.daily_budget).await?
        {
            return Ok(Answer::error(
                format!(
                    "the daily budget of {} {} lookups is spent; lookups start again tomorrow (UTC)",
                    settings.daily_budget,
                    provider.label()
                ),
                store::until_tomorrow(Utc::now()),
            ));
        }
        let mut requests = 0;
        loop {
            requests += 1;
            let last = requests >= settings.max_requests;
            while let Err(limited) = self.buckets.check(&provider) {
                tokio::time::sleep(limited.retry_after).await;
            }
            let answer = match tokio::time::timeout(settings.timeout, source.enrich(lookup)).await {
                Err(_) => {
                    return Ok(Answer::error(
                        format!("no answer within {} s", settings.timeout.as_secs_f32()),
                        settings.retry_errors_after,
                    ));
                }
                Ok(answer) => answer,
            };
            return Ok(match answer {
                Ok(Outcome::Found { fields, posts, raw }) => Answer {
                    status: LookupStatus::Found,
                    raw,
                    error: None,
                    valid_for: settings.expire_after,
                    fields,
                    posts,
                },
                Ok(Outcome::NotFound { raw }) => Answer {
                    status: LookupStatus::NotFound,
                    raw,
                    error: None,
                    valid_for: settings.expire_after,
                    fields: Vec::new(),
                    posts: Vec::new(),
                },
                Ok(Outcome::Pending { retry_after, raw }) => {
                    if !last {
                        tokio::time::sleep(retry_after).await;
                        continue;
                    }
                    Answer {
                        status: LookupStatus::Pending,
                        raw,
                        error: None,
                        valid_for: retry_after.max(settings.pending_poll),
                        fields: Vec::new(),
                        posts: Vec::new(),
                    }
                }
                Err(super::ProviderError::RateLimited { retry_after })
                    if !last && retry_after <= settings.max_retry_wait =>
                {
                    tokio::time::sleep(retry_after).await;
                    continue;
                }
                Err(super::ProviderError::RateLimited { retry_after }) => Answer::error(
                    format!(
                        "rate limited; tried again after {} s",
                        retry_after.as_secs()
                    ),
                    retry_after,
                ),
                Err(super::ProviderError::Database(e)) => return Err(e),
                Err(e) => Answer::error(e.to_string(), settings.retry_errors_after),
            });
        }
    }

    async fn progress(
        &self,
        user: UserId,
        contact: Uuid,
        done: usize,
        total: usize,
        provider: Option<EnrichmentProvider>,
        finished: bool,
    ) -> Result<(), sqlx::Error> {
        let mut conn = self.db.pool().acquire().await?;
        let event = Event::EnrichmentProgress(EnrichmentProgressPayload {
            contact_id: contact,
            done: u32::try_from(done).unwrap_or(u32::MAX),
            total: u32::try_from(total).unwrap_or(u32::MAX),
            provider,
            finished,
        });
        crate::events::record(&mut conn, user, &event).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(strength: i16) -> Inputs {
        Inputs {
            emails: vec!["dana@acme.example".into(), "dana@home.example".into()],
            domains: vec!["acme.example".into()],
            x_handle: None,
            strength,
        }
    }

    fn rules(force: bool, now: DateTime<Utc>) -> Rules {
        Rules {
            force,
            paid_min_strength: 20,
            now,
        }
    }

    const PROVIDERS: [(EnrichmentProvider, Need); 3] = [
        (EnrichmentProvider::Colleagues, Need::Domain),
        (EnrichmentProvider::PeopleDataLabs, Need::Email),
        (EnrichmentProvider::X, Need::XHandle),
    ];

    #[test]
    fn every_key_of_every_provider_is_looked_up_once() {
        let contact = Uuid::nil();
        let now = Utc::now();
        let all = plan(
            &PROVIDERS,
            contact,
            &inputs(50),
            &[],
            &HashSet::new(),
            rules(false, now),
        );
        let keys: Vec<_> = all.iter().map(|p| (p.source, p.key.as_str())).collect();
        assert_eq!(
            keys,
            [
                (0, "acme.example"),
                (1, "dana@acme.example"),
                (1, "dana@home.example")
            ]
        );
        let fresh = Stored {
            provider: EnrichmentProvider::PeopleDataLabs,
            key: "dana@acme.example".into(),
            status: LookupStatus::Found,
            expires_at: now + chrono::Duration::days(1),
        };
        let stored = [fresh];
        let again = plan(
            &PROVIDERS,
            contact,
            &inputs(50),
            &stored,
            &HashSet::new(),
            rules(false, now),
        );
        assert_eq!(again.len(), 2);
        let forced = plan(
            &PROVIDERS,
            contact,
            &inputs(50),
            &stored,
            &HashSet::new(),
            rules(true, now),
        );
        assert_eq!(forced.len(), 3);
    }

    #[test]
    fn weak_contacts_skip_paid_providers() {
        let weak = plan(
            &PROVIDERS,
            Uuid::nil(),
            &inputs(5),
            &[],
            &HashSet::new(),
            rules(false, Utc::now()),
        );
        assert_eq!(weak.len(), 1);
        assert_eq!(weak[0].source, 0);
    }

    #[test]
    fn the_most_confident_value_per_field_is_kept() {
        let kept = best_per_field(vec![
            FoundField::new(EnrichedField::Title, "VP", 0.4),
            FoundField::new(EnrichedField::Title, "CTO", 0.9),
            FoundField::new(EnrichedField::Bio, "hi", 0.1),
        ]);
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().any(|f| f.value == "CTO"));
    }
}
