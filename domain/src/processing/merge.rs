//! Pure merge of what one message says about a person into their stored contact fields,
//! following the provenance rules of [`super::Provenance`].

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::plan::PersonPlan;
use super::{FieldSource, Provenance};
use crate::extract::names::{DisplayName, NameSource, clean_display_name, compare_names};

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
        let source = match person.name_source {
            NameSource::Address => FieldSource::Address,
            _ => FieldSource::Header,
        };
        offer_name(fields, name, evidence.provenance(source), &mut changed);
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
    if let Some(name) = sig.name.as_deref().and_then(clean_display_name) {
        offer_name(fields, &name, prov.clone(), &mut changed);
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

/// Stores `name` as the display name when it is a better name than the stored one
/// ([`compare_names`]: the more complete, then the more trusted source). A user's name
/// is never replaced; between equal names of two signatures the newer message wins (a
/// person who changed their name signs with the new one).
fn offer_name(
    fields: &mut ContactFields,
    name: &DisplayName,
    prov: Provenance,
    changed: &mut Vec<&'static str>,
) {
    let current_prov = Provenance::of(&fields.field_sources, "display_name");
    let current_source = current_prov
        .as_ref()
        .map_or(FieldSource::Header, |p| p.source);
    if current_source == FieldSource::User {
        return;
    }
    if fields.display_name.as_deref() == Some(name.as_str()) {
        // The same name from a more trusted source: it now vouches for the name.
        if prov.source > current_source {
            set_source(&mut fields.field_sources, "display_name", &prov);
        }
        return;
    }
    let wins = match fields.display_name.as_deref().and_then(clean_display_name) {
        // None stored, or what is stored is no person's name ("Sales Team").
        None => true,
        Some(current) => match compare_names(
            name,
            name_source(prov.source),
            &current,
            name_source(current_source),
        ) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => {
                prov.source == FieldSource::Signature
                    && current_source == FieldSource::Signature
                    && current.as_str().to_lowercase() != name.as_str().to_lowercase()
                    && match (prov.at, current_prov.and_then(|p| p.at)) {
                        (Some(new), Some(old)) => new >= old,
                        _ => true,
                    }
            }
        },
    };
    if wins {
        fields.display_name = Some(name.as_str().to_owned());
        set_source(&mut fields.field_sources, "display_name", &prov);
        if !changed.contains(&"display_name") {
            changed.push("display_name");
        }
    }
}

fn name_source(source: FieldSource) -> NameSource {
    match source {
        FieldSource::Address => NameSource::Address,
        FieldSource::Header => NameSource::Header,
        FieldSource::Provider => NameSource::Provider,
        FieldSource::Signature | FieldSource::User => NameSource::Signature,
    }
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
            name_source: NameSource::Header,
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

    fn named(name: &str, source: NameSource) -> PersonPlan {
        PersonPlan {
            name: clean_display_name(name),
            name_source: source,
            ..person(None, None)
        }
    }

    fn signed(name: &str) -> PersonPlan {
        PersonPlan {
            signature: Some(SignatureFacts {
                name: Some(name.to_owned()),
                ..SignatureFacts::default()
            }),
            ..person(None, None)
        }
    }

    #[test]
    fn names_only_get_better_whatever_the_order() {
        let mut fields = empty();
        merge_person(
            &mut fields,
            &named("Jordan Whitlock", NameSource::Address),
            None,
            evidence(2),
        );
        assert_eq!(
            Provenance::of(&fields.field_sources, "display_name")
                .unwrap()
                .source,
            FieldSource::Address
        );
        // A header's name outranks the address's, even when it only adds diacritics.
        merge_person(
            &mut fields,
            &named("Whitlock, Jördan", NameSource::Header),
            None,
            evidence(3),
        );
        assert_eq!(fields.display_name.as_deref(), Some("Jördan Whitlock"));
        // Shouting, initials, a first name or a role say less.
        for worse in [
            "JÖRDAN WHITLOCK",
            "J. Whitlock",
            "JW",
            "Jördan",
            "Sales Team",
        ] {
            let changed = merge_person(
                &mut fields,
                &named(worse, NameSource::Header),
                None,
                evidence(9),
            );
            assert!(changed.is_empty(), "{worse}");
        }
        // A signature's initials do not replace a full header name; the same full name
        // in a signature vouches for it.
        merge_person(&mut fields, &signed("J. Whitlock"), None, evidence(10));
        assert_eq!(fields.display_name.as_deref(), Some("Jördan Whitlock"));
        merge_person(&mut fields, &signed("Jördan Whitlock"), None, evidence(10));
        assert_eq!(
            Provenance::of(&fields.field_sources, "display_name")
                .unwrap()
                .source,
            FieldSource::Signature
        );
        // Then a header's equally full name does not take it back.
        let changed = merge_person(
            &mut fields,
            &named("Jördan Whitlocke", NameSource::Header),
            None,
            evidence(11),
        );
        assert!(changed.is_empty());
    }

    #[test]
    fn a_stored_role_name_gives_way_and_a_newer_signature_renames() {
        let mut fields = ContactFields {
            display_name: Some("Accounts Payable".to_owned()),
            field_sources: json!({"display_name": {"source": "header"}}),
            ..empty()
        };
        merge_person(
            &mut fields,
            &named("Jane", NameSource::Header),
            None,
            evidence(3),
        );
        assert_eq!(fields.display_name.as_deref(), Some("Jane"));
        merge_person(&mut fields, &signed("Jane Smith"), None, evidence(5));
        merge_person(&mut fields, &signed("Jane Roe"), None, evidence(8));
        merge_person(&mut fields, &signed("Jane Smith"), None, evidence(6));
        assert_eq!(fields.display_name.as_deref(), Some("Jane Roe"));
    }
}
