//! Contacts as the user sees them. Extraction from mail, merging and stats come later;
//! this module holds the user-scoped reads and the manual create.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{DomainError, EmailAddress, UserScope};

pub const MAX_NAME_LEN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactSummary {
    pub id: Uuid,
    pub display_name: Option<String>,
    pub primary_email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPage {
    pub contacts: Vec<ContactSummary>,
    pub total: i64,
}

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

impl UserScope<'_> {
    /// Newest first, at most `limit` rows, plus the total count for the user.
    pub async fn list_contacts(&self, limit: i64) -> Result<ContactPage, DomainError> {
        let contacts = sqlx::query_as!(
            ContactSummary,
            r#"select c.id, c.display_name, c.title, c.created_at,
                      co.name as "company?",
                      (select ci.value from contact_identities ci
                        where ci.contact_id = c.id and ci.kind = 'email'
                        order by ci.created_at limit 1) as "primary_email?"
               from contacts c
               left join companies co on co.id = c.company_id
               where c.user_id = $1 and c.merged_into is null
               order by c.created_at desc, c.id
               limit $2"#,
            self.user.0,
            limit,
        )
        .fetch_all(self.pool)
        .await?;
        let total = sqlx::query_scalar!(
            r#"select count(*) as "count!" from contacts where user_id = $1 and merged_into is null"#,
            self.user.0,
        )
        .fetch_one(self.pool)
        .await?;
        Ok(ContactPage { contacts, total })
    }

    pub async fn create_contact(&self, new: &NewContact) -> Result<Uuid, DomainError> {
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
