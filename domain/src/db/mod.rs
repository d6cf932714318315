//! Postgres access. [`Db`] owns the pool; [`UserScope`] is the only way to reach
//! user-owned rows, so every such query is bound to the acting user.

pub mod scopes;
mod sessions;
pub mod statistics;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::{DomainError, UserId};

pub use sessions::Sessions;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    pub async fn connect(url: &str) -> Result<Self, DomainError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            // No ping before every checkout: a page runs ten short queries, and the
            // pings doubled its round trips (15% of the server's CPU in a profile). A
            // connection that died is still dropped when its query fails.
            .test_before_acquire(false)
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    pub async fn migrate(&self) -> Result<(), DomainError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The raw pool, for the domain's own queries. Tests (and only tests: enable the
    /// `test-support` feature in `[dev-dependencies]`) reach it to arrange and inspect
    /// rows directly.
    #[cfg(not(feature = "test-support"))]
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The raw pool, for tests that arrange and inspect rows directly.
    #[cfg(feature = "test-support")]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection once the ones in use are returned (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The web sessions' store (the `sessions` table).
    pub fn sessions(&self) -> Sessions {
        Sessions::new(self.pool.clone())
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), DomainError> {
        sqlx::query_scalar!("select 1 as \"one!\"")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    pub fn for_user(&self, user: UserId) -> UserScope<'_> {
        UserScope {
            pool: &self.pool,
            user,
        }
    }
}

/// Queries on behalf of one user, grouped by feature ([`scopes`]: `scope.contacts()`,
/// `scope.notes()`, ...). Every query filters by `self.user`.
#[derive(Clone, Copy, Debug)]
pub struct UserScope<'a> {
    pub(crate) pool: &'a PgPool,
    pub(crate) user: UserId,
}

impl UserScope<'_> {
    pub fn user(&self) -> UserId {
        self.user
    }
}
