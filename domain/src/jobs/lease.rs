//! The one lease queue. Three tables hand out work under a lease: `jobs` (background
//! jobs), `activities` (processing) and `activity_summaries` (AI summaries). Each says
//! how to claim, renew, fail and release its rows in its own SQL ([`LeasedTable`]);
//! everything else exists once, here: the attempt accounting and backoff of a failure
//! ([`LeasedTable::fail`]), lease renewal while work runs ([`Leases::hold`]), and the
//! run loop with its `NOTIFY` wake-up, idle wait until the next due item and graceful
//! stop ([`Leases::run`]). What a table is configured with (its pool, wake-up channel,
//! backoff and attempt budget) is one [`LeaseConfig`] that the trait's accessors and
//! builders read, and leases are renewed by one statement over [`LeasedTable::ROWS`].
//!
//! The protocol every table follows: a claim takes due rows with `FOR UPDATE SKIP
//! LOCKED`, sets the lease (owner + expiry) and counts an attempt, so an item that
//! crashes its worker every time still runs out of attempts; every later write checks
//! that the writer still holds the lease; a row whose lease ran out is put back in line
//! (or given up when out of attempts) by any worker.

use std::fmt::{Debug, Display};
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::{Backoff, WorkListener, WorkerId};

/// Where a failed item went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// Back in line after its backoff.
    Retrying,
    /// Out of attempts, or retrying cannot help: kept with its error.
    Dead,
}

/// What a failure does to an item, decided by [`Disposition::after_failure`] and written
/// by the table's [`LeasedTable::record_failure`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Disposition {
    /// Due again after this delay.
    Retry {
        after: Duration,
    },
    Dead,
}

impl Disposition {
    /// The attempt accounting of every queue: a permanent failure, or one on the last of
    /// `max_attempts` (attempts count claims, this one included), is dead; anything else
    /// retries after the backoff for this attempt, jittered by `unit` (in `[0, 1)`).
    pub fn after_failure(
        backoff: &Backoff,
        attempts: i32,
        max_attempts: i32,
        permanent: bool,
        unit: f64,
    ) -> Self {
        if permanent || attempts >= max_attempts {
            Self::Dead
        } else {
            Self::Retry {
                after: backoff.delay(attempts, unit),
            }
        }
    }

    pub fn is_dead(self) -> bool {
        matches!(self, Self::Dead)
    }

    /// The delay to write; a dead item is never due again, so its value does not matter.
    pub fn delay(self) -> Duration {
        match self {
            Self::Retry { after } => after,
            Self::Dead => Duration::ZERO,
        }
    }
}

impl From<Disposition> for Failed {
    fn from(d: Disposition) -> Self {
        match d {
            Disposition::Retry { .. } => Failed::Retrying,
            Disposition::Dead => Failed::Dead,
        }
    }
}

/// An item held under a lease.
pub trait Claimed: Send + Sync {
    /// The row's key, as Postgres stores it.
    type Id: Copy
        + Eq
        + Debug
        + Display
        + Send
        + Sync
        + Unpin
        + sqlx::Type<sqlx::Postgres>
        + sqlx::postgres::PgHasArrayType
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>;
    fn id(&self) -> Self::Id;
    /// Claims so far, the current one included.
    fn attempts(&self) -> i32;
}

/// The `NOTIFY` channel that announces new work, and the payloads that concern this
/// queue (empty: any).
#[derive(Debug, Clone, Copy)]
pub struct Wake<'a> {
    pub channel: &'static str,
    pub payloads: &'a [String],
}

/// What a [`LeasedTable`] is configured with; its accessors and builders read this.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    pub pool: PgPool,
    /// The `NOTIFY` channel that announces new work.
    pub channel: &'static str,
    /// How long a failed item waits before its next attempt.
    pub backoff: Backoff,
    /// Claims after which a failing item is dead, unless the table decides per item
    /// ([`LeasedTable::max_attempts`]).
    pub max_attempts: i32,
}

impl LeaseConfig {
    pub fn new(pool: &PgPool, channel: &'static str, backoff: Backoff, max_attempts: i32) -> Self {
        Self {
            pool: pool.clone(),
            channel,
            backoff,
            max_attempts,
        }
    }
}

/// Where a table keeps its leased rows: the table, its key column, the state a row is
/// in while leased, the column naming the lease's owner (its expiry is always
/// `lease_expires_at`), and which rows wait in line until the time in `due`. Constants
/// only: they are written into the renewal and next-due statements.
#[derive(Debug, Clone, Copy)]
pub struct LeasedRows {
    pub table: &'static str,
    pub id: &'static str,
    pub state: &'static str,
    pub owner: &'static str,
    pub due: &'static str,
    pub waiting: &'static str,
}

impl LeasedRows {
    /// Rows of `table`, keyed by `id`, owned through `claimed_by` while in `state`; rows
    /// matching the SQL condition `waiting` are due at `next_attempt_at`.
    pub const fn claimed_by(
        table: &'static str,
        id: &'static str,
        state: &'static str,
        waiting: &'static str,
    ) -> Self {
        Self {
            table,
            id,
            state,
            owner: "claimed_by",
            due: "next_attempt_at",
            waiting,
        }
    }
}

/// [`Claimed`] for a claimed row struct: `claimed_row!(Row, id_field: IdType)`; the
/// row counts its claims in an `attempts` field.
macro_rules! claimed_row {
    ($row:ty, $id:ident: $id_type:ty) => {
        impl $crate::jobs::Claimed for $row {
            type Id = $id_type;

            fn id(&self) -> $id_type {
                self.$id
            }

            fn attempts(&self) -> i32 {
                self.attempts
            }
        }
    };
}
pub(crate) use claimed_row;

/// The error an item keeps when its lease ran out.
pub const LEASE_EXPIRED: &str = "lease expired: its worker stopped before finishing";

/// The [`LeasedTable`] accessors of a table that keeps its [`LeaseConfig`] in a field
/// named `config`.
macro_rules! config_in_field {
    () => {
        fn config(&self) -> &$crate::jobs::LeaseConfig {
            &self.config
        }

        fn config_mut(&mut self) -> &mut $crate::jobs::LeaseConfig {
            &mut self.config
        }
    };
}
pub(crate) use config_in_field;

/// A table that hands out work under leases: the table-specific SQL. Every statement
/// checks the lease in its `where` clause, so a writer that lost its lease finds out.
/// Completion is not part of the trait: what a completion writes (a processed result in
/// the processing transaction, a summary, nothing) differs per table.
pub trait LeasedTable: Send + Sync + 'static {
    type Item: Claimed;
    type Error: From<sqlx::Error> + Display + Send + 'static;
    /// What an item is called in logs: `job`, `activity`, `summary`.
    const NAME: &'static str;
    /// Where the leased rows are.
    const ROWS: LeasedRows;

    fn config(&self) -> &LeaseConfig;
    fn config_mut(&mut self) -> &mut LeaseConfig;

    fn pool(&self) -> &PgPool {
        &self.config().pool
    }

    /// Any notification on the config's channel.
    fn wake(&self) -> Wake<'_> {
        Wake {
            channel: self.config().channel,
            payloads: &[],
        }
    }

    fn backoff(&self) -> Backoff {
        self.config().backoff
    }

    /// The config's budget, the same for every item.
    fn max_attempts(&self, _item: &Self::Item) -> i32 {
        self.config().max_attempts
    }

    /// The same table with another retry schedule (tests use a fast one).
    fn with_backoff(mut self, backoff: Backoff) -> Self
    where
        Self: Sized,
    {
        self.config_mut().backoff = backoff;
        self
    }

    /// The same table giving items up after `attempts` claims (at least one).
    fn with_max_attempts(mut self, attempts: i32) -> Self
    where
        Self: Sized,
    {
        self.config_mut().max_attempts = attempts.max(1);
        self
    }

    /// The error for "this worker no longer holds the lease on `id`".
    fn lease_lost(id: <Self::Item as Claimed>::Id) -> Self::Error;

    /// Claims up to `batch` due items for `worker` until now + `lease`, counting an
    /// attempt on each. Rows another claimer has locked are skipped, not waited for.
    fn claim(
        &self,
        worker: &WorkerId,
        batch: i64,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<Self::Item>, Self::Error>> + Send;

    /// Extends the leases `worker` still holds among `ids` (rows of [`LeasedTable::ROWS`]
    /// in their leased state) until now + `lease`; returns those ids.
    fn renew(
        &self,
        worker: &WorkerId,
        ids: &[<Self::Item as Claimed>::Id],
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<<Self::Item as Claimed>::Id>, Self::Error>> + Send {
        let LeasedRows {
            table,
            id,
            state,
            owner,
            ..
        } = Self::ROWS;
        let sql = format!(
            "update {table} set lease_expires_at = now() + make_interval(secs => $3)
             where {id} = any($1) and state = '{state}' and {owner} = $2
             returning {id}"
        );
        async move {
            Ok(sqlx::query_scalar(&sql)
                .bind(ids)
                .bind(worker.as_str())
                .bind(lease.as_secs_f64())
                .fetch_all(self.pool())
                .await?)
        }
    }

    /// Writes a failure as decided (the error kept, the lease dropped); false when
    /// `worker` no longer held the lease and nothing was written. By default a retry
    /// waits in state `failed` until its delay ends and a dead item is `dead`.
    fn record_failure(
        &self,
        item: &Self::Item,
        worker: &WorkerId,
        error: &str,
        disposition: Disposition,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        let LeasedRows {
            table,
            id,
            state,
            owner,
            due,
            ..
        } = Self::ROWS;
        let sql = format!(
            "update {table}
             set state = case when $4 then 'dead' else 'failed' end,
                 last_error = $3, {owner} = null, lease_expires_at = null,
                 {due} = now() + make_interval(secs => $5)
             where {id} = $1 and state = '{state}' and {owner} = $2"
        );
        let item = item.id();
        async move {
            let done = sqlx::query(&sql)
                .bind(item)
                .bind(worker.as_str())
                .bind(error)
                .bind(disposition.is_dead())
                .bind(disposition.delay().as_secs_f64())
                .execute(self.pool())
                .await?;
            Ok(done.rows_affected() > 0)
        }
    }

    /// Puts items whose lease ran out (their worker died or stalled) back in line, or
    /// gives them up when out of attempts. Returns how many. By default they are
    /// `failed` and due now, or `dead` after the config's attempts.
    fn release_expired(&self) -> impl Future<Output = Result<u64, Self::Error>> + Send {
        let LeasedRows {
            table,
            state,
            owner,
            due,
            ..
        } = Self::ROWS;
        let sql = format!(
            "update {table}
             set state = case when attempts >= $1 then 'dead' else 'failed' end,
                 last_error = '{LEASE_EXPIRED}',
                 {owner} = null, lease_expires_at = null, {due} = now()
             where state = '{state}' and lease_expires_at < now()"
        );
        async move {
            let released = sqlx::query(&sql)
                .bind(self.config().max_attempts)
                .execute(self.pool())
                .await?;
            Ok(released.rows_affected())
        }
    }

    /// When the next item waiting in line becomes due, so an idle worker knows how long
    /// it may sleep.
    fn next_due(&self) -> impl Future<Output = Result<Option<DateTime<Utc>>, Self::Error>> + Send {
        let LeasedRows {
            table,
            due,
            waiting,
            ..
        } = Self::ROWS;
        let sql = format!("select min({due}) from {table} where {waiting}");
        async move {
            Ok(sqlx::query_scalar::<_, Option<DateTime<Utc>>>(&sql)
                .fetch_one(self.pool())
                .await?)
        }
    }

    /// Records a failure of a claimed item: dead when `permanent` or out of attempts,
    /// else retried after an exponential backoff with jitter. The error is kept either
    /// way. Fails with [`LeasedTable::lease_lost`] when the lease was lost.
    fn fail(
        &self,
        item: &Self::Item,
        worker: &WorkerId,
        error: &str,
        permanent: bool,
    ) -> impl Future<Output = Result<Failed, Self::Error>> + Send {
        let disposition = Disposition::after_failure(
            &self.backoff(),
            item.attempts(),
            self.max_attempts(item),
            permanent,
            rand::random::<f64>(),
        );
        async move {
            tracing::info!(
                queue = Self::NAME, item = %item.id(), attempts = item.attempts(),
                dead = disposition.is_dead(), %error, "work failed"
            );
            if self
                .record_failure(item, worker, error, disposition)
                .await?
            {
                Ok(disposition.into())
            } else {
                Err(Self::lease_lost(item.id()))
            }
        }
    }
}

/// How a worker of a [`LeasedTable`] claims and holds its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseOptions {
    /// Items per claim.
    pub batch: i64,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// How often the lease is renewed while work runs; well under `lease`.
    pub heartbeat: Duration,
    /// Longest idle sleep between looks at the table when no notification arrives.
    pub idle_wait: Duration,
}

/// Shortest idle sleep: a retry that is due already still waits this long, so a
/// stalled table is never polled in a tight loop.
const MIN_IDLE_WAIT: Duration = Duration::from_millis(100);
/// A look that claims nothing while an item is due already (other workers hold it, or
/// hold as many of its owner's items as may be held at once) waits twice as long as the
/// look before it, up to this many doublings (1.6 s): with four processors on one user's
/// import the two spare ones looked ten times a second, about a tenth of the machine's
/// time. Notifications still wake the worker at once.
const MAX_BACKOFF_DOUBLINGS: u32 = 4;

/// One worker's side of a [`LeasedTable`]: claims, holds leases while work runs, and
/// runs the loop. The work itself is the caller's.
#[derive(Debug, Clone)]
pub struct Leases<T> {
    table: T,
    worker: WorkerId,
    options: LeaseOptions,
}

impl<T: LeasedTable> Leases<T> {
    pub fn new(table: T, worker: WorkerId, options: LeaseOptions) -> Self {
        Self {
            table,
            worker,
            options,
        }
    }

    pub fn table(&self) -> &T {
        &self.table
    }

    pub fn worker(&self) -> &WorkerId {
        &self.worker
    }

    pub fn options(&self) -> &LeaseOptions {
        &self.options
    }

    /// Claims one batch.
    pub async fn claim(&self) -> Result<Vec<T::Item>, T::Error> {
        self.table
            .claim(&self.worker, self.options.batch, self.options.lease)
            .await
    }

    /// Records a failure of one of this worker's items (see [`LeasedTable::fail`]).
    pub async fn fail(
        &self,
        item: &T::Item,
        error: &str,
        permanent: bool,
    ) -> Result<Failed, T::Error> {
        self.table.fail(item, &self.worker, error, permanent).await
    }

    /// Logs an outcome discarded because another worker took the item over.
    pub fn lost(&self, id: <T::Item as Claimed>::Id) {
        tracing::warn!(queue = T::NAME, item = %id, worker = %self.worker, "lease lost; outcome discarded");
    }

    /// Runs `work` while renewing the leases on `ids` every heartbeat. Work that lost
    /// its leases still runs to the end: its writes check the lease and find out.
    pub async fn hold<F: Future>(&self, ids: &[<T::Item as Claimed>::Id], work: F) -> F::Output {
        match self.renewing(ids, false, work).await {
            Some(output) => output,
            None => unreachable!("work is only abandoned when asked to"),
        }
    }

    /// Like [`Leases::hold`], but drops `work` (cancelling it) as soon as every lease is
    /// lost: someone else may already be running it. `None` then.
    pub async fn hold_or_abandon<F: Future>(
        &self,
        ids: &[<T::Item as Claimed>::Id],
        work: F,
    ) -> Option<F::Output> {
        self.renewing(ids, true, work).await
    }

    /// The renewals run concurrently with `work` (not between its steps), so a renewal
    /// that waits for a row lock of `work`'s own open transaction never stalls it.
    async fn renewing<F: Future>(
        &self,
        ids: &[<T::Item as Claimed>::Id],
        abandon: bool,
        work: F,
    ) -> Option<F::Output> {
        let renewals = async {
            let mut held = ids.to_vec();
            let mut beat =
                tokio::time::interval(self.options.heartbeat.max(Duration::from_millis(1)));
            beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            beat.tick().await;
            while !held.is_empty() {
                beat.tick().await;
                match self
                    .table
                    .renew(&self.worker, &held, self.options.lease)
                    .await
                {
                    Ok(still) => held = still,
                    // Retried at the next beat; a lease survives a few misses.
                    Err(e) => {
                        tracing::warn!(queue = T::NAME, worker = %self.worker, error = %e, "lease renewal failed")
                    }
                }
            }
            if abandon && !ids.is_empty() {
                tracing::warn!(queue = T::NAME, worker = %self.worker, "lease lost; work abandoned");
                return;
            }
            // Nothing left to renew; the rest of the work finishes on its own.
            std::future::pending::<()>().await
        };
        tokio::select! {
            output = work => Some(output),
            () = renewals => None,
        }
    }

    /// Runs until `stop` is cancelled: releases expired leases, runs `batch` (which
    /// claims and works through one batch, returning how many it claimed) while work is
    /// due, and otherwise sleeps until a notification on the table's channel, the next
    /// due item, or `idle_wait`. A batch in progress is finished before returning, so
    /// stopping never abandons work to lease expiry.
    pub async fn run<F, Fut>(&self, stop: CancellationToken, mut batch: F) -> Result<(), T::Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<usize, T::Error>>,
    {
        let wake = self.table.wake();
        let mut listener = WorkListener::connect(self.table.pool(), wake.channel).await?;
        // Looks in a row that found work due but claimed none.
        let mut contended = 0;
        while !stop.is_cancelled() {
            // Before every batch, also under constant load, so a dead worker's claims
            // never wait for an idle moment.
            match self.table.release_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(queue = T::NAME, released = n, "expired leases released"),
                Err(e) => {
                    tracing::warn!(queue = T::NAME, worker = %self.worker, error = %e, "releasing expired leases failed")
                }
            }
            match batch().await {
                Ok(0) => {}
                Ok(_) => {
                    contended = 0;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(queue = T::NAME, worker = %self.worker, error = %e, "queue error")
                }
            }
            let wait = self.idle_wait(&mut contended).await;
            tokio::select! {
                _ = stop.cancelled() => break,
                woke = listener.wait_for_work(wake.payloads, wait) => {
                    if let Err(e) = woke {
                        tracing::warn!(queue = T::NAME, worker = %self.worker, error = %e, "listener failed");
                        tokio::select! {
                            _ = stop.cancelled() => break,
                            _ = tokio::time::sleep(wait) => {}
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Until the next due item, within `[MIN_IDLE_WAIT, idle_wait]`; after a look that
    /// claimed nothing though an item was due, see [`MAX_BACKOFF_DOUBLINGS`].
    async fn idle_wait(&self, contended: &mut u32) -> Duration {
        let longest = self.options.idle_wait.max(MIN_IDLE_WAIT);
        let until_due = match self.table.next_due().await {
            Ok(Some(at)) => (at - Utc::now()).to_std().unwrap_or(Duration::ZERO),
            _ => longest,
        };
        backed_off(until_due, contended).clamp(MIN_IDLE_WAIT, longest)
    }
}

/// The wait until an item falls due, or, when one is due already, the contended look's
/// doubling wait (counting the look in `contended`).
fn backed_off(until_due: Duration, contended: &mut u32) -> Duration {
    if until_due > MIN_IDLE_WAIT {
        *contended = 0;
        return until_due;
    }
    let wait = MIN_IDLE_WAIT * 2u32.pow((*contended).min(MAX_BACKOFF_DOUBLINGS));
    *contended += 1;
    wait
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn looks_that_find_work_due_but_claim_none_back_off() {
        let mut contended = 0;
        let waits: Vec<Duration> = (0..7)
            .map(|_| backed_off(Duration::ZERO, &mut contended))
            .collect();
        let ms = |n| Duration::from_millis(n);
        assert_eq!(
            waits,
            [
                ms(100),
                ms(200),
                ms(400),
                ms(800),
                ms(1600),
                ms(1600),
                ms(1600)
            ]
        );
        // Work that falls due later is waited for, and the next contention starts over.
        assert_eq!(backed_off(ms(5000), &mut contended), ms(5000));
        assert_eq!(backed_off(ms(20), &mut contended), ms(100));
    }

    #[test]
    fn the_last_attempt_or_a_permanent_failure_is_dead() {
        let backoff = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(100),
        };
        assert_eq!(
            Disposition::after_failure(&backoff, 1, 3, false, 1.0),
            Disposition::Retry {
                after: Duration::from_secs(10)
            }
        );
        assert_eq!(
            Disposition::after_failure(&backoff, 2, 3, false, 0.0),
            Disposition::Retry {
                after: Duration::from_secs(10)
            }
        );
        assert_eq!(
            Disposition::after_failure(&backoff, 3, 3, false, 0.5),
            Disposition::Dead
        );
        assert_eq!(
            Disposition::after_failure(&backoff, 4, 3, false, 0.5),
            Disposition::Dead,
            "a crash-looping item past its budget"
        );
        assert_eq!(
            Disposition::after_failure(&backoff, 1, 3, true, 0.5),
            Disposition::Dead
        );
        assert_eq!(Failed::from(Disposition::Dead), Failed::Dead);
        assert_eq!(
            Failed::from(Disposition::Retry {
                after: Duration::ZERO
            }),
            Failed::Retrying
        );
    }

    #[derive(Debug, Clone, Copy)]
    struct Item(i64);

    impl Claimed for Item {
        type Id = i64;
        fn id(&self) -> i64 {
            self.0
        }
        fn attempts(&self) -> i32 {
            1
        }
    }

    #[derive(Debug, thiserror::Error)]
    enum FakeError {
        #[error("lost {0}")]
        Lost(i64),
        #[error(transparent)]
        Db(#[from] sqlx::Error),
    }

    /// A table in memory whose leases are lost after `keep` renewals.
    struct Fake {
        config: LeaseConfig,
        keep: usize,
        renewals: Mutex<usize>,
    }

    impl Fake {
        fn new(keep: usize) -> Self {
            Self {
                config: LeaseConfig::new(
                    &sqlx::postgres::PgPoolOptions::new()
                        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
                        .unwrap(),
                    "fake",
                    Backoff::default(),
                    3,
                ),
                keep,
                renewals: Mutex::new(0),
            }
        }
    }

    impl LeasedTable for Fake {
        type Item = Item;
        type Error = FakeError;
        const NAME: &'static str = "fake";
        const ROWS: LeasedRows = LeasedRows::claimed_by("fake", "id", "leased", "false");

        fn config(&self) -> &LeaseConfig {
            &self.config
        }
        fn config_mut(&mut self) -> &mut LeaseConfig {
            &mut self.config
        }
        fn lease_lost(id: i64) -> FakeError {
            FakeError::Lost(id)
        }
        async fn claim(&self, _: &WorkerId, _: i64, _: Duration) -> Result<Vec<Item>, FakeError> {
            Ok(vec![])
        }
        async fn renew(
            &self,
            _: &WorkerId,
            ids: &[i64],
            _: Duration,
        ) -> Result<Vec<i64>, FakeError> {
            let mut renewals = self.renewals.lock().unwrap();
            *renewals += 1;
            Ok(if *renewals > self.keep {
                vec![]
            } else {
                ids.to_vec()
            })
        }
        async fn record_failure(
            &self,
            _: &Item,
            _: &WorkerId,
            _: &str,
            _: Disposition,
        ) -> Result<bool, FakeError> {
            Ok(false)
        }
        async fn release_expired(&self) -> Result<u64, FakeError> {
            Ok(0)
        }
        async fn next_due(&self) -> Result<Option<DateTime<Utc>>, FakeError> {
            Ok(None)
        }
    }

    fn leases(keep: usize) -> Leases<Fake> {
        Leases::new(
            Fake::new(keep),
            WorkerId::new("w"),
            LeaseOptions {
                batch: 1,
                lease: Duration::from_millis(60),
                heartbeat: Duration::from_millis(10),
                idle_wait: Duration::from_secs(1),
            },
        )
    }

    #[tokio::test]
    async fn work_is_renewed_while_it_runs_and_abandoned_when_every_lease_is_lost() {
        let held = leases(usize::MAX);
        let done = held
            .hold_or_abandon(&[1, 2], async {
                tokio::time::sleep(Duration::from_millis(55)).await;
                "done"
            })
            .await;
        assert_eq!(done, Some("done"));
        assert!(
            *held.table().renewals.lock().unwrap() >= 3,
            "renewed while running"
        );

        let lost = leases(2);
        let started = std::time::Instant::now();
        let abandoned = lost
            .hold_or_abandon(&[1], tokio::time::sleep(Duration::from_secs(30)))
            .await;
        assert_eq!(abandoned, None);
        assert!(started.elapsed() < Duration::from_secs(5));

        // Without abandoning, the work finishes whatever happens to its leases.
        let lost = leases(0);
        let finished = lost
            .hold(&[1], async {
                tokio::time::sleep(Duration::from_millis(40)).await;
                7
            })
            .await;
        assert_eq!(finished, 7);
    }

    #[tokio::test]
    async fn a_lost_lease_fails_nothing() {
        let leases = leases(0);
        assert!(matches!(
            leases.fail(&Item(9), "boom", false).await,
            Err(FakeError::Lost(9))
        ));
    }
}
