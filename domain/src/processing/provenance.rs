//! Per-field provenance (`contacts.field_sources`) and the rule for when a value from
//! mail may replace a stored one: user > signature > header, so sync never overwrites a
//! user's edit; within signatures the newest message wins, within headers the most
//! informative name.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a contact's field value came from; ordered by rank (`FieldSource::rank`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// Spelled by the contact's address (`jordan.whitlock@` -> "Jordan Whitlock"): names
    /// only, below everything else.
    Address,
    Header,
    Signature,
    User,
    /// An enrichment provider (its name is stored, e.g. `people_data_labs`): above
    /// headers, below signatures (`domain::enrichment` writes these).
    #[serde(other)]
    Provider,
}

impl FieldSource {
    fn rank(self) -> u8 {
        match self {
            Self::Address => 0,
            Self::Header => 1,
            Self::Provider => 2,
            Self::Signature => 3,
            Self::User => 4,
        }
    }
}

impl Ord for FieldSource {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for FieldSource {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One entry of `contacts.field_sources`, e.g.
/// `{"source": "signature", "activity_id": "…", "at": "2025-01-02T03:04:05Z"}`. User
/// edits carry only the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub source: FieldSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<Uuid>,
    /// When the source message was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

impl Provenance {
    pub fn from_mail(source: FieldSource, activity_id: Uuid, at: DateTime<Utc>) -> Self {
        Self {
            source,
            activity_id: Some(activity_id),
            at: Some(at),
        }
    }

    /// Reads `field` of a `field_sources` object; unreadable entries count as absent.
    pub fn of(field_sources: &serde_json::Value, field: &str) -> Option<Self> {
        field_sources
            .get(field)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Whether a value with this provenance replaces the stored value whose provenance
    /// is `current` (`None`: no value stored). A higher source always wins and a lower
    /// one never does; a user's value is never replaced from mail. Between values of
    /// the same source, `better` decides for header names, and the newer message wins
    /// for signature fields.
    pub fn replaces(&self, current: Option<&Provenance>, better: bool) -> bool {
        let Some(current) = current else {
            return true;
        };
        if current.source == FieldSource::User {
            return self.source == FieldSource::User;
        }
        match self.source.cmp(&current.source) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => match self.source {
                FieldSource::Header | FieldSource::Address => better,
                _ => match (self.at, current.at) {
                    (Some(new), Some(old)) => new >= old,
                    _ => true,
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, day, 0, 0, 0).unwrap()
    }

    fn mail(source: FieldSource, day: u32) -> Provenance {
        Provenance::from_mail(source, Uuid::nil(), at(day))
    }

    #[test]
    fn user_values_are_never_replaced_from_mail() {
        let user: Provenance = serde_json::from_value(json!({"source": "user"})).unwrap();
        assert!(!mail(FieldSource::Signature, 9).replaces(Some(&user), true));
        assert!(!mail(FieldSource::Header, 9).replaces(Some(&user), true));
    }

    #[test]
    fn signatures_outrank_headers_and_the_newest_signature_wins() {
        let header = mail(FieldSource::Header, 5);
        let old_sig = mail(FieldSource::Signature, 2);
        let new_sig = mail(FieldSource::Signature, 8);
        assert!(old_sig.replaces(Some(&header), false));
        assert!(!header.replaces(Some(&old_sig), true));
        assert!(new_sig.replaces(Some(&old_sig), false));
        assert!(!old_sig.replaces(Some(&new_sig), true));
        assert!(header.replaces(None, false));
    }

    #[test]
    fn signatures_replace_provider_values_and_headers_do_not() {
        let provider: Provenance =
            serde_json::from_value(json!({"source": "people_data_labs"})).unwrap();
        assert_eq!(provider.source, FieldSource::Provider);
        assert!(mail(FieldSource::Signature, 1).replaces(Some(&provider), false));
        assert!(!mail(FieldSource::Header, 1).replaces(Some(&provider), true));
    }

    #[test]
    fn header_names_replace_only_when_better() {
        let stored = mail(FieldSource::Header, 1);
        assert!(mail(FieldSource::Header, 2).replaces(Some(&stored), true));
        assert!(!mail(FieldSource::Header, 2).replaces(Some(&stored), false));
    }

    #[test]
    fn reads_entries_of_field_sources() {
        let sources = json!({
            "title": {"source": "signature", "activity_id": Uuid::nil(), "at": at(3)},
            "notes": "garbage"
        });
        assert_eq!(
            Provenance::of(&sources, "title"),
            Some(mail(FieldSource::Signature, 3))
        );
        assert_eq!(Provenance::of(&sources, "notes"), None);
        assert_eq!(Provenance::of(&sources, "company"), None);
    }
}
