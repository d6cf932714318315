//! Ground truth: what a perfect extractor could learn from the generated
//! mail, and nothing more. Fields are only set when the mail actually shows
//! them (e.g. a title is recorded only if a signature carrying it was sent),
//! so evaluation scores are not penalised for the unknowable.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::plan::PersonStats;
use super::threads::Cast;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub seed: u64,
    pub messages: usize,
    pub owner: OwnerTruth,
    /// People who appear in at least one message, ordered by id.
    pub people: Vec<PersonTruth>,
    pub companies: Vec<CompanyTruth>,
    /// Sender addresses of newsletters, mailing lists and notification
    /// robots. None of them are people.
    pub bulk_senders: Vec<String>,
    /// Sender addresses of messages labelled SPAM.
    pub spam_senders: Vec<String>,
    /// Gmail ids of the messages that try to hijack an AI assistant.
    pub prompt_injection_message_ids: Vec<String>,
    /// Gmail ids of deliberately malformed messages.
    pub malformed_message_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerTruth {
    pub name: String,
    pub email: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub phone_e164: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonTruth {
    pub id: u32,
    /// Canonical "First Last", even where headers show "Last, First" or
    /// only a bare address.
    pub name: String,
    /// Addresses that appear in headers, primary (most used) first.
    pub emails: Vec<String>,
    /// Company name as written in the person's signature.
    pub company: Option<String>,
    /// Registrable domain of the employer (addresses may use a subdomain).
    pub company_domain: Option<String>,
    /// Newest title shown in a signature they sent.
    pub title: Option<String>,
    /// First phone number of the signature, in E.164.
    pub phone_e164: Option<String>,
    /// Further signature phone numbers (mobile), in E.164.
    pub other_phones_e164: Vec<String>,
    /// Canonical `https://www.linkedin.com/in/<handle>`.
    pub linkedin: Option<String>,
    /// Handle without the `@`.
    pub twitter: Option<String>,
    /// Canonical `https://host` URL.
    pub website: Option<String>,
    /// Whether the owner ever sent them mail (To, Cc or Bcc).
    pub owner_wrote_to: bool,
    /// Messages where they appear in From, To, Cc or Bcc.
    pub message_count: u32,
    /// Messages from the owner with them as a recipient.
    pub sent_by_owner: u32,
    /// Messages from them to the owner.
    pub received_by_owner: u32,
    /// When each message the owner sent them or they sent the owner was sent, oldest
    /// first: the rhythm of the relationship (keep-in-touch suggestions are checked
    /// against it).
    #[serde(default)]
    pub exchanged_at: Vec<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyTruth {
    pub name: String,
    /// Registrable domain, e.g. `example.co.uk`.
    pub domain: String,
    /// Domain in employees' addresses, e.g. `mail.example.de`.
    pub mail_domain: String,
    /// Ids of people in `GroundTruth::people` who work there.
    pub people: Vec<u32>,
}

pub(crate) fn owner(cast: &Cast) -> OwnerTruth {
    let o = &cast.owner;
    OwnerTruth {
        name: o.full_name(),
        email: o.emails[0].clone(),
        company: o.company.map(|c| cast.companies[c as usize].name.clone()),
        title: o.title.clone(),
        phone_e164: o.phone.as_ref().map(|p| p.e164.clone()),
    }
}

pub(crate) fn person(
    cast: &Cast,
    id: u32,
    stats: &PersonStats,
    origin: DateTime<Utc>,
) -> PersonTruth {
    let p = &cast.people[id as usize];
    let signed_at = stats.last_signed_ms;
    let shown = |value: Option<String>| value.filter(|_| signed_at.is_some());
    let company = p.company.map(|c| &cast.companies[c as usize]);
    let work_address_seen = company.is_some() && stats.addresses_used & 1 == 1;
    let phones: Vec<String> = [&p.phone, &p.mobile]
        .into_iter()
        .flatten()
        .map(|ph| ph.e164.clone())
        .collect();
    let phones = if signed_at.is_some() {
        phones
    } else {
        Vec::new()
    };
    PersonTruth {
        id,
        name: p.full_name(),
        emails: p
            .emails
            .iter()
            .enumerate()
            .filter(|(i, _)| stats.addresses_used & (1 << i) != 0)
            .map(|(_, e)| e.clone())
            .collect(),
        company: shown(company.map(|c| c.name.clone())),
        company_domain: company
            .filter(|_| work_address_seen || signed_at.is_some())
            .map(|c| c.domain.clone()),
        title: signed_at.and_then(|at| p.title_at(at).map(str::to_string)),
        phone_e164: phones.first().cloned(),
        other_phones_e164: phones.iter().skip(1).cloned().collect(),
        linkedin: shown(p.linkedin_url()),
        twitter: shown(p.twitter.clone()),
        website: shown(p.website_url()),
        owner_wrote_to: stats.sent_by_owner > 0,
        message_count: stats.message_count,
        sent_by_owner: stats.sent_by_owner,
        received_by_owner: stats.received_by_owner,
        exchanged_at: {
            let mut at: Vec<DateTime<Utc>> = stats
                .exchanged_ms
                .iter()
                .map(|ms| origin + Duration::milliseconds(*ms))
                .collect();
            at.sort_unstable();
            at
        },
    }
}
