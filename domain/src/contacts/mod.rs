//! Contacts as the user sees them: the list, one contact's page, a company's page,
//! profile edits, relationship stats and strength, duplicates and merges. Creating
//! contacts from mail lives in `processing`; the manual create is here.

use crate::db::scopes::ContactsScope;
use crate::events::{ContactCreatedPayload, ContactOrigin, Event};

pub mod company;
pub mod detail;
pub mod list;
pub mod merge;
pub mod profile;
pub mod stats;
pub mod strength;
pub mod view;

pub use company::CompanyOverview;
pub use detail::{ContactProfile, Identity, RecentThread};
pub use list::{
    COUNT_LIMIT, ContactListItem, ContactListPage, ContactQuery, ContactSort, ListTotal, PAGE_SIZE,
};
pub use merge::{DuplicateSuggestion, MergeRecord};
pub use profile::ProfileEdit;
pub use stats::{ContactStats, MonthVolume};

use uuid::Uuid;

use crate::{DomainError, EmailAddress};

pub const MAX_NAME_LEN: usize = 200;

/// A contact the user typed in by hand: a name and/or an email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub display_name: Option<String>,
    pub email: Option<EmailAddress>,
}

impl NewContact {
    pub fn parse(name: &str, email: &str) -> Result<Self, DomainError> {
        let display_name = Some(name.trim())
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        if display_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NAME_LEN)
        {
            return Err(DomainError::invalid(
                "name",
                format!("is longer than {MAX_NAME_LEN} characters"),
            ));
        }
        let email = Some(email.trim())
            .filter(|e| !e.is_empty())
            .map(EmailAddress::parse)
            .transpose()?;
        if display_name.is_none() && email.is_none() {
            return Err(DomainError::invalid(
                "name",
                "give a name or an email address",
            ));
        }
        Ok(Self {
            display_name,
            email,
        })
    }
}

impl ContactsScope<'_> {
    pub async fn create(self, new: &NewContact) -> Result<Uuid, DomainError> {
        let mut tx = self.pool.begin().await?;
        let id = sqlx::query_scalar!(
            r#"insert into contacts (user_id, display_name, field_sources)
               values ($1, $2, case when $2::text is null then '{}'::jsonb
                                    else '{"display_name": {"source": "user"}}'::jsonb end)
               returning id"#,
            self.user.0,
            new.display_name,
        )
        .fetch_one(&mut *tx)
        .await?;
        if let Some(email) = &new.email {
            sqlx::query!(
                r#"insert into contact_identities (user_id, contact_id, kind, value, source)
                   values ($1, $2, 'email', $3, 'user')"#,
                self.user.0,
                id,
                email.as_str(),
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    DomainError::Conflict("a contact with this email")
                }
                other => other.into(),
            })?;
        }
        let created = Event::ContactCreated(ContactCreatedPayload {
            contact_id: id,
            origin: ContactOrigin::Manual,
            activity_id: None,
        });
        self.events().record(&mut tx, &created).await?;
        tx.commit().await?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_contact_needs_name_or_email() {
        assert!(NewContact::parse("  ", "").is_err());
        let only_email = NewContact::parse("", "Ada@Example.com").unwrap();
        assert_eq!(only_email.display_name, None);
        assert_eq!(only_email.email.unwrap().as_str(), "ada@example.com");
        let only_name = NewContact::parse(" Ada Lovelace ", "").unwrap();
        assert_eq!(only_name.display_name.as_deref(), Some("Ada Lovelace"));
    }

    #[test]
    fn new_contact_rejects_bad_email_and_long_names() {
        let err = NewContact::parse("Ada", "not-an-email").unwrap_err();
        assert!(err.to_string().starts_with("invalid email"), "{err}");
        assert!(NewContact::parse(&"x".repeat(MAX_NAME_LEN + 1), "").is_err());
    }
}
