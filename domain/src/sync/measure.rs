//! Throughput measurement for benchmarks: a full sync of an account, timed. Whether
//! the quota applies is up to the caller (the fake's quota switch and the limiter's
//! [`crate::gmail::QuotaConfig`]).

use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{GmailSync, SyncError, SyncReport};
use crate::UserId;
use crate::gmail::GmailApi;

#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    pub messages: u64,
    pub elapsed: Duration,
    pub per_minute: f64,
    pub per_second: f64,
    pub report: SyncReport,
}

impl<A: GmailApi> GmailSync<A> {
    /// Runs [`GmailSync::sync_account`] on an account without a cursor (a full sync
    /// followed by the catch-up and reconciliation) and reports messages stored per
    /// minute and second of wall time.
    pub async fn measure_full_sync(
        &self,
        user: UserId,
        account: Uuid,
    ) -> Result<Throughput, SyncError> {
        let started = Instant::now();
        let report = self.sync_account(user, account).await?;
        let elapsed = started.elapsed();
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        Ok(Throughput {
            messages: report.stored,
            elapsed,
            per_minute: report.stored as f64 * 60.0 / seconds,
            per_second: report.stored as f64 / seconds,
            report,
        })
    }
}
