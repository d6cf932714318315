//! tower-sessions store on Rapport's `sessions` table ([`domain::db::Sessions`]). Not
//! tower-sessions-sqlx-store: that crate switches on sqlx's `time` feature, which makes
//! every `query!` in the domain decode timestamps as `time` instead of the `chrono`
//! types Rapport uses.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::DomainError;
use domain::db::Sessions;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

#[derive(Clone, Debug)]
pub struct PgSessionStore {
    sessions: Sessions,
}

impl PgSessionStore {
    pub fn new(sessions: Sessions) -> Self {
        Self { sessions }
    }
}

fn backend(error: DomainError) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

fn expiry(record: &Record) -> session_store::Result<DateTime<Utc>> {
    let at = record.expiry_date;
    DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond())
        .ok_or_else(|| session_store::Error::Encode(format!("expiry out of range: {at}")))
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new id on the (astronomically unlikely) collision, never an overwrite.
        loop {
            let created = self
                .sessions
                .create(&record.id.to_string(), &encode(record)?, expiry(record)?)
                .await
                .map_err(backend)?;
            if created {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.sessions
            .save(&record.id.to_string(), &encode(record)?, expiry(record)?)
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let data = self.sessions.load(&id.to_string()).await.map_err(backend)?;
        data.map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|e| session_store::Error::Decode(e.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.sessions.delete(&id.to_string()).await.map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for PgSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.sessions.delete_expired().await.map_err(backend)?;
        Ok(())
    }
}
