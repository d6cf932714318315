//! The events processing records, in the batch's transaction (see [`crate::events`]):
//! `email.received` / `email.sent` once per message (its first completion;
//! re-processing records nothing again), `contact.created` for each contact the message
//! made, and `contact.enriched` when it filled or changed an existing contact's fields
//! (a contact created by the same message is not also enriched). Collected while the
//! batch is applied, then written in one statement.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::UserId;
use crate::events::{
    ContactCreatedPayload, ContactEnrichedPayload, ContactOrigin, EVENTS_CHANNEL, EmailPayload,
    Event,
};

#[derive(Debug, Default)]
pub(super) struct History {
    events: Vec<Event>,
}

impl History {
    pub fn contact_created(&mut self, contact: Uuid, activity: Uuid) {
        self.events
            .push(Event::ContactCreated(ContactCreatedPayload {
                contact_id: contact,
                origin: ContactOrigin::Mail,
                activity_id: Some(activity),
            }));
    }

    pub fn contact_enriched(&mut self, contact: Uuid, activity: Uuid, fields: &[&str]) {
        if fields.is_empty() {
            return;
        }
        self.events
            .push(Event::ContactEnriched(ContactEnrichedPayload {
                contact_id: contact,
                activity_id: activity,
                fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            }));
    }

    /// `email.sent` or `email.received` for an email activity completing for the first
    /// time.
    pub fn email_processed(
        &mut self,
        activity: Uuid,
        account: Uuid,
        sent: bool,
        addresses: usize,
        contacts: Vec<Uuid>,
    ) {
        let payload = EmailPayload {
            activity_id: activity,
            account_id: account,
            addresses: u32::try_from(addresses).unwrap_or(u32::MAX),
            contact_ids: contacts,
        };
        self.events.push(if sent {
            Event::EmailSent(payload)
        } else {
            Event::EmailReceived(payload)
        });
    }

    /// Stores the events in order on `conn` (the batch's transaction); live ones also
    /// notify the user's feed once.
    pub async fn record(&self, conn: &mut PgConnection, user: UserId) -> Result<(), sqlx::Error> {
        if self.events.is_empty() {
            return Ok(());
        }
        let mut kinds = Vec::with_capacity(self.events.len());
        let mut data = Vec::with_capacity(self.events.len());
        let mut live = Vec::with_capacity(self.events.len());
        for event in &self.events {
            let kind = event.kind();
            kinds.push(kind.as_str().to_owned());
            data.push(event.data().map_err(|e| sqlx::Error::Encode(Box::new(e)))?);
            live.push(kind.is_live());
        }
        sqlx::query!(
            r#"insert into events (user_id, kind, data, live)
               select $1, k, d, l from unnest($2::text[], $3::jsonb[], $4::bool[])
                 with ordinality as e(k, d, l, n)
               order by n"#,
            user.0,
            &kinds,
            &data,
            &live,
        )
        .execute(&mut *conn)
        .await?;
        if live.iter().any(|l| *l) {
            sqlx::query!(
                r#"select pg_notify($1, $2::uuid::text)"#,
                EVENTS_CHANNEL,
                user.0,
            )
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
