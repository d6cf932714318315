//! Applying a batch of one user's activities, all in the caller's transaction: read
//! what they can reach ([`super::load`]), apply them in memory one after another
//! ([`super::world`]), write the result ([`super::flush`]).

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::plan::Owner;
use super::{ContactPolicy, ProcessingError};
use crate::db::scopes::ProcessingScope;

/// The effects of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// For `activities.processed`, in batch order.
    pub processed: Vec<(Uuid, Value)>,
    /// Contacts created, linked or changed: their stats need a refresh.
    pub touched: BTreeSet<Uuid>,
    /// Activities of the batch to queue again once they are completed.
    pub requeue: Vec<Uuid>,
}

/// What an account's processing needs to know once per batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountContext {
    pub owner: Owner,
    pub policy: ContactPolicy,
}

impl ProcessingScope<'_> {
    /// The owner's addresses (user email, account address, send-as aliases recorded in
    /// `sync_state.aliases`) and the account's contact policy.
    pub async fn processing_context(
        self,
        account: Uuid,
    ) -> Result<AccountContext, ProcessingError> {
        let row = sqlx::query!(
            r#"select u.email, a.external_id, a.contact_policy,
                      coalesce(array(select jsonb_array_elements_text(
                        case when jsonb_typeof(a.sync_state -> 'aliases') = 'array'
                             then a.sync_state -> 'aliases' else '[]'::jsonb end)), '{}')
                        as "aliases!"
               from accounts a join users u on u.id = a.user_id
               where a.user_id = $1 and a.id = $2"#,
            self.user.0,
            account,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(ProcessingError::AccountNotFound)?;
        let policy = ContactPolicy::parse(&row.contact_policy)
            .map_err(|e| ProcessingError::Invalid(e.to_string()))?;
        Ok(AccountContext {
            owner: Owner::new([row.email, row.external_id].into_iter().chain(row.aliases)),
            policy,
        })
    }

    /// Applies this user's activities `ids` in `tx`: plans each, finds or creates each
    /// participant's contact, merges what the messages say about them, links the
    /// participations, and records the events. Reads and writes are set-based (a
    /// fixed number of statements per batch); the result is the same as applying the
    /// activities one at a time in this order. The caller holds the user (see
    /// [`super::ActivityQueue`]) and completes the activities in the same transaction.
    pub async fn apply_batch(
        self,
        tx: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Applied, ProcessingError> {
        let (mut owners, mut policies) = (HashMap::new(), HashMap::new());
        for account in self.accounts_of(tx, ids).await? {
            let context = self.processing_context(account).await?;
            owners.insert(account, context.owner);
            policies.insert(account, context.policy);
        }
        let activities = self.load_activities(tx, ids, &owners).await?;
        let mut world = self.load_world(tx, &activities).await?;
        let outcome = world.apply_all(&activities, &policies)?;
        self.flush(tx, &world).await?;
        let merged = self.merge_duplicates(tx, &world, ids).await?;
        outcome.history.record(tx, self.user).await?;
        let mut touched = outcome.touched;
        touched.extend(merged.winners);
        let mut requeue = outcome.requeue;
        requeue.extend(merged.requeue);
        requeue.sort();
        requeue.dedup();
        Ok(Applied {
            processed: outcome.processed,
            touched,
            requeue,
        })
    }
}
