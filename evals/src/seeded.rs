//! A throwaway database holding a synthetic mailbox, stored through the real ingest
//! path, for the evals that run the pipeline end to end.

use domain::ingest::{IncomingEmail, IngestFilter};
use domain::{Db, UserId};
use embedded_pg::test_databases::fresh_database_url;
use fakes::mailbox::Mailbox;
use sqlx::PgPool;
use uuid::Uuid;

/// A fresh, migrated database: the domain's handle, and a pool of the eval's own for
/// inserting the owner and reading back what the pipeline built.
pub struct EvalDb {
    pub db: Db,
    pub sql: PgPool,
}

impl EvalDb {
    pub async fn fresh() -> Self {
        let url = fresh_database_url(&domain::db::MIGRATOR).await;
        let db = Db::connect(&url)
            .await
            .expect("connect to the throwaway database");
        let sql = PgPool::connect(&url)
            .await
            .expect("connect to the throwaway database");
        Self { db, sql }
    }

    /// The mailbox's owner and their Google account.
    pub async fn owner(&self, email: &str) -> (UserId, Uuid) {
        let user: Uuid = sqlx::query_scalar(
            "insert into users (google_subject, email) values ('eval', $1) returning id",
        )
        .bind(email)
        .fetch_one(&self.sql)
        .await
        .expect("insert the owner");
        let account: Uuid = sqlx::query_scalar(
            "insert into accounts (user_id, provider, external_id) values ($1, 'google', $2) returning id",
        )
        .bind(user)
        .bind(email)
        .fetch_one(&self.sql)
        .await
        .expect("insert the owner's account");
        (UserId(user), account)
    }

    /// Every message of `mailbox` stored raw in `account`, as a sync stores it.
    pub async fn store(&self, user: UserId, account: Uuid, mailbox: &Mailbox) {
        let emails: Vec<IncomingEmail> = mailbox.messages().map(IncomingEmail::from).collect();
        let scope = self.db.for_user(user);
        for batch in emails.chunks(500) {
            scope
                .mail()
                .store_emails(account, batch, &IngestFilter::default())
                .await
                .expect("store mail");
        }
    }
}
