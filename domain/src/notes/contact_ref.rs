//! How the API names a contact (its id or one of its email addresses) and what an agent
//! reads about it: the contact's activities, optionally only the processed ones.

use api::{ActivityState, Channel, Direction};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::scopes::NotesScope;
use crate::{DomainError, EmailAddress};

/// A contact as named in an API path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactRef {
    Id(Uuid),
    Email(EmailAddress),
}

impl ContactRef {
    /// A UUID is an id; anything with an `@` is an email address.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let input = input.trim();
        if let Ok(id) = Uuid::parse_str(input) {
            return Ok(Self::Id(id));
        }
        if input.contains('@') {
            return EmailAddress::parse(input)
                .map(Self::Email)
                .map_err(|e| DomainError::invalid("contact", e.to_string()));
        }
        Err(DomainError::invalid(
            "contact",
            "must be a contact id or an email address",
        ))
    }
}

/// Which activities to list, by processing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityStateFilter {
    Any,
    Only(ActivityState),
}

impl ActivityStateFilter {
    /// `None` lists every state.
    pub fn parse(input: Option<&str>) -> Result<Self, DomainError> {
        match input {
            None => Ok(Self::Any),
            Some(input) => ActivityState::parse(input)
                .map(Self::Only)
                .map_err(|e| DomainError::not_one_of("state", &e)),
        }
    }

    fn as_option(self) -> Option<&'static str> {
        match self {
            Self::Any => None,
            Self::Only(state) => Some(state.as_str()),
        }
    }
}

/// An activity of a contact, as an agent reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactActivity {
    pub id: Uuid,
    pub channel: Channel,
    pub direction: Option<Direction>,
    pub occurred_at: DateTime<Utc>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub state: ActivityState,
    pub processed_at: Option<DateTime<Utc>>,
}

impl NotesScope<'_> {
    /// The id of the contact `reference` names. A merged contact's id leads to the
    /// contact it was merged into (where its identities, activities and notes went);
    /// someone else's contact is not found, exactly like a missing one.
    pub async fn resolve_contact(self, reference: &ContactRef) -> Result<Uuid, DomainError> {
        let found = match reference {
            ContactRef::Id(id) => {
                sqlx::query_scalar!(
                    r#"select coalesce(merged_into, id) as "id!" from contacts
                       where user_id = $1 and id = $2"#,
                    self.user.0,
                    id,
                )
                .fetch_optional(self.pool)
                .await?
            }
            ContactRef::Email(email) => {
                sqlx::query_scalar!(
                    r#"select coalesce(c.merged_into, c.id) as "id!"
                       from contact_identities i
                       join contacts c on c.user_id = i.user_id and c.id = i.contact_id
                       where i.user_id = $1 and i.kind = 'email' and i.value = $2"#,
                    self.user.0,
                    email.as_ref(),
                )
                .fetch_optional(self.pool)
                .await?
            }
        };
        found.ok_or(DomainError::NotFound("contact"))
    }

    /// The contact's activities in `state`, newest first, at most `limit`, skipping
    /// ones deleted at the source.
    pub async fn contact_activities(
        self,
        contact: Uuid,
        state: ActivityStateFilter,
        limit: i64,
    ) -> Result<Vec<ContactActivity>, DomainError> {
        Ok(sqlx::query_as!(
            ContactActivity,
            r#"select a.id, a.channel as "channel: Channel", a.direction as "direction: Direction",
                      a.occurred_at, a.subject, a.snippet, a.state as "state: ActivityState",
                      a.processed_at
               from activities a
               where a.user_id = $1 and a.deleted_at is null
                 and ($3::text is null or a.state = $3)
                 and a.id in (select p.activity_id from activity_participants p
                              where p.user_id = $1 and p.contact_id = $2)
               order by a.occurred_at desc, a.id
               limit $4"#,
            self.user.0,
            contact,
            state.as_option(),
            limit,
        )
        .fetch_all(self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_an_id_or_an_email() {
        let id = Uuid::new_v4();
        assert_eq!(
            ContactRef::parse(&id.to_string()).unwrap(),
            ContactRef::Id(id)
        );
        assert_eq!(
            ContactRef::parse(" Ana@Example.com ").unwrap(),
            ContactRef::Email(EmailAddress::parse("ana@example.com").unwrap())
        );
        assert!(ContactRef::parse("ana").is_err());
        assert!(ContactRef::parse("a b@example.com").is_err());
    }

    #[test]
    fn states_are_checked() {
        assert_eq!(
            ActivityStateFilter::parse(None).unwrap(),
            ActivityStateFilter::Any
        );
        assert_eq!(
            ActivityStateFilter::parse(Some(ActivityState::Completed.as_str())).unwrap(),
            ActivityStateFilter::Only(ActivityState::Completed)
        );
        assert!(ActivityStateFilter::parse(Some("done")).is_err());
    }
}
