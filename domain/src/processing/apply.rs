//! The writes of processing one activity, all in the caller's transaction: find or
//! create each participant's contact, merge what the message says about them, set the
//! participants' `contact_id`, and describe it all for `activities.processed`.

use std::collections::BTreeSet;

use api::{AddressKind, Direction, ParticipantRole};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::merge::{ContactFields, Evidence, merge_person};
use super::plan::{ActivityFacts, ActivityPlan, Owner, ParticipantFacts, PersonPlan};
use super::queue::notify_claimable;
use super::{ContactPolicy, FieldSource, ProcessingError, Provenance};
use crate::db::scopes::ProcessingScope;

/// The effects of one activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// For `activities.processed`.
    pub processed: Value,
    /// Contacts created, linked or changed: their stats need a refresh.
    pub touched: BTreeSet<Uuid>,
}

/// What an account's processing needs to know once per batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountContext {
    pub owner: Owner,
    pub policy: ContactPolicy,
}

impl ProcessingScope<'_> {
    /// The owner's addresses (user email, account address, send-as aliases recorded in
    /// `sync_state.aliases`) and the account's contact policy.
    pub async fn processing_context(
        self,
        account: Uuid,
    ) -> Result<AccountContext, ProcessingError> {
        let row = sqlx::query!(
            r#"select u.email, a.external_id, a.contact_policy,
                      coalesce(array(select jsonb_array_elements_text(
                        case when jsonb_typeof(a.sync_state -> 'aliases') = 'array'
                             then a.sync_state -> 'aliases' else '[]'::jsonb end)), '{}')
                        as "aliases!"
               from accounts a join users u on u.id = a.user_id
               where a.user_id = $1 and a.id = $2"#,
            self.user.0,
            account,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(ProcessingError::AccountNotFound)?;
        let policy = ContactPolicy::parse(&row.contact_policy)
            .map_err(|e| ProcessingError::Invalid(e.to_string()))?;
        Ok(AccountContext {
            owner: Owner::new([row.email, row.external_id].into_iter().chain(row.aliases)),
            policy,
        })
    }

    /// One of this user's activities with its participants.
    pub async fn activity_facts(self, id: Uuid) -> Result<ActivityFacts, ProcessingError> {
        let row = sqlx::query!(
            r#"select id, direction as "direction: Direction", occurred_at, headers, body_text
               from activities where user_id = $1 and id = $2"#,
            self.user.0,
            id,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or_else(|| ProcessingError::Invalid(format!("activity {id} is gone")))?;
        let participants = sqlx::query_as!(
            ParticipantFacts,
            r#"select role as "role: ParticipantRole", address_kind as "address_kind: AddressKind",
                      address, display_name
               from activity_participants
               where user_id = $1 and activity_id = $2
               order by role, address"#,
            self.user.0,
            id,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(ActivityFacts {
            id: row.id,
            direction: row.direction,
            occurred_at: row.occurred_at,
            headers: row.headers,
            body_text: row.body_text,
            participants,
        })
    }

    /// Writes `plan` in `tx`. Addresses are locked (transaction advisory locks, in
    /// address order) so two workers never create the same contact twice.
    pub async fn apply_plan(
        self,
        tx: &mut PgConnection,
        plan: &ActivityPlan,
        policy: ContactPolicy,
    ) -> Result<Applied, ProcessingError> {
        let addresses: Vec<String> = plan.people.iter().map(|p| p.address.clone()).collect();
        sqlx::query!(
            r#"select count(*) as "locked!" from (
                 select pg_advisory_xact_lock(hashtextextended($1::text || ':' || a, 0))
                 from unnest($2::text[]) with ordinality as t(a, n)
                 order by n) locks"#,
            self.user.0.to_string(),
            &addresses,
        )
        .fetch_one(&mut *tx)
        .await?;
        let evidence = Evidence {
            activity_id: plan.activity_id,
            at: plan.occurred_at,
        };
        let mut touched = BTreeSet::new();
        let mut people = Vec::with_capacity(plan.people.len());
        for person in &plan.people {
            let mut record = json!({ "address": person.address });
            let mut contact = self.contact_for_address(tx, &person.address).await?;
            let mut created = false;
            if contact.is_none() {
                match self.may_create(tx, person, policy).await? {
                    Ok(()) => match self.same_person_elsewhere(tx, person).await? {
                        Some(existing) => {
                            self.attach_address(tx, existing, &person.address, plan.activity_id)
                                .await?;
                            record["linked_by_signature"] = json!(true);
                            contact = Some(existing);
                        }
                        None => {
                            contact =
                                Some(self.create_from_mail(tx, person, plan.activity_id).await?);
                            created = true;
                        }
                    },
                    Err(reason) => record["skipped"] = json!(reason),
                }
            }
            if let Some(contact) = contact {
                let changed = self.enrich(tx, contact, person, evidence).await?;
                if !created {
                    self.record_contact_enriched(tx, contact, plan.activity_id, &changed)
                        .await?;
                }
                sqlx::query!(
                    r#"update activity_participants set contact_id = $4
                       where user_id = $1 and activity_id = $2 and address_kind = 'email'
                         and address = $3"#,
                    self.user.0,
                    plan.activity_id,
                    person.address,
                    contact,
                )
                .execute(&mut *tx)
                .await?;
                touched.insert(contact);
                record["contact_id"] = json!(contact);
                record["created"] = json!(created);
                record["fields"] = json!(changed);
            }
            people.push(record);
        }
        self.record_email_processed(tx, plan, touched.iter().copied())
            .await?;
        Ok(Applied {
            processed: json!({ "bulk": plan.bulk, "people": people }),
            touched,
        })
    }

    /// The live contact holding this email identity (following a merge).
    async fn contact_for_address(
        self,
        tx: &mut PgConnection,
        address: &str,
    ) -> Result<Option<Uuid>, ProcessingError> {
        Ok(sqlx::query_scalar!(
            r#"select coalesce(c.merged_into, c.id) as "id!"
               from contact_identities ci
               join contacts c on c.user_id = ci.user_id and c.id = ci.contact_id
               where ci.user_id = $1 and ci.kind = 'email' and ci.value = $2"#,
            self.user.0,
            address,
        )
        .fetch_optional(&mut *tx)
        .await?)
    }

    /// Whether the policy lets this participant become a contact; the reason when not.
    async fn may_create(
        self,
        tx: &mut PgConnection,
        person: &PersonPlan,
        policy: ContactPolicy,
    ) -> Result<Result<(), &'static str>, ProcessingError> {
        if let Err(reason) = person.creatable {
            return Ok(Err(match reason {
                super::plan::NotAPerson::Automated => "automated",
                super::plan::NotAPerson::Group => "group",
                super::plan::NotAPerson::BulkMail => "bulk_mail",
            }));
        }
        let allowed = match policy {
            ContactPolicy::Nobody => false,
            ContactPolicy::Everyone => true,
            ContactPolicy::Sent => {
                person.owner_wrote_here || self.owner_wrote_to(tx, &person.address).await?
            }
        };
        Ok(if allowed {
            Ok(())
        } else {
            Err(policy_reason(policy))
        })
    }

    /// Whether any stored outbound mail of this user has the address as a recipient (or
    /// a meeting the user organized invites it), whatever has been processed so far.
    async fn owner_wrote_to(
        self,
        tx: &mut PgConnection,
        address: &str,
    ) -> Result<bool, ProcessingError> {
        Ok(sqlx::query_scalar!(
            r#"select exists (
                 select 1 from activity_participants p
                 join activities a on a.user_id = p.user_id and a.id = p.activity_id
                 where p.user_id = $1 and p.address_kind = 'email' and p.address = $2
                   and p.role in ('to', 'cc', 'bcc', 'attendee') and a.direction = 'outbound'
                   and a.deleted_at is null) as "exists!""#,
            self.user.0,
            address,
        )
        .fetch_one(&mut *tx)
        .await?)
    }

    /// The live contact this new address belongs to, when the message proves it: the
    /// sender's header name is the contact's name *and* their signature carries a phone
    /// number or LinkedIn profile the contact already has (a person writing from a
    /// second address keeps their signature). A name alone is not enough: two people
    /// can share one; that stays a duplicate suggestion for the user to decide.
    async fn same_person_elsewhere(
        self,
        tx: &mut PgConnection,
        person: &PersonPlan,
    ) -> Result<Option<Uuid>, ProcessingError> {
        let (Some(name), Some(signature)) = (&person.name, &person.signature) else {
            return Ok(None);
        };
        if signature.phones.is_empty() && signature.linkedin.is_none() {
            return Ok(None);
        }
        Ok(sqlx::query_scalar!(
            r#"select c.id from contacts c
               where c.user_id = $1 and c.merged_into is null
                 and lower(c.display_name) = lower($2)
                 and (exists (select 1 from contact_identities ci
                              where ci.user_id = c.user_id and ci.contact_id = c.id
                                and ci.kind = 'phone' and ci.value = any($3))
                      or lower(c.links ->> 'linkedin') = lower($4))
               order by c.created_at, c.id
               limit 1"#,
            self.user.0,
            name.as_str(),
            &signature.phones,
            signature.linkedin.as_deref(),
        )
        .fetch_optional(&mut *tx)
        .await?)
    }

    /// A new contact with the address as its identity (see [`Self::attach_address`]).
    async fn create_from_mail(
        self,
        tx: &mut PgConnection,
        person: &PersonPlan,
        activity: Uuid,
    ) -> Result<Uuid, ProcessingError> {
        let id = sqlx::query_scalar!(
            r#"insert into contacts (user_id) values ($1) returning id"#,
            self.user.0,
        )
        .fetch_one(&mut *tx)
        .await?;
        self.attach_address(tx, id, &person.address, activity)
            .await?;
        self.record_contact_from_mail(tx, id, activity).await?;
        Ok(id)
    }

    /// Gives `contact` the email address as an identity. Every earlier participation of
    /// the address is linked to it, and earlier completed activities it took part in
    /// are processed again, so names and signatures seen before the address was known
    /// still count (processing order does not matter).
    async fn attach_address(
        self,
        tx: &mut PgConnection,
        id: Uuid,
        address: &str,
        activity: Uuid,
    ) -> Result<(), ProcessingError> {
        sqlx::query!(
            r#"insert into contact_identities (user_id, contact_id, kind, value, source)
               values ($1, $2, 'email', $3, 'header')"#,
            self.user.0,
            id,
            address,
        )
        .execute(&mut *tx)
        .await?;
        let requeued = sqlx::query_scalar!(
            r#"with earlier as (
                 update activities a
                 set state = 'raw', attempts = 0, next_attempt_at = now(), last_error = null
                 where a.user_id = $1 and a.state = 'completed' and a.id <> $3
                   and exists (select 1 from activity_participants p
                               where p.user_id = $1 and p.activity_id = a.id
                                 and p.address_kind = 'email' and p.address = $2
                                 and p.contact_id is null)
                 returning 1),
               linked as (
                 update activity_participants set contact_id = $4
                 where user_id = $1 and address_kind = 'email' and address = $2
                   and contact_id is null
                 returning 1)
               select (select count(*) from earlier) as "requeued!""#,
            self.user.0,
            address,
            activity,
            id,
        )
        .fetch_one(&mut *tx)
        .await?;
        if requeued > 0 {
            notify_claimable(&mut *tx).await?;
        }
        Ok(())
    }

    /// Merges the message's facts into the contact (locked for the update), its
    /// company and its phone identities. Returns the fields that changed.
    async fn enrich(
        self,
        tx: &mut PgConnection,
        contact: Uuid,
        person: &PersonPlan,
        evidence: Evidence,
    ) -> Result<Vec<&'static str>, ProcessingError> {
        let row = sqlx::query!(
            r#"select display_name, title, company_id, links, field_sources
               from contacts where user_id = $1 and id = $2 for update"#,
            self.user.0,
            contact,
        )
        .fetch_one(&mut *tx)
        .await?;
        let mut fields = ContactFields {
            display_name: row.display_name,
            title: row.title,
            company_id: row.company_id,
            links: row.links,
            field_sources: row.field_sources,
        };
        let company = match &person.company_domain {
            Some(domain) => Some(
                self.company_for_domain(
                    tx,
                    domain,
                    person.signature.as_ref().and_then(|s| s.company.as_deref()),
                )
                .await?,
            ),
            None => None,
        };
        let before = fields.clone();
        let mut changed = merge_person(&mut fields, person, company, evidence);
        let phones = person
            .signature
            .as_ref()
            .map(|s| s.phones.as_slice())
            .unwrap_or_default();
        if !phones.is_empty() {
            let added = sqlx::query_scalar!(
                r#"insert into contact_identities (user_id, contact_id, kind, value, source)
                   select $1, $2, 'phone', p, 'signature' from unnest($3::text[]) p
                   on conflict (user_id, kind, value) do nothing
                   returning value"#,
                self.user.0,
                contact,
                phones,
            )
            .fetch_all(&mut *tx)
            .await?;
            let prov =
                Provenance::from_mail(FieldSource::Signature, evidence.activity_id, evidence.at);
            for phone in &added {
                if let Some(sources) = fields.field_sources.as_object_mut() {
                    let entry = sources.entry("phones").or_insert_with(|| json!({}));
                    if let Some(map) = entry.as_object_mut() {
                        map.insert(phone.clone(), json!(prov));
                    }
                }
            }
            if !added.is_empty() {
                changed.push("phones");
            }
        }
        if fields != before {
            sqlx::query!(
                r#"update contacts set display_name = $3, title = $4, company_id = $5,
                          links = $6, field_sources = $7
                   where user_id = $1 and id = $2"#,
                self.user.0,
                contact,
                fields.display_name,
                fields.title,
                fields.company_id,
                fields.links,
                fields.field_sources,
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(changed)
    }

    /// The company of a registrable domain, created on first sight with a name from
    /// the domain; a name from a signature replaces a name from the domain (a user's
    /// name is kept).
    async fn company_for_domain(
        self,
        tx: &mut PgConnection,
        domain: &crate::extract::domains::CompanyDomain,
        signature_name: Option<&str>,
    ) -> Result<Uuid, ProcessingError> {
        let (name, source) = match signature_name {
            Some(name) => (Some(name.to_owned()), "signature"),
            None => (domain.company_name(), "domain"),
        };
        Ok(sqlx::query_scalar!(
            r#"insert into companies (user_id, domain, name, name_source)
               values ($1, $2, $3, case when $3::text is null then null else $4 end)
               on conflict (user_id, domain) do update
                 set name = case when excluded.name_source = 'signature'
                                  and companies.name_source is distinct from 'user'
                                 then excluded.name else companies.name end,
                     name_source = case when excluded.name_source = 'signature'
                                         and companies.name_source is distinct from 'user'
                                        then 'signature' else companies.name_source end
               returning id"#,
            self.user.0,
            domain.as_str(),
            name,
            source,
        )
        .fetch_one(&mut *tx)
        .await?)
    }
}

fn policy_reason(policy: ContactPolicy) -> &'static str {
    match policy {
        ContactPolicy::Sent => "policy_sent_not_written_to",
        ContactPolicy::Everyone => "policy_everyone",
        ContactPolicy::Nobody => "policy_nobody",
    }
}
