//! The profile a user edits: name, title, company, emails, phones, links, tags, notes and
//! custom fields. Every field the user changes is marked `{"source": "user", "at": ...}`
//! in `contacts.field_sources`, which sync respects: it never overwrites a user's value.

use std::collections::BTreeMap;

use api::AddressKind;
use api::contacts::ProfileValues;
use serde_json::json;
use uuid::Uuid;

use super::MAX_NAME_LEN;
use crate::db::scopes::ContactsScope;
use crate::extract::phone::{RegionHints, parse_phone};
use crate::{DomainError, EmailAddress};

const MAX_FIELD_LEN: usize = 300;
const MAX_NOTES_LEN: usize = 20_000;
const MAX_TAG_LEN: usize = 40;
/// Links the profile form offers, by key in `contacts.links`.
const LINK_KINDS: [&str; 3] = ["linkedin", "website", "twitter"];

/// A validated profile, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileEdit {
    pub display_name: Option<String>,
    pub title: Option<String>,
    /// A company's web domain or the name of one of the user's companies.
    pub company: Option<String>,
    pub emails: Vec<EmailAddress>,
    /// E.164.
    pub phones: Vec<String>,
    pub links: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub notes: String,
    pub custom_fields: BTreeMap<String, String>,
}

impl ProfileEdit {
    pub fn parse(form: &ProfileValues) -> Result<Self, DomainError> {
        let display_name = optional_text("name", &form.display_name, MAX_NAME_LEN)?;
        let title = optional_text("title", &form.title, MAX_FIELD_LEN)?;
        let company = optional_text("company", &form.company, MAX_FIELD_LEN)?;
        let mut emails: Vec<EmailAddress> = lines(&form.emails)
            .map(EmailAddress::parse)
            .collect::<Result<_, _>>()?;
        emails.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        emails.dedup();
        let mut phones = lines(&form.phones)
            .map(|raw| {
                parse_phone(raw, &RegionHints::default())
                    .map(|p| p.as_str().to_owned())
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "phone",
                            format!("{raw} is not a phone number with its country code (+44 20 7946 0958)"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        phones.sort();
        phones.dedup();
        let mut links = BTreeMap::new();
        for (kind, value) in
            LINK_KINDS
                .into_iter()
                .zip([&form.linkedin, &form.website, &form.twitter])
        {
            if let Some(url) = optional_text("link", value, MAX_FIELD_LEN)? {
                links.insert(kind.to_owned(), url);
            }
        }
        let mut tags = form
            .tags
            .split([',', '\n'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(parse_tag)
            .collect::<Result<Vec<_>, _>>()?;
        tags.sort();
        tags.dedup();
        let notes = form.notes.trim().to_owned();
        if notes.chars().count() > MAX_NOTES_LEN {
            return Err(DomainError::invalid(
                "notes",
                format!("are longer than {MAX_NOTES_LEN} characters"),
            ));
        }
        let mut custom_fields = BTreeMap::new();
        for line in form
            .custom_fields
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let Some((key, value)) = line.split_once(':') else {
                return Err(DomainError::invalid(
                    "custom fields",
                    format!("\"{line}\" is not a \"name: value\" line"),
                ));
            };
            let key = optional_text("custom fields", key, MAX_TAG_LEN)?
                .ok_or_else(|| DomainError::invalid("custom fields", "a field has no name"))?;
            let value = optional_text("custom fields", value, MAX_FIELD_LEN)?.unwrap_or_default();
            custom_fields.insert(key, value);
        }
        Ok(Self {
            display_name,
            title,
            company,
            emails,
            phones,
            links,
            tags,
            notes,
            custom_fields,
        })
    }
}

/// A tag: trimmed, lowercase, at most 40 characters.
pub fn parse_tag(raw: &str) -> Result<String, DomainError> {
    let tag = raw.trim().to_lowercase();
    if tag.is_empty() {
        return Err(DomainError::invalid("tag", "is empty"));
    }
    if tag.chars().count() > MAX_TAG_LEN {
        return Err(DomainError::invalid(
            "tag",
            format!("is longer than {MAX_TAG_LEN} characters"),
        ));
    }
    Ok(tag)
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
}

fn optional_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<Option<String>, DomainError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(Some(value).filter(|v| !v.is_empty()).map(str::to_owned))
}

/// The profile as stored, in the shape of the edit, to tell which fields changed.
struct StoredProfile {
    display_name: Option<String>,
    title: Option<String>,
    company_id: Option<Uuid>,
    emails: Vec<String>,
    phones: Vec<String>,
    links: serde_json::Value,
    tags: Vec<String>,
    notes: String,
    custom_fields: serde_json::Value,
}

impl ContactsScope<'_> {
    /// Saves the profile; fields whose value changed get provenance "user".
    pub async fn update_profile(
        self,
        contact: Uuid,
        edit: &ProfileEdit,
    ) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query!(
            r#"select display_name, title, company_id, links, tags, notes, custom_fields,
                      array(select value from contact_identities
                            where contact_id = c.id and kind = 'email' order by value) as "emails!",
                      array(select value from contact_identities
                            where contact_id = c.id and kind = 'phone' order by value) as "phones!"
               from contacts c
               where user_id = $1 and id = $2 and merged_into is null
               for update"#,
            self.user.0,
            contact,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("contact"))?;
        let stored = StoredProfile {
            display_name: row.display_name,
            title: row.title,
            company_id: row.company_id,
            emails: row.emails,
            phones: row.phones,
            links: row.links,
            tags: row.tags,
            notes: row.notes,
            custom_fields: row.custom_fields,
        };

        let company_id = match &edit.company {
            None => None,
            Some(text) => Some(self.find_or_create_company(&mut tx, text).await?),
        };
        let emails: Vec<String> = edit.emails.iter().map(|e| e.as_str().to_owned()).collect();
        let links = json!(edit.links);
        let custom_fields = json!(edit.custom_fields);
        let changed: Vec<&str> = [
            ("display_name", stored.display_name != edit.display_name),
            ("title", stored.title != edit.title),
            ("company", stored.company_id != company_id),
            ("emails", stored.emails != emails),
            ("phones", stored.phones != edit.phones),
            ("links", stored.links != links),
            ("tags", stored.tags != edit.tags),
            ("notes", stored.notes != edit.notes),
            ("custom_fields", stored.custom_fields != custom_fields),
        ]
        .into_iter()
        .filter_map(|(field, differs)| differs.then_some(field))
        .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let changed: Vec<String> = changed.into_iter().map(str::to_owned).collect();

        sqlx::query!(
            r#"update contacts set display_name = $3, title = $4, company_id = $5, links = $6,
                 tags = $7, notes = $8, custom_fields = $9,
                 field_sources = field_sources || (
                   select jsonb_object_agg(f, jsonb_build_object('source', 'user', 'at', now()))
                   from unnest($10::text[]) as f)
               where user_id = $1 and id = $2"#,
            self.user.0,
            contact,
            edit.display_name,
            edit.title,
            company_id,
            links,
            &edit.tags,
            edit.notes,
            custom_fields,
            &changed,
        )
        .execute(&mut *tx)
        .await?;
        self.replace_identities(&mut tx, contact, AddressKind::Email, &emails)
            .await?;
        self.replace_identities(&mut tx, contact, AddressKind::Phone, &edit.phones)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes the contact's identities of `kind` exactly `values`, as typed by the user.
    async fn replace_identities(
        self,
        tx: &mut sqlx::PgConnection,
        contact: Uuid,
        kind: AddressKind,
        values: &[String],
    ) -> Result<(), DomainError> {
        sqlx::query!(
            r#"delete from contact_identities
               where user_id = $1 and contact_id = $2 and kind = $3 and not (value = any($4))"#,
            self.user.0,
            contact,
            kind.as_str(),
            values,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"insert into contact_identities (user_id, contact_id, kind, value, source)
               select $1, $2, $3, v, 'user' from unnest($4::text[]) as v
               on conflict (user_id, kind, value) do nothing"#,
            self.user.0,
            contact,
            kind.as_str(),
            values,
        )
        .execute(&mut *tx)
        .await?;
        let owned_elsewhere = sqlx::query_scalar!(
            r#"select count(*) as "n!" from contact_identities
               where user_id = $1 and kind = $3 and value = any($4) and contact_id <> $2"#,
            self.user.0,
            contact,
            kind.as_str(),
            values,
        )
        .fetch_one(&mut *tx)
        .await?;
        if owned_elsewhere > 0 {
            return Err(DomainError::Conflict(if kind == AddressKind::Email {
                "another contact with this email"
            } else {
                "another contact with this phone"
            }));
        }
        Ok(())
    }

    /// The user's company with this domain or name; a domain that is not known yet
    /// becomes a new company.
    async fn find_or_create_company(
        self,
        tx: &mut sqlx::PgConnection,
        text: &str,
    ) -> Result<Uuid, DomainError> {
        let lowered = text.trim().to_lowercase();
        if let Some(id) = sqlx::query_scalar!(
            r#"select id from companies
               where user_id = $1 and (domain = $2 or lower(name) = $2)
               order by (domain = $2) desc limit 1"#,
            self.user.0,
            lowered,
        )
        .fetch_optional(&mut *tx)
        .await?
        {
            return Ok(id);
        }
        let domain = lowered
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("www.")
            .trim_end_matches('/');
        let looks_like_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !looks_like_domain {
            return Err(DomainError::invalid(
                "company",
                format!("no company called \"{text}\" yet: give its web domain (acme.com)"),
            ));
        }
        Ok(sqlx::query_scalar!(
            r#"insert into companies (user_id, domain, name_source) values ($1, $2, 'user')
               on conflict (user_id, domain) do update set domain = excluded.domain
               returning id"#,
            self.user.0,
            domain,
        )
        .fetch_one(&mut *tx)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ProfileValues {
        ProfileValues {
            display_name: " Ada Lovelace ".into(),
            title: "Analyst".into(),
            company: "engines.example".into(),
            emails: "ada@example.com\nADA@example.com, ada@engines.example".into(),
            phones: "+44 20 7946 0958".into(),
            linkedin: "https://linkedin.com/in/ada".into(),
            tags: "Investor, vip ,investor".into(),
            custom_fields: "Birthday: 10 Dec\nCity: London".into(),
            ..ProfileValues::default()
        }
    }

    #[test]
    fn a_profile_form_is_parsed_and_normalized() {
        let edit = ProfileEdit::parse(&form()).unwrap();
        assert_eq!(edit.display_name.as_deref(), Some("Ada Lovelace"));
        let emails: Vec<&str> = edit.emails.iter().map(EmailAddress::as_str).collect();
        assert_eq!(emails, ["ada@engines.example", "ada@example.com"]);
        assert_eq!(edit.phones, ["+442079460958"]);
        assert_eq!(edit.tags, ["investor", "vip"]);
        assert_eq!(edit.links["linkedin"], "https://linkedin.com/in/ada");
        assert_eq!(edit.custom_fields["City"], "London");
    }

    #[test]
    fn bad_values_name_their_field() {
        let bad_phone = ProfileValues {
            phones: "020 7946 0958".into(),
            ..form()
        };
        let err = ProfileEdit::parse(&bad_phone).unwrap_err();
        assert!(err.to_string().starts_with("invalid phone"), "{err}");
        let bad_custom = ProfileValues {
            custom_fields: "no colon here".into(),
            ..form()
        };
        assert!(ProfileEdit::parse(&bad_custom).is_err());
        assert!(parse_tag(&"x".repeat(41)).is_err());
    }
}
