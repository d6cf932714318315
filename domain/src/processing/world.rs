//! What a batch's processing reads and writes, held in memory: the contacts, companies
//! and identities the batch's activities can reach, loaded once ([`super::load`]), then
//! changed activity by activity exactly as processing them one at a time in the
//! database would, and written once ([`super::flush`]). Pure: no I/O here.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::duplicates::SamePerson;
use super::history::History;
use super::merge::{ContactFields, Evidence, merge_person};
use super::plan::{ActivityPlan, NotAPerson, PersonPlan};
use super::{ContactPolicy, FieldSource, ProcessingError, Provenance};
use crate::extract::domains::CompanyDomain;

/// Where a contact stands in creation order: stored contacts by `created_at`, then the
/// batch's own in the order it created them (the order they are inserted in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Created {
    Stored(DateTime<Utc>),
    InBatch(u32),
}

#[derive(Debug, Clone)]
pub(super) struct ContactState {
    pub fields: ContactFields,
    /// As loaded; `None` for a contact this batch creates.
    pub stored: Option<ContactFields>,
    pub created: Created,
    /// Not merged into another contact.
    pub live: bool,
    /// Its phone identities.
    pub phones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CompanyState {
    pub id: Uuid,
    pub name: Option<String>,
    pub name_source: Option<String>,
    /// Created by this batch.
    pub new: bool,
    /// Name changed by this batch.
    pub renamed: bool,
}

/// A contact identity this batch adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewIdentity {
    pub contact: Uuid,
    pub kind: &'static str,
    pub value: String,
    pub source: &'static str,
}

/// An address of an activity and the contact it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Link {
    pub activity: Uuid,
    pub address: String,
    pub contact: Uuid,
}

/// One claimed activity as processing sees it.
#[derive(Debug, Clone)]
pub(super) struct BatchActivity {
    pub account_id: Uuid,
    pub plan: ActivityPlan,
    /// An email completing for the first time: it records `email.sent`/`email.received`.
    pub first_email: Option<bool>,
    /// Its stored email participations that had no contact when the batch began.
    pub unlinked: HashSet<String>,
}

#[derive(Debug, Default)]
pub(super) struct World {
    /// The live contact of each email address (loaded, then as the batch attaches).
    pub address_contact: HashMap<String, Uuid>,
    /// Addresses the owner has written to in any stored mail.
    pub wrote_to: HashSet<String>,
    pub contacts: BTreeMap<Uuid, ContactState>,
    /// Phone identities by value: all of the batch's signature phones that are taken,
    /// and every phone of the loaded contacts.
    pub phones: HashMap<String, Uuid>,
    /// By domain.
    pub companies: HashMap<String, CompanyState>,
    pub identities: Vec<NewIdentity>,
    pub links: Vec<Link>,
    /// Addresses given to a contact by the batch, with the activity that did it.
    pub attached: Vec<Link>,
    /// Contacts created so far.
    pub created: u32,
    /// Pairs of contacts the batch's mail proves to be one person
    /// ([`World::note_duplicates`]).
    pub evidence: Vec<SamePerson>,
    /// The batch's activities with a named free-mail participant (see
    /// [`super::duplicates::thread_evidence`]).
    pub free_mail_named: HashSet<Uuid>,
}

/// What a batch changed, besides the rows the world holds.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// `activities.processed` of each activity, in batch order.
    pub processed: Vec<(Uuid, Value)>,
    pub touched: BTreeSet<Uuid>,
    /// Activities of this batch to queue again once completed: a later activity of the
    /// batch gave one of their unlinked addresses a contact (see [`World::attach`]).
    pub requeue: Vec<Uuid>,
    pub history: History,
}

impl World {
    /// Applies the batch's activities in order (processing order does not change the
    /// outcome; this order is the claim's).
    pub fn apply_all(
        &mut self,
        activities: &[BatchActivity],
        policies: &HashMap<Uuid, ContactPolicy>,
    ) -> Result<Outcome, ProcessingError> {
        let mut outcome = Outcome::default();
        let mut requeue = BTreeSet::new();
        for (n, activity) in activities.iter().enumerate() {
            let policy = policies.get(&activity.account_id).copied().ok_or_else(|| {
                ProcessingError::Invalid(format!("no context for account {}", activity.account_id))
            })?;
            let attached_before = self.attached.len();
            let processed = self.apply(activity, policy, &mut outcome)?;
            outcome
                .processed
                .push((activity.plan.activity_id, processed));
            for link in &self.attached[attached_before..] {
                requeue.extend(
                    activities[..n]
                        .iter()
                        .filter(|earlier| earlier.unlinked.contains(&link.address))
                        .map(|earlier| earlier.plan.activity_id),
                );
            }
        }
        outcome.requeue = requeue.into_iter().collect();
        Ok(outcome)
    }

    /// Finds or creates each participant's contact, merges what the message says about
    /// them, and describes it for `activities.processed`.
    fn apply(
        &mut self,
        activity: &BatchActivity,
        policy: ContactPolicy,
        outcome: &mut Outcome,
    ) -> Result<Value, ProcessingError> {
        let plan = &activity.plan;
        let evidence = Evidence {
            activity_id: plan.activity_id,
            at: plan.occurred_at,
        };
        let mut touched = BTreeSet::new();
        let mut people = Vec::with_capacity(plan.people.len());
        for person in &plan.people {
            let mut record = json!({ "address": person.address });
            let mut contact = self.address_contact.get(&person.address).copied();
            let mut created = false;
            if contact.is_none() {
                match self.may_create(person, policy) {
                    Ok(()) => {
                        let id = self.create(&person.address, plan.activity_id);
                        outcome.history.contact_created(id, plan.activity_id);
                        contact = Some(id);
                        created = true;
                    }
                    Err(reason) => record["skipped"] = json!(reason),
                }
            }
            if let Some(contact) = contact {
                let changed = self.enrich(contact, person, evidence)?;
                self.note_duplicates(contact, person, plan);
                if !created {
                    outcome
                        .history
                        .contact_enriched(contact, plan.activity_id, &changed);
                }
                self.links.push(Link {
                    activity: plan.activity_id,
                    address: person.address.clone(),
                    contact,
                });
                touched.insert(contact);
                record["contact_id"] = json!(contact);
                record["created"] = json!(created);
                record["fields"] = json!(changed);
            }
            people.push(record);
        }
        if let Some(sent) = activity.first_email {
            outcome.history.email_processed(
                plan.activity_id,
                activity.account_id,
                sent,
                plan.people.len(),
                touched.iter().copied().collect(),
            );
        }
        outcome.touched.extend(touched);
        Ok(json!({ "bulk": plan.bulk, "people": people }))
    }

    /// Whether the policy lets this participant become a contact; the reason when not.
    fn may_create(&self, person: &PersonPlan, policy: ContactPolicy) -> Result<(), &'static str> {
        if let Err(reason) = person.creatable {
            return Err(match reason {
                NotAPerson::Automated => "automated",
                NotAPerson::Group => "group",
                NotAPerson::BulkMail => "bulk_mail",
            });
        }
        let allowed = match policy {
            ContactPolicy::Nobody => false,
            ContactPolicy::Everyone => true,
            ContactPolicy::Sent => {
                person.owner_wrote_here || self.wrote_to.contains(&person.address)
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(policy_reason(policy))
        }
    }

    /// A new contact with the address as its identity.
    fn create(&mut self, address: &str, activity: Uuid) -> Uuid {
        let id = Uuid::new_v4();
        let fields = ContactFields {
            display_name: None,
            title: None,
            company_id: None,
            links: json!({}),
            field_sources: json!({}),
        };
        self.created += 1;
        self.contacts.insert(
            id,
            ContactState {
                fields,
                stored: None,
                created: Created::InBatch(self.created),
                live: true,
                phones: Vec::new(),
            },
        );
        self.attach(id, address, activity);
        id
    }

    /// Gives `contact` the email address as an identity. When written, every earlier
    /// participation of the address is linked to it and earlier completed activities
    /// it took part in are processed again, so names and signatures seen before the
    /// address was known still count.
    pub(super) fn attach(&mut self, contact: Uuid, address: &str, activity: Uuid) {
        self.address_contact.insert(address.to_owned(), contact);
        self.identities.push(NewIdentity {
            contact,
            kind: "email",
            value: address.to_owned(),
            source: "header",
        });
        self.attached.push(Link {
            activity,
            address: address.to_owned(),
            contact,
        });
    }

    /// Merges the message's facts into the contact, its company and its phone
    /// identities. Returns the fields that changed.
    fn enrich(
        &mut self,
        contact: Uuid,
        person: &PersonPlan,
        evidence: Evidence,
    ) -> Result<Vec<&'static str>, ProcessingError> {
        let company = person.company_domain.as_ref().map(|domain| {
            self.company_for_domain(
                domain,
                person.signature.as_ref().and_then(|s| s.company.as_deref()),
            )
        });
        let phones = person
            .signature
            .as_ref()
            .map(|s| s.phones.as_slice())
            .unwrap_or_default();
        let added: Vec<String> = phones
            .iter()
            .filter(|p| !self.phones.contains_key(*p))
            .cloned()
            .collect();
        let state = self
            .contacts
            .get_mut(&contact)
            .ok_or_else(|| ProcessingError::Invalid(format!("contact {contact} was not loaded")))?;
        let mut changed = merge_person(&mut state.fields, person, company, evidence);
        let prov = Provenance::from_mail(FieldSource::Signature, evidence.activity_id, evidence.at);
        for phone in &added {
            if let Some(sources) = state.fields.field_sources.as_object_mut() {
                let entry = sources.entry("phones").or_insert_with(|| json!({}));
                if let Some(map) = entry.as_object_mut() {
                    map.insert(phone.clone(), json!(prov));
                }
            }
            state.phones.push(phone.clone());
            self.phones.insert(phone.clone(), contact);
            self.identities.push(NewIdentity {
                contact,
                kind: "phone",
                value: phone.clone(),
                source: "signature",
            });
        }
        if !added.is_empty() {
            changed.push("phones");
        }
        Ok(changed)
    }

    /// The company of a registrable domain, created on first sight with a name from
    /// the domain; a name from a signature replaces a name from the domain (a user's
    /// name is kept).
    fn company_for_domain(&mut self, domain: &CompanyDomain, signature_name: Option<&str>) -> Uuid {
        let (name, source) = match signature_name {
            Some(name) => (Some(name.to_owned()), "signature"),
            None => (domain.company_name(), "domain"),
        };
        let source = name.as_ref().map(|_| source.to_owned());
        match self.companies.get_mut(domain.as_str()) {
            Some(company) => {
                if source.as_deref() == Some("signature")
                    && company.name_source.as_deref() != Some("user")
                    && (company.name != name || company.name_source != source)
                {
                    company.name = name;
                    company.name_source = source;
                    company.renamed = true;
                }
                company.id
            }
            None => {
                let id = Uuid::new_v4();
                self.companies.insert(
                    domain.as_str().to_owned(),
                    CompanyState {
                        id,
                        name,
                        name_source: source,
                        new: true,
                        renamed: false,
                    },
                );
                id
            }
        }
    }
}

fn policy_reason(policy: ContactPolicy) -> &'static str {
    match policy {
        ContactPolicy::Sent => "policy_sent_not_written_to",
        ContactPolicy::Everyone => "policy_everyone",
        ContactPolicy::Nobody => "policy_nobody",
    }
}
