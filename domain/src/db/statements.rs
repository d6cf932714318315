//! Single statements on connections that go back to their pool without a round trip.
//!
//! sqlx's pool tests each connection it gets back with a round trip to Postgres (a
//! `Sync`, in a task of its own), so a page's ten short queries cost twenty round trips;
//! in a profile of the contacts list those tests were a tenth of the server's samples.
//! [`StatementPool`] runs each statement on a connection of its own, kept between
//! statements: one that finished (or that Postgres refused: the connection is still in
//! step) goes back; one whose statement was dropped half-way or failed on the wire is
//! closed instead, which is what the test was for. Transactions and `acquire` go to the
//! sqlx pool it dereferences to.

use std::ops::Deref;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{Connection, Either, Execute, Executor, PgConnection, PgPool, Postgres};
use tokio::sync::{Semaphore, SemaphorePermit};

/// A connection older than this is closed when it comes back, as sqlx's pool does: a
/// backend's caches only grow.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How long a statement waits for one of the connections before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// At most `max` connections for single statements, beside the sqlx pool for the rest.
#[derive(Debug)]
pub struct StatementPool {
    pool: PgPool,
    idle: Mutex<Vec<Kept>>,
    slots: Semaphore,
}

#[derive(Debug)]
struct Kept {
    connection: PgConnection,
    opened: Instant,
}

/// A connection taken for one statement, with its slot. Dropped without
/// [`Lease::give_back`], it closes the connection.
struct Lease<'p> {
    kept: Kept,
    pool: &'p StatementPool,
    _slot: SemaphorePermit<'p>,
}

impl StatementPool {
    pub(super) fn new(pool: PgPool, max: usize) -> Self {
        Self {
            pool,
            idle: Mutex::default(),
            slots: Semaphore::new(max),
        }
    }

    /// The connections not in use (a panic elsewhere cannot leave the list half-changed:
    /// pushes and pops are whole).
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Kept>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn lease(&self) -> Result<Lease<'_>, sqlx::Error> {
        let slot = tokio::time::timeout(ACQUIRE_TIMEOUT, self.slots.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle().pop();
        let kept = match idle {
            Some(kept) => kept,
            None => Kept {
                connection: PgConnection::connect_with(&self.pool.connect_options()).await?,
                opened: Instant::now(),
            },
        };
        Ok(Lease {
            kept,
            pool: self,
            _slot: slot,
        })
    }

    /// Closes the connections not in use (at shutdown, with the sqlx pool's).
    pub(super) async fn close(&self) {
        self.slots.close();
        let idle = std::mem::take(&mut *self.idle());
        for kept in idle {
            let _ = kept.connection.close().await;
        }
    }
}

impl Lease<'_> {
    /// Back to the pool when the connection is still in step with Postgres: after success
    /// or an error Postgres reported (its `ReadyForQuery` is read before the next one).
    fn give_back<T>(self, result: &Result<T, sqlx::Error>) {
        let in_step = matches!(result, Ok(_) | Err(sqlx::Error::Database(_)));
        if in_step && self.kept.opened.elapsed() < MAX_LIFETIME {
            self.pool.idle().push(self.kept);
        }
    }
}

/// Transactions (`begin`), `acquire` and plain `&PgPool` arguments reach the sqlx pool.
impl Deref for StatementPool {
    type Target = PgPool;

    fn deref(&self) -> &PgPool {
        &self.pool
    }
}

impl<'p> Executor<'p> for &'p StatementPool {
    type Database = Postgres;

    /// The rows are read to the end before the first is yielded, so the connection is
    /// back before the caller looks at them (nothing here streams a large result).
    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let all = async move {
            let mut lease = self.lease().await?;
            let result: Result<Vec<_>, _> =
                lease.kept.connection.fetch_many(query).try_collect().await;
            lease.give_back(&result);
            result
        };
        stream::once(all)
            .map_ok(|steps| stream::iter(steps.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        Box::pin(async move {
            let mut lease = self.lease().await?;
            let result = lease.kept.connection.fetch_optional(query).await;
            lease.give_back(&result);
            result
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        'p: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<sqlx::Describe<Postgres>, sqlx::Error>>
    where
        'p: 'e,
    {
        self.pool.describe(sql)
    }
}
