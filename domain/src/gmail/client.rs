//! [`QuotaClient`]: one account's Gmail calls with quota, bounded concurrency and
//! retries. Rate limits pause the account's bucket and are retried; server and network
//! errors are retried with exponential backoff and jitter a bounded number of times,
//! after which the caller gets the error and records the item as failed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use uuid::Uuid;

use super::{
    GmailApi, GmailError, HistoryId, HistoryPage, Label, ListQuery, MessagesPage, Method, Profile,
    QuotaLimiter, RawMessage, SendAs,
};
use crate::jobs::Backoff;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call for server and transport errors (the first included).
    pub attempts: u32,
    /// Rate-limit answers tolerated per call before giving up: a bucket that keeps
    /// refusing means our quota model is wrong, which should surface.
    pub rate_limited: u32,
    pub backoff: Backoff,
    /// Pause after a 429 that said nothing about when to retry.
    pub default_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            rate_limited: 30,
            backoff: Backoff {
                base: Duration::from_millis(250),
                max: Duration::from_secs(8),
            },
            default_retry_after: Duration::from_secs(1),
        }
    }
}

/// Counters of one client, for progress reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub calls: u64,
    pub units: u64,
    pub rate_limited: u64,
    pub retried: u64,
}

pub struct QuotaClient<A> {
    api: Arc<A>,
    account: Uuid,
    limiter: Arc<QuotaLimiter>,
    policy: RetryPolicy,
    calls: AtomicU64,
    units: AtomicU64,
    rate_limited: AtomicU64,
    retried: AtomicU64,
}

impl<A: GmailApi> QuotaClient<A> {
    pub fn new(
        api: Arc<A>,
        account: Uuid,
        limiter: Arc<QuotaLimiter>,
        policy: RetryPolicy,
    ) -> Self {
        Self {
            api,
            account,
            limiter,
            policy,
            calls: AtomicU64::new(0),
            units: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            retried: AtomicU64::new(0),
        }
    }

    pub fn account(&self) -> Uuid {
        self.account
    }

    /// Calls this client runs at once at most.
    pub fn concurrency(&self) -> usize {
        self.limiter.config().concurrency
    }

    pub fn stats(&self) -> ClientStats {
        ClientStats {
            calls: self.calls.load(Ordering::Relaxed),
            units: self.units.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
        }
    }

    async fn call<T, F, Fut>(&self, method: Method, mut f: F) -> Result<T, GmailError>
    where
        F: FnMut(Arc<A>) -> Fut,
        Fut: Future<Output = Result<T, GmailError>>,
    {
        let mut failures = 0u32;
        let mut limited = 0u32;
        loop {
            let result = {
                let _admitted = self.limiter.admit(method.cost()).await;
                self.calls.fetch_add(1, Ordering::Relaxed);
                self.units
                    .fetch_add(u64::from(method.cost()), Ordering::Relaxed);
                f(Arc::clone(&self.api)).await
            };
            match result {
                Err(GmailError::RateLimited { retry_after })
                    if limited < self.policy.rate_limited =>
                {
                    limited += 1;
                    self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    self.limiter
                        .pause(retry_after.unwrap_or(self.policy.default_retry_after));
                }
                Err(e) if e.is_transient() && failures + 1 < self.policy.attempts => {
                    failures += 1;
                    self.retried.fetch_add(1, Ordering::Relaxed);
                    let delay = self
                        .policy
                        .backoff
                        .delay(failures as i32, rand::random::<f64>());
                    tracing::debug!(account = %self.account, ?method, error = %e, ?delay, "retrying Gmail call");
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }

    pub async fn get_profile(&self) -> Result<Profile, GmailError> {
        let account = self.account;
        self.call(Method::GetProfile, |api| async move {
            api.get_profile(account).await
        })
        .await
    }

    pub async fn list_messages(
        &self,
        query: &ListQuery,
        page_token: Option<&str>,
    ) -> Result<MessagesPage, GmailError> {
        let account = self.account;
        self.call(Method::ListMessages, |api| async move {
            api.list_messages(account, query, page_token).await
        })
        .await
    }

    pub async fn get_message_raw(&self, id: &str) -> Result<RawMessage, GmailError> {
        let account = self.account;
        self.call(Method::GetMessage, |api| async move {
            api.get_message_raw(account, id).await
        })
        .await
    }

    pub async fn list_history(
        &self,
        start: HistoryId,
        page_token: Option<&str>,
    ) -> Result<HistoryPage, GmailError> {
        let account = self.account;
        self.call(Method::ListHistory, |api| async move {
            api.list_history(account, start, page_token).await
        })
        .await
    }

    pub async fn list_labels(&self) -> Result<Vec<Label>, GmailError> {
        let account = self.account;
        self.call(Method::ListLabels, |api| async move {
            api.list_labels(account).await
        })
        .await
    }

    pub async fn list_send_as(&self) -> Result<Vec<SendAs>, GmailError> {
        let account = self.account;
        self.call(Method::ListSendAs, |api| async move {
            api.list_send_as(account).await
        })
        .await
    }
}
