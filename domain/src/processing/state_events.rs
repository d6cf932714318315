//! `activity.state` events: how open tabs learn that activities changed state. They are
//! coalesced: one event per user and state for a whole claim, batch or release (never
//! one per row), carrying the activity ids and, on completion, the contacts touched.
//! New activities are announced by the `activities_publish_stored` trigger with the same
//! kind and `state: "raw"`.

use std::collections::{BTreeMap, BTreeSet};

use api::ActivityState;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::UserId;
use crate::events::{ActivityStatePayload, Event};

/// Activities of several users that reached the same state together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateChanges {
    by_user: BTreeMap<UserId, (BTreeSet<Uuid>, BTreeSet<Uuid>)>,
}

impl StateChanges {
    pub fn add(&mut self, user: UserId, activity: Uuid) {
        self.by_user.entry(user).or_default().0.insert(activity);
    }

    pub fn add_contacts(&mut self, user: UserId, contacts: impl IntoIterator<Item = Uuid>) {
        if let Some(entry) = self.by_user.get_mut(&user) {
            entry.1.extend(contacts);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_user.is_empty()
    }

    /// One event per user: `{state, activity_ids, contact_ids}`.
    fn events(&self, state: ActivityState) -> Vec<(UserId, Event)> {
        self.by_user
            .iter()
            .map(|(user, (activities, contacts))| {
                let payload = ActivityStatePayload {
                    state,
                    activity_ids: activities.iter().copied().collect(),
                    contact_ids: contacts.iter().copied().collect(),
                };
                (*user, Event::ActivityState(payload))
            })
            .collect()
    }

    /// Stores the events on `conn` (the transaction that changed the state, when there is
    /// one) and notifies the users' live feeds when it commits.
    pub async fn publish(
        &self,
        conn: &mut PgConnection,
        state: ActivityState,
    ) -> Result<(), sqlx::Error> {
        for (user, event) in self.events(state) {
            crate::events::record(conn, user, &event).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use api::ActivityState;

    use super::*;

    #[test]
    fn changes_coalesce_into_one_event_per_user() {
        let (alex, sam) = (UserId(Uuid::from_u128(1)), UserId(Uuid::from_u128(2)));
        let mut changes = StateChanges::default();
        for n in 10..13 {
            changes.add(alex, Uuid::from_u128(n));
        }
        changes.add(sam, Uuid::from_u128(20));
        changes.add_contacts(alex, [Uuid::from_u128(99)]);
        changes.add_contacts(UserId(Uuid::from_u128(3)), [Uuid::from_u128(98)]);
        let events = changes.events(ActivityState::Completed);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].0, alex);
        let (Event::ActivityState(first), Event::ActivityState(second)) =
            (&events[0].1, &events[1].1)
        else {
            panic!("activity.state events expected");
        };
        assert_eq!(first.activity_ids.len(), 3);
        assert_eq!(first.contact_ids, [Uuid::from_u128(99)]);
        assert_eq!(second.state, ActivityState::Completed);
        assert!(second.contact_ids.is_empty());
    }
}
