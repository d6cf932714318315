//! The default [`ContactsTouched`] hook: recompute the touched contacts' stats, then
//! publish one `contacts.touched` event per user and batch (the live feed's NOTIFY
//! follows), so pages showing those contacts can refresh.

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
        let ids: Vec<Uuid> = contacts.iter().copied().collect();
        if let Err(error) = crate::contacts::stats::refresh(self.db.for_user(user), &ids).await {
            // The next batch touching them, or a full recompute, catches up.
            tracing::warn!(%user, %error, "refreshing contact stats failed");
        }
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
