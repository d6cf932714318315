//! An interaction's timeline activity: one completed `meeting` (a call: `call`) activity
//! of the user's `manual` account, external id `interaction:<id>`, rewritten from the
//! interaction on every change.
//!
//! It is already processed (`completed`) and already handled for the inbox (`done_at`,
//! `read_at` set), so neither the processors nor the inbox pick it up. The contact takes
//! part as an `attendee` of a meeting (counted once it has begun, like a synced meeting)
//! or as the `to` / `from` of a call by its direction. An archived interaction's activity
//! is marked deleted: off the timeline and out of the stats until it is restored.

use api::interactions::{InteractionKind, Medium};
use api::{Channel, Direction, ParticipantRole};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::InteractionsScope;

/// The longest snippet taken from the description, in characters.
const SNIPPET_CHARS: usize = 200;

/// The channel an interaction shows as.
pub fn channel(kind: InteractionKind, medium: Medium) -> Channel {
    if kind == InteractionKind::Phone || medium == Medium::Phone {
        Channel::Call
    } else {
        Channel::Meeting
    }
}

/// How the contact takes part in the activity.
pub fn role(channel: Channel, direction: Direction) -> ParticipantRole {
    match (channel, direction) {
        (Channel::Meeting, _) => ParticipantRole::Attendee,
        (_, Direction::Outbound) => ParticipantRole::To,
        (_, Direction::Inbound) => ParticipantRole::From,
    }
}

impl InteractionsScope<'_> {
    /// The user's `manual` account, created on first use.
    async fn manual_account(self, tx: &mut PgConnection) -> Result<Uuid, DomainError> {
        Ok(sqlx::query_scalar!(
            r#"insert into accounts (user_id, provider, external_id, display_name)
               values ($1, 'manual', 'interactions', 'Logged interactions')
               on conflict (user_id, provider, external_id) do update set provider = excluded.provider
               returning id"#,
            self.user.0,
        )
        .fetch_one(&mut *tx)
        .await?)
    }

    /// Writes the interaction's activity and participant; returns its contact.
    pub(super) async fn write_activity(
        self,
        tx: &mut PgConnection,
        id: Uuid,
    ) -> Result<Option<Uuid>, DomainError> {
        let account = self.manual_account(tx).await?;
        let i = sqlx::query!(
            r#"select contact_id, kind as "kind: InteractionKind", medium as "medium: Medium",
                      direction as "direction: Direction", subject, description, outcome,
                      coalesce(occurred_at, created_at) as "occurred_at!", archived_at
               from interactions where user_id = $1 and id = $2"#,
            self.user.0,
            id,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("interaction"))?;
        let channel = channel(i.kind, i.medium);
        let subject = i.subject.unwrap_or_else(|| i.kind.label().to_owned());
        let snippet = i
            .description
            .or(i.outcome)
            .map(|t| t.chars().take(SNIPPET_CHARS).collect::<String>());
        let activity = sqlx::query_scalar!(
            r#"insert into activities (user_id, account_id, external_id, channel, direction, occurred_at,
                 subject, snippet, state, processed_at, read_at, done_at, deleted_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8, 'completed', now(), now(), now(), $9)
               on conflict (account_id, external_id) do update set
                 channel = excluded.channel, direction = excluded.direction,
                 occurred_at = excluded.occurred_at, subject = excluded.subject,
                 snippet = excluded.snippet, deleted_at = excluded.deleted_at
               returning id"#,
            self.user.0,
            account,
            format!("interaction:{id}"),
            channel.as_str(),
            i.direction.as_str(),
            i.occurred_at,
            subject,
            snippet,
            i.archived_at,
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            "update interactions set activity_id = $3 where user_id = $1 and id = $2 and activity_id is distinct from $3",
            self.user.0,
            id,
            activity,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "delete from activity_participants where user_id = $1 and activity_id = $2",
            self.user.0,
            activity,
        )
        .execute(&mut *tx)
        .await?;
        if let Some(contact) = i.contact_id {
            // The contact's address: an email first, else a phone, else a handle; a
            // contact without any is still linked by id.
            sqlx::query!(
                r#"insert into activity_participants (user_id, activity_id, role, address_kind, address,
                     display_name, contact_id, occurred_at)
                   select $1, $2, $3, coalesce(ci.kind, 'handle'),
                          coalesce(ci.value, 'contact:' || c.id::text), c.display_name, c.id, $5
                   from contacts c
                   left join lateral (select kind, value from contact_identities
                                      where user_id = $1 and contact_id = c.id
                                      order by kind = 'email' desc, kind = 'phone' desc, created_at, value
                                      limit 1) ci on true
                   where c.user_id = $1 and c.id = $4"#,
                self.user.0,
                activity,
                role(channel, i.direction).as_str(),
                contact,
                i.occurred_at,
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(i.contact_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_calls_and_the_rest_meetings() {
        assert_eq!(
            channel(InteractionKind::Phone, Medium::Phone),
            Channel::Call
        );
        assert_eq!(
            channel(InteractionKind::Meeting, Medium::Phone),
            Channel::Call
        );
        assert_eq!(
            channel(InteractionKind::Visit, Medium::InPerson),
            Channel::Meeting
        );
        assert_eq!(
            role(Channel::Call, Direction::Inbound),
            ParticipantRole::From
        );
        assert_eq!(
            role(Channel::Meeting, Direction::Inbound),
            ParticipantRole::Attendee
        );
    }
}
