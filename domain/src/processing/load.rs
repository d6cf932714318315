//! Reading a batch: its activities with their participants, then everything applying
//! them can reach (the [`World`]), in a fixed number of set-based queries whatever the
//! batch's size.

use std::collections::{BTreeSet, HashMap, HashSet};

use api::{AddressKind, Direction, ParticipantRole};
use sqlx::PgConnection;
use uuid::Uuid;

use super::ProcessingError;
use super::duplicates::{duplicate_names, mentioned_addresses};
use super::merge::ContactFields;
use super::plan::{ActivityFacts, Owner, ParticipantFacts, plan_activity};
use super::world::{BatchActivity, CompanyState, ContactState, Created, World};
use crate::db::scopes::ProcessingScope;

impl ProcessingScope<'_> {
    /// This user's activities `ids` with their participants, planned with their
    /// accounts' owners, in the order of `ids`. Fails when one is gone.
    pub(super) async fn load_activities(
        self,
        conn: &mut PgConnection,
        ids: &[Uuid],
        owners: &HashMap<Uuid, Owner>,
    ) -> Result<Vec<BatchActivity>, ProcessingError> {
        let rows = sqlx::query!(
            r#"select id, account_id, direction as "direction: Direction", occurred_at, headers,
                      body_text, channel = 'email' and processed_at is null as "first_email!"
               from activities where user_id = $1 and id = any($2)"#,
            self.user.0,
            ids,
        )
        .fetch_all(&mut *conn)
        .await?;
        let participants = sqlx::query!(
            r#"select activity_id, role as "role: ParticipantRole",
                      address_kind as "address_kind: AddressKind", address, display_name,
                      contact_id
               from activity_participants
               where user_id = $1 and activity_id = any($2)
               order by activity_id, role, address"#,
            self.user.0,
            ids,
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut by_activity: HashMap<Uuid, (Vec<ParticipantFacts>, HashSet<String>)> =
            HashMap::new();
        for p in participants {
            let (facts, unlinked) = by_activity.entry(p.activity_id).or_default();
            if p.address_kind == AddressKind::Email && p.contact_id.is_none() {
                unlinked.insert(p.address.clone());
            }
            facts.push(ParticipantFacts {
                role: p.role,
                address_kind: p.address_kind,
                address: p.address,
                display_name: p.display_name,
            });
        }
        let mut rows: HashMap<Uuid, _> = rows.into_iter().map(|r| (r.id, r)).collect();
        ids.iter()
            .map(|id| {
                let row = rows
                    .remove(id)
                    .ok_or_else(|| ProcessingError::Invalid(format!("activity {id} is gone")))?;
                let owner = owners
                    .get(&row.account_id)
                    .ok_or(ProcessingError::AccountNotFound)?;
                let (participants, unlinked) = by_activity.remove(id).unwrap_or_default();
                let facts = ActivityFacts {
                    id: row.id,
                    direction: row.direction,
                    occurred_at: row.occurred_at,
                    headers: row.headers,
                    body_text: row.body_text,
                    participants,
                };
                Ok(BatchActivity {
                    account_id: row.account_id,
                    plan: plan_activity(&facts, owner),
                    first_email: row
                        .first_email
                        .then_some(row.direction == Some(Direction::Outbound)),
                    unlinked,
                })
            })
            .collect()
    }

    /// The accounts of `ids` (this user's activities).
    pub(super) async fn accounts_of(
        self,
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Vec<Uuid>, ProcessingError> {
        Ok(sqlx::query_scalar!(
            "select distinct account_id from activities where user_id = $1 and id = any($2)",
            self.user.0,
            ids,
        )
        .fetch_all(&mut *conn)
        .await?)
    }

    /// Everything applying `activities` can read or change. The contacts are locked
    /// (in id order) until the batch commits, so an edit made meanwhile is never
    /// overwritten with values read before it.
    pub(super) async fn load_world(
        self,
        conn: &mut PgConnection,
        activities: &[BatchActivity],
    ) -> Result<World, ProcessingError> {
        let people = || activities.iter().flat_map(|a| &a.plan.people);
        let addresses: Vec<String> = people()
            .map(|p| p.address.clone())
            .chain(mentioned_addresses(activities))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let known = sqlx::query!(
            r#"select ci.value, coalesce(c.merged_into, c.id) as "contact!"
               from contact_identities ci
               join contacts c on c.user_id = ci.user_id and c.id = ci.contact_id
               where ci.user_id = $1 and ci.kind = 'email' and ci.value = any($2)"#,
            self.user.0,
            &addresses,
        )
        .fetch_all(&mut *conn)
        .await?;
        let address_contact: HashMap<String, Uuid> =
            known.into_iter().map(|r| (r.value, r.contact)).collect();
        let unknown: Vec<&String> = addresses
            .iter()
            .filter(|a| !address_contact.contains_key(*a))
            .collect();
        let unknown: Vec<String> = unknown.into_iter().cloned().collect();
        let wrote_to = sqlx::query_scalar!(
            r#"select distinct p.address from activity_participants p
               join activities a on a.user_id = p.user_id and a.id = p.activity_id
               where p.user_id = $1 and p.address_kind = 'email' and p.address = any($2)
                 and p.role in ('to', 'cc', 'bcc', 'attendee') and a.direction = 'outbound'
                 and a.deleted_at is null"#,
            self.user.0,
            &unknown,
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        // Contacts a sender may prove to be (see `World::note_duplicates`): those with
        // their name now. Any other contact whose name the batch changes is loaded by
        // its address.
        let names = duplicate_names(activities);
        let namesakes = if names.is_empty() {
            Vec::new()
        } else {
            sqlx::query_scalar!(
                r#"select id from contacts
                   where user_id = $1 and merged_into is null
                     and lower(display_name) = any(select lower(n) from unnest($2::text[]) n)"#,
                self.user.0,
                &names,
            )
            .fetch_all(&mut *conn)
            .await?
        };
        let ids: Vec<Uuid> = address_contact
            .values()
            .copied()
            .chain(namesakes)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let rows = sqlx::query!(
            r#"select id, display_name, title, company_id, links, field_sources, created_at,
                      merged_into is null as "live!"
               from contacts where user_id = $1 and id = any($2)
               order by id for update"#,
            self.user.0,
            &ids,
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut contacts: std::collections::BTreeMap<Uuid, ContactState> = rows
            .into_iter()
            .map(|r| {
                let fields = ContactFields {
                    display_name: r.display_name,
                    title: r.title,
                    company_id: r.company_id,
                    links: r.links,
                    field_sources: r.field_sources,
                };
                let state = ContactState {
                    stored: Some(fields.clone()),
                    fields,
                    created: Created::Stored(r.created_at),
                    live: r.live,
                    phones: Vec::new(),
                };
                (r.id, state)
            })
            .collect();
        let signature_phones: Vec<String> = people()
            .filter_map(|p| p.signature.as_ref())
            .flat_map(|s| s.phones.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let phones = sqlx::query!(
            r#"select value, contact_id from contact_identities
               where user_id = $1 and kind = 'phone'
                 and (value = any($2) or contact_id = any($3))"#,
            self.user.0,
            &signature_phones,
            &ids,
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut phone_owners = HashMap::with_capacity(phones.len());
        for row in phones {
            if let Some(contact) = contacts.get_mut(&row.contact_id) {
                contact.phones.push(row.value.clone());
            }
            phone_owners.insert(row.value, row.contact_id);
        }
        let domains: Vec<String> = people()
            .filter_map(|p| p.company_domain.as_ref().map(|d| d.as_str().to_owned()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let companies = sqlx::query!(
            r#"select id, domain, name, name_source from companies
               where user_id = $1 and domain = any($2)"#,
            self.user.0,
            &domains,
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| {
            let state = CompanyState {
                id: r.id,
                name: r.name,
                name_source: r.name_source,
                new: false,
                renamed: false,
            };
            (r.domain, state)
        })
        .collect();
        Ok(World {
            address_contact,
            wrote_to,
            contacts,
            phones: phone_owners,
            companies,
            ..World::default()
        })
    }
}
