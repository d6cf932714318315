//! Pure planning of one activity: which participants are people that may become
//! contacts, and what each message tells about them (name from the headers, fields
//! from the sender's signature, company domain). No I/O: [`super::apply`] writes the
//! plan.

use api::{AddressKind, Direction, ParticipantRole};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::extract::address::{SenderKind, classify_sender, is_bulk};
use crate::extract::domains::{CompanyDomain, region_from_tld};
use crate::extract::links::{canonical_linkedin, canonical_website, twitter_handle, twitter_url};
use crate::extract::names::{
    DisplayName, NameSource, choose_name, clean_display_name, header_name, is_role_name,
    name_from_address,
};
use crate::extract::new_address::new_address_notice;
use crate::extract::phone::PhoneKind;
use crate::extract::quotes::{SegmentKind, segments};
use crate::extract::signature::{SenderHint, extract_signature};

/// Region for national phone numbers when neither the signature nor the sender's
/// domain names one.
pub const FALLBACK_REGION: &str = "US";

/// An activity as stored, with what planning needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityFacts {
    pub id: Uuid,
    /// `None` when unknown (treated as inbound).
    pub direction: Option<Direction>,
    pub occurred_at: DateTime<Utc>,
    /// The `activities.headers` object written by ingest (list and auto-reply headers).
    pub headers: serde_json::Value,
    pub body_text: Option<String>,
    pub participants: Vec<ParticipantFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantFacts {
    pub role: ParticipantRole,
    pub address_kind: AddressKind,
    pub address: String,
    pub display_name: Option<String>,
}

/// The mailbox owner: their addresses are never contacts and their domains never
/// companies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Lower-cased: the user's email, the account address and send-as aliases.
    pub addresses: Vec<String>,
    /// Registrable domains of those addresses, free-mail excluded.
    pub domains: Vec<String>,
    /// Region for national phone numbers (from the owner's ccTLD, else [`FALLBACK_REGION`]).
    pub default_region: String,
}

impl Owner {
    pub fn new(addresses: impl IntoIterator<Item = String>) -> Self {
        let mut addresses: Vec<String> = addresses
            .into_iter()
            .map(|a| a.trim().to_lowercase())
            .collect();
        addresses.sort();
        addresses.dedup();
        let mut domains: Vec<String> = addresses
            .iter()
            .filter_map(|a| CompanyDomain::from_email(a))
            .map(|d| d.as_str().to_owned())
            .collect();
        domains.sort();
        domains.dedup();
        let default_region = addresses
            .iter()
            .find_map(|a| region_from_tld(a))
            .unwrap_or(FALLBACK_REGION)
            .to_owned();
        Self {
            addresses,
            domains,
            default_region,
        }
    }

    pub fn is_owner(&self, address: &str) -> bool {
        self.addresses.iter().any(|a| a == address)
    }
}

/// Why a participant may be linked to a known contact but never creates one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotAPerson {
    /// noreply, notifications, bounces.
    Automated,
    /// Shared role mailboxes (info@, support@).
    Group,
    /// Part of list, newsletter or auto-submitted mail.
    BulkMail,
}

/// Contact fields found in the sender's signature, in their stored forms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SignatureFacts {
    pub name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    /// E.164, fax and pager numbers left out.
    pub phones: Vec<String>,
    pub linkedin: Option<String>,
    pub twitter: Option<String>,
    pub website: Option<String>,
}

impl SignatureFacts {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One distinct non-owner participant of the activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonPlan {
    /// Lower-cased email address.
    pub address: String,
    /// `Err` when this address must never create a contact.
    pub creatable: Result<(), NotAPerson>,
    /// The owner wrote this message to them (To, Cc or Bcc of outbound mail).
    pub owner_wrote_here: bool,
    /// The best name the message's headers, quoted attributions or the address give
    /// (see [`choose_name`]); the signature's is in `signature`.
    pub name: Option<DisplayName>,
    /// Where `name` was read.
    pub name_source: NameSource,
    /// The employer's registrable domain: never free-mail, never the owner's.
    pub company_domain: Option<CompanyDomain>,
    pub signature: Option<SignatureFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPlan {
    pub activity_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// Why the message is bulk mail, if it is.
    pub bulk: Option<String>,
    pub people: Vec<PersonPlan>,
    /// The sender said their email address changed (see [`super::duplicates`]).
    pub new_address: Option<NewAddress>,
}

/// A person sender's "my new email is …" ([`new_address_notice`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAddress {
    /// The sender's address.
    pub sender: String,
    /// The other address the message names, if any.
    pub mentioned: Option<String>,
}

/// Plans one activity. Participants come out once per address, in address order (the
/// order locks are taken in), owner addresses left out.
pub fn plan_activity(facts: &ActivityFacts, owner: &Owner) -> ActivityPlan {
    let bulk = is_bulk(&bulk_headers(&facts.headers)).map(|r| format!("{r:?}"));
    let outbound = facts.direction == Some(Direction::Outbound);
    let mut people: Vec<PersonPlan> = Vec::new();
    for p in facts
        .participants
        .iter()
        .filter(|p| p.address_kind == AddressKind::Email)
    {
        let address = p.address.trim().to_lowercase();
        if owner.is_owner(&address) {
            continue;
        }
        let name = p
            .display_name
            .as_deref()
            .and_then(|raw| header_name(raw, &address));
        // "Accounts Payable" <ap@acme.com>: a role mailbox whatever its address says.
        let role_name = p.display_name.as_deref().is_some_and(is_role_name);
        // Inviting someone to a meeting the user organizes counts as writing to them.
        let wrote = outbound && (p.role.is_recipient() || p.role == ParticipantRole::Attendee);
        if let Some(existing) = people.iter_mut().find(|e| e.address == address) {
            existing.owner_wrote_here |= wrote;
            existing.offer_name(name);
            continue;
        }
        let creatable = match (classify_sender(&address), &bulk) {
            (SenderKind::Automated, _) => Err(NotAPerson::Automated),
            (SenderKind::Group, _) => Err(NotAPerson::Group),
            (SenderKind::Person, _) if role_name => Err(NotAPerson::Group),
            (SenderKind::Person, Some(_)) => Err(NotAPerson::BulkMail),
            (SenderKind::Person, None) => Ok(()),
        };
        let company_domain = CompanyDomain::from_email(&address)
            .filter(|d| !owner.domains.iter().any(|o| o == d.as_str()));
        let (name, name_source) = match choose_name(
            name.into_iter()
                .chain(name_from_address(&address).map(|n| (n, NameSource::Address))),
        ) {
            Some((name, source)) => (Some(name), source),
            None => (None, NameSource::Address),
        };
        people.push(PersonPlan {
            address,
            creatable,
            owner_wrote_here: wrote,
            name,
            name_source,
            company_domain,
            signature: None,
        });
    }
    let body = facts.body_text.as_deref().map(segments).unwrap_or_default();
    // Quoted messages name their senders as their mail client showed them ("On …, Jane
    // Roe <jane@acme.com> wrote:", "From: Roe, Jane"): header names of earlier mail.
    for quoted in body.iter().filter(|s| s.kind != SegmentKind::Own) {
        let Some(sender) = &quoted.sender else {
            continue;
        };
        let (Some(email), Some(name)) = (&sender.email, &sender.name) else {
            continue;
        };
        if let Some(person) = people.iter_mut().find(|p| &p.address == email) {
            person.offer_name(header_name(name.as_str(), email));
        }
    }
    let new_address = if outbound {
        None
    } else {
        let own = body
            .iter()
            .find(|s| s.kind == SegmentKind::Own)
            .map(|s| s.text.as_str());
        attach_signature(facts, own, owner, &mut people);
        announced_address(facts, own, owner, &people)
    };
    people.sort_by(|a, b| a.address.cmp(&b.address));
    ActivityPlan {
        activity_id: facts.id,
        occurred_at: facts.occurred_at,
        bulk,
        people,
        new_address,
    }
}

/// The sender's signature from their own text (quoted replies and forwards removed).
/// Only for a single person sender of mail that is not bulk: a signature is evidence
/// about its author alone.
fn attach_signature(
    facts: &ActivityFacts,
    own: Option<&str>,
    owner: &Owner,
    people: &mut [PersonPlan],
) {
    let Some(sender) = single_person_sender(facts, people).map(|p| p.address.clone()) else {
        return;
    };
    let Some(person) = people.iter_mut().find(|p| p.address == sender) else {
        return;
    };
    let Some(own) = own else {
        return;
    };
    // A name spelled by the address is no hint: the extractor reads the address itself.
    let name = person.written_name().map(|n| n.as_str().to_owned());
    let hint = SenderHint {
        name: name.as_deref(),
        email: Some(&person.address),
        default_region: Some(&owner.default_region),
    };
    let Some(sig) = extract_signature(own, &hint) else {
        return;
    };
    let facts = SignatureFacts {
        name: sig
            .writer_name()
            .and_then(|f| clean_display_name(&f.value))
            .map(|n| n.as_str().to_owned()),
        title: sig.title.map(|f| f.value),
        company: sig.company.map(|f| f.value),
        phones: sig
            .phones
            .iter()
            .filter(|p| !matches!(p.kind, PhoneKind::Fax | PhoneKind::Pager))
            .map(|p| p.number.as_str().to_owned())
            .fold(Vec::new(), |mut all, p| {
                if !all.contains(&p) {
                    all.push(p);
                }
                all
            }),
        linkedin: sig.linkedin.and_then(|f| canonical_linkedin(&f.value)),
        twitter: sig
            .twitter
            .and_then(|f| twitter_handle(&f.value))
            .map(|h| twitter_url(&h)),
        website: sig
            .websites
            .iter()
            .find_map(|f| canonical_website(&f.value)),
    };
    if !facts.is_empty() {
        person.signature = Some(facts);
    }
}

/// A single person sender's new-address notice in their own text; never the owner's
/// addresses.
fn announced_address(
    facts: &ActivityFacts,
    own: Option<&str>,
    owner: &Owner,
    people: &[PersonPlan],
) -> Option<NewAddress> {
    let sender = single_person_sender(facts, people)?;
    let notice = new_address_notice(own?, &sender.address)?;
    Some(NewAddress {
        sender: sender.address.clone(),
        mentioned: notice.mentioned.filter(|m| !owner.is_owner(m)),
    })
}

fn single_person_sender<'a>(
    facts: &ActivityFacts,
    people: &'a [PersonPlan],
) -> Option<&'a PersonPlan> {
    let senders: Vec<&ParticipantFacts> = facts
        .participants
        .iter()
        .filter(|p| p.role == ParticipantRole::From && p.address_kind == AddressKind::Email)
        .collect();
    let [sender] = senders.as_slice() else {
        return None;
    };
    let address = sender.address.trim().to_lowercase();
    people
        .iter()
        .find(|p| p.address == address && p.creatable.is_ok())
}

impl PersonPlan {
    /// Keeps `candidate` when it is a better name than the one held ([`choose_name`]).
    fn offer_name(&mut self, candidate: Option<(DisplayName, NameSource)>) {
        let held = self.name.take().map(|n| (n, self.name_source));
        if let Some((name, source)) = choose_name(held.into_iter().chain(candidate)) {
            self.name = Some(name);
            self.name_source = source;
        }
    }

    /// The name a person or their mail client wrote, not one spelled by the address:
    /// only such names say who someone is when contacts are compared.
    pub fn written_name(&self) -> Option<&DisplayName> {
        self.name
            .as_ref()
            .filter(|_| self.name_source >= NameSource::Header)
    }
}

/// The stored header object as the name/value pairs bulk detection reads.
fn bulk_headers(headers: &serde_json::Value) -> Vec<(String, String)> {
    let text = |key: &str| headers.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let mut out = Vec::new();
    if let Some(v) = text("list_id") {
        out.push(("List-Id".to_owned(), v));
    }
    if let Some(list) = headers.get("list_unsubscribe").and_then(|v| v.as_array()) {
        out.extend(
            list.iter()
                .filter_map(|v| v.as_str())
                .map(|v| ("List-Unsubscribe".to_owned(), v.to_owned())),
        );
    }
    if let Some(v) = text("precedence") {
        out.push(("Precedence".to_owned(), v));
    }
    if let Some(v) = text("auto_submitted") {
        out.push(("Auto-Submitted".to_owned(), v));
    }
    out
}

#[cfg(test)]
mod tests;
