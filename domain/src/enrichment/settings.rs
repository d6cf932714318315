//! How enrichment behaves (`RAPPORT_ENRICH_*` in the server's configuration).

use std::time::Duration;

/// Limits and timing of enrichment, the same for every user of the installation.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrichmentSettings {
    /// How long a found or not-found answer is kept before it is looked up again.
    pub expire_after: Duration,
    /// How long until a failed lookup (error, timeout, budget) is tried again.
    pub retry_errors_after: Duration,
    /// Each request to a provider; a slow one fails alone, the others go on.
    pub timeout: Duration,
    /// Requests per minute to each provider (a token bucket per provider, per process).
    pub per_minute: u32,
    /// Lookups a day per paid provider, for the whole installation.
    pub daily_budget: u32,
    /// Only contacts at least this strong (0..100) go to paid providers.
    pub paid_min_strength: i16,
    /// A 429's `Retry-After` up to this long is waited out in the job; a longer one ends
    /// the lookup with an error retried after it.
    pub max_retry_wait: Duration,
    /// Requests per lookup (the first one plus retries after 429s and polls of a 202).
    pub max_requests: u32,
    /// Wait between polls of a queued (202) lookup when the provider says nothing.
    pub pending_poll: Duration,
}

impl Default for EnrichmentSettings {
    fn default() -> Self {
        Self {
            expire_after: Duration::from_secs(90 * 24 * 3600),
            retry_errors_after: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            per_minute: 60,
            daily_budget: 100,
            paid_min_strength: 20,
            max_retry_wait: Duration::from_secs(60),
            max_requests: 5,
            pending_poll: Duration::from_secs(5),
        }
    }
}
