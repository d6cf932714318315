//! Pure merge of what one message says about a person into their stored contact fields,
//! following the provenance rules of [`super::Provenance`].

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::plan::{PersonPlan, better_name};
use super::{FieldSource, Provenance};
use crate::extract::names::clean_display_name;

/// The mutable part of a `contacts` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFields {
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub company_id: Option<Uuid>,
    /// `{"linkedin": url, "twitter": url, "website": url}`.
    pub links: Value,
    pub field_sources: Value,
}

/// The message the values come from.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    pub activity_id: Uuid,
    pub at: DateTime<Utc>,
}

impl Evidence {
    fn provenance(self, source: FieldSource) -> Provenance {
        Provenance::from_mail(source, self.activity_id, self.at)
    }
}

/// Applies `person`'s header name, signature fields and `company` (the id of the
/// company of their address's domain, or of the signature's company) to `fields`.
/// Returns the names of the fields that changed.
pub fn merge_person(
    fields: &mut ContactFields,
    person: &PersonPlan,
    company: Option<Uuid>,
    evidence: Evidence,
) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if let Some(name) = &person.name {
        let current = fields.display_name.as_deref().and_then(clean_display_name);
        let prov = evidence.provenance(FieldSource::Header);
        if fields.display_name.as_deref() != Some(name.as_str())
            && prov.replaces(
                Provenance::of(&fields.field_sources, "display_name").as_ref(),
                better_name(Some(name), current.as_ref()),
            )
        {
            fields.display_name = Some(name.as_str().to_owned());
            set_source(&mut fields.field_sources, "display_name", &prov);
            changed.push("display_name");
        }
    }
    if let Some(company) = company {
        let prov = evidence.provenance(FieldSource::Header);
        let current = Provenance::of(&fields.field_sources, "company");
        let newer = current
            .as_ref()
            .and_then(|c| c.at)
            .is_none_or(|at| evidence.at >= at);
        if fields.company_id != Some(company)
            && (fields.company_id.is_none() || prov.replaces(current.as_ref(), newer))
        {
            fields.company_id = Some(company);
            set_source(&mut fields.field_sources, "company", &prov);
            changed.push("company");
        }
    }
    let Some(sig) = &person.signature else {
        return changed;
    };
    let prov = evidence.provenance(FieldSource::Signature);
    // A signature's full name outranks header names; a lone first name from a sign-off
    // says less than the headers do.
    if let Some(name) = &sig.name
        && name.split_whitespace().count() >= 2
        && fields.display_name.as_deref() != Some(name)
        && prov.replaces(
            Provenance::of(&fields.field_sources, "display_name").as_ref(),
            true,
        )
    {
        fields.display_name = Some(name.clone());
        set_source(&mut fields.field_sources, "display_name", &prov);
        changed.push("display_name");
    }
    if let Some(title) = &sig.title
        && prov.replaces(
            Provenance::of(&fields.field_sources, "title").as_ref(),
            true,
        )
    {
        if fields.title.as_deref() != Some(title) {
            changed.push("title");
        }
        fields.title = Some(title.clone());
        set_source(&mut fields.field_sources, "title", &prov);
    }
    for (key, value) in [
        ("linkedin", &sig.linkedin),
        ("twitter", &sig.twitter),
        ("website", &sig.website),
    ] {
        let Some(value) = value else { continue };
        if prov.replaces(Provenance::of(&fields.field_sources, key).as_ref(), true) {
            let links = object(&mut fields.links);
            if links.get(key).and_then(Value::as_str) != Some(value) {
                changed.push(key);
            }
            links.insert(key.to_owned(), json!(value));
            set_source(&mut fields.field_sources, key, &prov);
        }
    }
    changed
}

fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("just made an object")
}

fn set_source(field_sources: &mut Value, field: &str, prov: &Provenance) {
    object(field_sources).insert(
        field.to_owned(),
        serde_json::to_value(prov).expect("provenance serializes"),
    );
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::processing::plan::SignatureFacts;

    fn evidence(day: u32) -> Evidence {
        Evidence {
            activity_id: Uuid::from_u128(u128::from(day)),
            at: Utc.with_ymd_and_hms(2025, 1, day, 0, 0, 0).unwrap(),
        }
    }

    fn empty() -> ContactFields {
        ContactFields {
            display_name: None,
            title: None,
            company_id: None,
            links: json!({}),
            field_sources: json!({}),
        }
    }

    fn person(name: Option<&str>, title: Option<&str>) -> PersonPlan {
        PersonPlan {
            address: "jane@acme.com".to_owned(),
            creatable: Ok(()),
            owner_wrote_here: false,
            name: name.and_then(clean_display_name),
            company_domain: None,
            signature: title.map(|t| SignatureFacts {
                title: Some(t.to_owned()),
                linkedin: Some("https://www.linkedin.com/in/jane".to_owned()),
                ..SignatureFacts::default()
            }),
        }
    }

    #[test]
    fn fills_fields_with_their_source_message() {
        let mut fields = empty();
        let changed = merge_person(
            &mut fields,
            &person(Some("Jane Roe"), Some("CTO")),
            None,
            evidence(3),
        );
        assert_eq!(changed, ["display_name", "title", "linkedin"]);
        assert_eq!(fields.title.as_deref(), Some("CTO"));
        assert_eq!(fields.links["linkedin"], "https://www.linkedin.com/in/jane");
        let title = Provenance::of(&fields.field_sources, "title").unwrap();
        assert_eq!(title.source, FieldSource::Signature);
        assert_eq!(title.activity_id, Some(evidence(3).activity_id));
        assert_eq!(
            Provenance::of(&fields.field_sources, "display_name")
                .unwrap()
                .source,
            FieldSource::Header
        );
    }

    #[test]
    fn newest_signature_wins_whatever_the_processing_order() {
        let mut fields = empty();
        merge_person(&mut fields, &person(None, Some("CTO")), None, evidence(9));
        merge_person(
            &mut fields,
            &person(None, Some("Engineer")),
            None,
            evidence(2),
        );
        assert_eq!(fields.title.as_deref(), Some("CTO"));
        merge_person(&mut fields, &person(None, Some("CEO")), None, evidence(12));
        assert_eq!(fields.title.as_deref(), Some("CEO"));
    }

    #[test]
    fn user_edits_survive() {
        let mut fields = ContactFields {
            display_name: Some("Janey".to_owned()),
            title: Some("Boss".to_owned()),
            field_sources: json!({"display_name": {"source": "user"}, "title": {"source": "user"}}),
            ..empty()
        };
        let changed = merge_person(
            &mut fields,
            &person(Some("Jane Roe"), Some("CTO")),
            None,
            evidence(3),
        );
        assert_eq!(changed, ["linkedin"]);
        assert_eq!(fields.display_name.as_deref(), Some("Janey"));
        assert_eq!(fields.title.as_deref(), Some("Boss"));
    }

    #[test]
    fn a_fuller_header_name_replaces_a_single_token() {
        let mut fields = empty();
        merge_person(&mut fields, &person(Some("Jane"), None), None, evidence(3));
        merge_person(
            &mut fields,
            &person(Some("Jane Roe"), None),
            None,
            evidence(1),
        );
        merge_person(&mut fields, &person(Some("J"), None), None, evidence(5));
        assert_eq!(fields.display_name.as_deref(), Some("Jane Roe"));
    }
}
