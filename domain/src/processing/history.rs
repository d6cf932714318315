//! The events processing records, in the activity's transaction (see
//! [`crate::events`]): `email.received` / `email.sent` once per message (its first
//! completion; re-processing records nothing again), `contact.created` for each contact
//! the message made, and `contact.enriched` when it filled or changed an existing
//! contact's fields (a contact created by the same message is not also enriched).

use sqlx::PgConnection;
use uuid::Uuid;

use super::ProcessingError;
use super::plan::ActivityPlan;
use crate::db::scopes::ProcessingScope;
use crate::events::{
    ContactCreatedPayload, ContactEnrichedPayload, ContactOrigin, EmailPayload, Event,
};

impl ProcessingScope<'_> {
    pub(super) async fn record_contact_from_mail(
        self,
        tx: &mut PgConnection,
        contact: Uuid,
        activity: Uuid,
    ) -> Result<(), ProcessingError> {
        let event = Event::ContactCreated(ContactCreatedPayload {
            contact_id: contact,
            origin: ContactOrigin::Mail,
            activity_id: Some(activity),
        });
        self.events().record(tx, &event).await?;
        Ok(())
    }

    pub(super) async fn record_contact_enriched(
        self,
        tx: &mut PgConnection,
        contact: Uuid,
        activity: Uuid,
        fields: &[&str],
    ) -> Result<(), ProcessingError> {
        if fields.is_empty() {
            return Ok(());
        }
        let event = Event::ContactEnriched(ContactEnrichedPayload {
            contact_id: contact,
            activity_id: activity,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        });
        self.events().record(tx, &event).await?;
        Ok(())
    }

    /// `email.sent` or `email.received` for an email activity completing for the first
    /// time (`processed_at` is still empty); nothing for other channels or re-runs.
    pub(super) async fn record_email_processed(
        self,
        tx: &mut PgConnection,
        plan: &ActivityPlan,
        contacts: impl IntoIterator<Item = Uuid>,
    ) -> Result<(), ProcessingError> {
        let Some(row) = sqlx::query!(
            r#"select account_id, coalesce(direction = 'outbound', false) as "sent!"
               from activities
               where user_id = $1 and id = $2 and channel = 'email' and processed_at is null"#,
            self.user.0,
            plan.activity_id,
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(());
        };
        let payload = EmailPayload {
            activity_id: plan.activity_id,
            account_id: row.account_id,
            addresses: u32::try_from(plan.people.len()).unwrap_or(u32::MAX),
            contact_ids: contacts.into_iter().collect(),
        };
        let event = if row.sent {
            Event::EmailSent(payload)
        } else {
            Event::EmailReceived(payload)
        };
        self.events().record(tx, &event).await?;
        Ok(())
    }
}
