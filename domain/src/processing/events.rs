//! The default [`ContactsTouched`] hook: publish one `contacts.touched` event per user
//! and batch (the live feed's NOTIFY follows), so pages showing those contacts can
//! refresh. Their stats are already fresh: the batch refreshed them in its transaction.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::ContactsTouched;
use crate::events::{ContactsTouchedPayload, Event};
use crate::{Db, UserId};

pub struct RefreshContactsTouched {
    db: Db,
}

impl RefreshContactsTouched {
    pub fn new(db: &Db) -> Self {
        Self { db: db.clone() }
    }
}

impl ContactsTouched for RefreshContactsTouched {
    async fn contacts_touched(&self, user: UserId, contacts: &BTreeSet<Uuid>) {
        let published = async {
            let mut tx = self.db.pool().begin().await?;
            let contacts = contacts.iter().copied().collect();
            let event = Event::ContactsTouched(ContactsTouchedPayload { contacts });
            crate::events::record(&mut tx, user, &event).await?;
            tx.commit().await
        };
        if let Err(error) = published.await {
            tracing::warn!(%user, %error, "publishing touched contacts failed");
        }
    }
}
