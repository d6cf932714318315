//! Postgres access. [`Db`] owns the pool; [`UserScope`] is the only way to reach
//! user-owned rows, so every such query is bound to the acting user.

pub mod embedded;
pub mod test_databases;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::{DomainError, UserId};

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

    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn migrate(&self) -> Result<(), DomainError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// For infrastructure that is not user data (sessions store, health checks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
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

/// Queries on behalf of one user. Every method filters by `self.user`.
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
