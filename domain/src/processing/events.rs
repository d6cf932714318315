//! The default [`ContactsTouched`] hook: one `contacts.touched` event per user and batch
//! (the live feed's NOTIFY follows), so pages showing those contacts can refresh. A
//! stats refresh plugs in as another implementation of the same trait.

use std::collections::BTreeSet;

use serde_json::json;
use uuid::Uuid;

use super::ContactsTouched;
use crate::{Db, UserId};

pub const CONTACTS_TOUCHED_EVENT: &str = "contacts.touched";

pub struct PublishContactsTouched {
    db: Db,
}

impl PublishContactsTouched {
    pub fn new(db: &Db) -> Self {
        Self { db: db.clone() }
    }
}

impl ContactsTouched for PublishContactsTouched {
    async fn contacts_touched(&self, user: UserId, contacts: &BTreeSet<Uuid>) {
        let published = async {
            let mut tx = self.db.pool().begin().await?;
            self.db
                .for_user(user)
                .publish_event(
                    &mut tx,
                    CONTACTS_TOUCHED_EVENT,
                    json!({ "contacts": contacts }),
                )
                .await?;
            tx.commit().await
        };
        if let Err(error) = published.await {
            tracing::warn!(%user, %error, "publishing touched contacts failed");
        }
    }
}
