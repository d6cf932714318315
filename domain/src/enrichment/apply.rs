//! Setting a contact's own fields from the enriched values, by the provenance rules:
//! a user's edit always wins, a signature outranks any provider, a provider outranks a
//! header; among providers the value the user picked, else the most confident, else the
//! newest. Values that lose stay in `enrichment_values` as alternatives.

use api::enrichment::EnrichedField;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{Db, UserId};

/// The fields that are columns of `contacts` (the links are keys of `contacts.links`);
/// the others live only in `enrichment_values` and the About section.
pub const CONTACT_FIELDS: [EnrichedField; 5] = [
    EnrichedField::DisplayName,
    EnrichedField::Title,
    EnrichedField::Linkedin,
    EnrichedField::Twitter,
    EnrichedField::Website,
];

/// One stored value of a field.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub value: String,
    pub source: String,
    pub confidence: f32,
    pub fetched_at: DateTime<Utc>,
    pub picked: bool,
}

/// Whether a value from `source` (a `field_sources` entry's source) may be replaced by
/// a provider's value.
fn providers_may_replace(source: Option<&str>) -> bool {
    !matches!(source, Some("user" | "signature"))
}

/// The candidate that wins the field, if the stored value may be replaced.
pub fn choose<'a>(
    current_source: Option<&str>,
    candidates: &'a [Candidate],
) -> Option<&'a Candidate> {
    if !providers_may_replace(current_source) {
        return None;
    }
    candidates.iter().max_by(|a, b| {
        (a.picked, a.confidence, a.fetched_at)
            .partial_cmp(&(b.picked, b.confidence, b.fetched_at))
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

fn source_of(field_sources: &Value, field: &str) -> Option<String> {
    field_sources
        .get(field)
        .and_then(|entry| entry.get("source"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("just made an object")
}

/// Sets the contact's fields from its enriched values; returns the fields it changed.
pub async fn apply(
    db: &Db,
    user: UserId,
    contact: Uuid,
) -> Result<Vec<EnrichedField>, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let Some(row) = sqlx::query!(
        r#"select display_name, title, links, field_sources from contacts
           where user_id = $1 and id = $2 and merged_into is null for update"#,
        user.0,
        contact,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(Vec::new());
    };
    let values = sqlx::query!(
        r#"select field, value, source, confidence, fetched_at, picked from enrichment_values
           where user_id = $1 and contact_id = $2 and field = any($3)"#,
        user.0,
        contact,
        &CONTACT_FIELDS.map(|f| f.as_str().to_owned()),
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut display_name = row.display_name;
    let mut title = row.title;
    let mut links = row.links;
    let mut sources = row.field_sources;
    let mut changed = Vec::new();
    for field in CONTACT_FIELDS {
        let candidates: Vec<Candidate> = values
            .iter()
            .filter(|v| v.field == field.as_str())
            .map(|v| Candidate {
                value: v.value.clone(),
                source: v.source.clone(),
                confidence: v.confidence,
                fetched_at: v.fetched_at,
                picked: v.picked,
            })
            .collect();
        let current = source_of(&sources, field.as_str());
        let Some(winner) = choose(current.as_deref(), &candidates) else {
            continue;
        };
        let slot = match field {
            EnrichedField::DisplayName => &mut display_name,
            EnrichedField::Title => &mut title,
            _ => {
                let links = object(&mut links);
                let stored = links.get(field.as_str()).and_then(Value::as_str);
                if stored != Some(winner.value.as_str())
                    || current.as_deref() != Some(&winner.source)
                {
                    links.insert(field.as_str().to_owned(), json!(winner.value));
                    changed.push(field);
                }
                object(&mut sources).insert(
                    field.as_str().to_owned(),
                    json!({"source": winner.source, "at": winner.fetched_at, "confidence": winner.confidence}),
                );
                continue;
            }
        };
        if slot.as_deref() != Some(winner.value.as_str())
            || current.as_deref() != Some(&winner.source)
        {
            *slot = Some(winner.value.clone());
            changed.push(field);
        }
        object(&mut sources).insert(
            field.as_str().to_owned(),
            json!({"source": winner.source, "at": winner.fetched_at, "confidence": winner.confidence}),
        );
    }
    if !changed.is_empty() {
        sqlx::query!(
            r#"update contacts set display_name = $3, title = $4, links = $5, field_sources = $6
               where user_id = $1 and id = $2"#,
            user.0,
            contact,
            display_name,
            title,
            links,
            sources,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn candidate(value: &str, confidence: f32, day: u32, picked: bool) -> Candidate {
        Candidate {
            value: value.into(),
            source: "people_data_labs".into(),
            confidence,
            fetched_at: Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap(),
            picked,
        }
    }

    #[test]
    fn users_and_signatures_keep_their_values() {
        let found = [candidate("CTO", 0.9, 1, false)];
        assert_eq!(choose(Some("user"), &found), None);
        assert_eq!(choose(Some("signature"), &found), None);
        assert_eq!(choose(Some("header"), &found), Some(&found[0]));
        assert_eq!(choose(None, &found), Some(&found[0]));
        assert_eq!(choose(Some("clearbit"), &found), Some(&found[0]));
    }

    #[test]
    fn a_pick_beats_confidence_which_beats_age() {
        let found = [
            candidate("CTO", 0.9, 1, false),
            candidate("VP", 0.5, 2, false),
            candidate("Founder", 0.9, 3, false),
        ];
        assert_eq!(choose(None, &found).unwrap().value, "Founder");
        let picked = [
            candidate("CTO", 0.9, 1, false),
            candidate("VP", 0.1, 1, true),
        ];
        assert_eq!(choose(None, &picked).unwrap().value, "VP");
    }
}
