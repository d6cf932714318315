//! Automatic duplicate merges: one person writing from two addresses becomes one
//! contact when the mail proves it, and each such merge is recorded with its rule and
//! explanation so the user can undo it from the contact page (undoing it remembers the
//! pair as two people). The rules:
//!
//! - [`MergeRule::NameAndPhone`]: a message's sender has the full name of another
//!   contact and a signature phone (or LinkedIn profile) that contact already has.
//! - [`MergeRule::ThreadAddresses`]: one full name on a personal (free-mail) and a work
//!   address among one thread's participants.
//! - [`MergeRule::NewAddress`]: the sender wrote that their address changed, naming the
//!   other address, or (naming none) the one other contact with their full name.
//! - [`MergeRule::NameAndColleagues`]: a personal address under one work contact's full
//!   name writes with that contact's colleagues ([`super::colleagues`]).
//!
//! Anything weaker stays a suggestion on the contact page. A pair the user called two
//! people is never merged. Evidence is noted in memory while the batch is applied
//! ([`World::note_duplicates`]); thread evidence is read in one query after the batch
//! is written, then the merges run in the batch's transaction
//! ([`ProcessingScope::merge_duplicates`]). Both contacts' earlier mail is processed
//! again so the newest signature speaks for the merged contact.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use api::contacts::MergeRule;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::ProcessingError;
use super::plan::{ActivityPlan, PersonPlan};
use super::queue::notify_claimable;
use super::world::{BatchActivity, World};
use crate::contacts::merge::{MergeInto, merge_locked};
use crate::db::scopes::ProcessingScope;
use crate::extract::domains::is_free_mail;
use crate::extract::names::clean_display_name;

/// Two contacts the mail says are one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SamePerson {
    pub a: Uuid,
    pub b: Uuid,
    pub rule: MergeRule,
    /// The explanation the merge log shows.
    pub reason: String,
}

/// Names compared case- and space-insensitively; only full names (two words or more)
/// identify anyone.
pub(super) fn full_name_key(name: &str) -> Option<String> {
    let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
    (words.len() >= 2).then(|| words.join(" "))
}

/// The fullest name a message gives its sender: the signature's, else the header's.
fn message_name(person: &PersonPlan) -> Option<&str> {
    person
        .signature
        .as_ref()
        .and_then(|s| s.name.as_deref())
        .filter(|n| full_name_key(n).is_some())
        .or_else(|| person.written_name().map(|n| n.as_str()))
        .filter(|n| full_name_key(n).is_some())
}

/// The names of the batch's senders whose mail may prove them to be another contact
/// (a signature phone or LinkedIn profile, or a new-address notice): the contacts with
/// those names are loaded with the batch.
pub(super) fn duplicate_names(activities: &[BatchActivity]) -> Vec<String> {
    let mut names = BTreeSet::new();
    for activity in activities {
        for person in &activity.plan.people {
            let proves = person
                .signature
                .as_ref()
                .is_some_and(|s| !s.phones.is_empty() || s.linkedin.is_some())
                || activity
                    .plan
                    .new_address
                    .as_ref()
                    .is_some_and(|n| n.sender == person.address);
            if let Some(name) = message_name(person).filter(|_| proves) {
                names.insert(name.to_owned());
            }
            // A contact's header name may be the one it was stored under.
            if let Some(name) = person.written_name().filter(|_| proves) {
                names.insert(name.as_str().to_owned());
            }
        }
    }
    names.into_iter().collect()
}

/// Addresses the batch's new-address notices name: their contacts are loaded.
pub(super) fn mentioned_addresses(
    activities: &[BatchActivity],
) -> impl Iterator<Item = String> + '_ {
    activities
        .iter()
        .filter_map(|a| a.plan.new_address.as_ref()?.mentioned.clone())
}

impl World {
    /// Notes what `person`'s part in `plan` proves about `contact` (theirs, just
    /// enriched): another live contact with their full name and one of their signature
    /// phones or their LinkedIn profile, or the other side of a new-address notice.
    /// A mentioned new address nobody has yet becomes the contact's own.
    pub(super) fn note_duplicates(
        &mut self,
        contact: Uuid,
        person: &PersonPlan,
        plan: &ActivityPlan,
    ) {
        let Some(name) = message_name(person) else {
            return;
        };
        // The names the message gives its sender; the other contact must carry one.
        let keys: Vec<String> = [Some(name), person.written_name().map(|n| n.as_str())]
            .into_iter()
            .flatten()
            .filter_map(full_name_key)
            .collect();
        if person
            .written_name()
            .and_then(|n| full_name_key(n.as_str()))
            .is_some()
            && is_free_mail(&person.address)
        {
            self.free_mail_named.insert(plan.activity_id);
        }
        let named = |world: &World, other: Uuid| {
            other != contact
                && world.contacts.get(&other).is_some_and(|c| {
                    c.live
                        && c.fields
                            .display_name
                            .as_deref()
                            .and_then(full_name_key)
                            .is_some_and(|k| keys.contains(&k))
                })
        };
        if let Some(sig) = &person.signature {
            for phone in &sig.phones {
                if let Some(&other) = self.phones.get(phone)
                    && named(self, other)
                {
                    self.evidence.push(SamePerson {
                        a: other,
                        b: contact,
                        rule: MergeRule::NameAndPhone,
                        reason: format!(
                            "Same name ({name}) and the same signature phone ({phone}) at {}",
                            person.address
                        ),
                    });
                }
            }
            if let Some(linkedin) = sig.linkedin.as_deref().map(str::to_lowercase) {
                let others: Vec<Uuid> = self
                    .contacts
                    .iter()
                    .filter(|(_, c)| {
                        c.fields
                            .links
                            .get("linkedin")
                            .and_then(Value::as_str)
                            .is_some_and(|l| l.to_lowercase() == linkedin)
                    })
                    .map(|(id, _)| *id)
                    .filter(|id| named(self, *id))
                    .collect();
                for other in others {
                    self.evidence.push(SamePerson {
                        a: other,
                        b: contact,
                        rule: MergeRule::NameAndPhone,
                        reason: format!(
                            "Same name ({name}) and the same LinkedIn profile ({linkedin}) at {}",
                            person.address
                        ),
                    });
                }
            }
        }
        let Some(notice) = plan
            .new_address
            .as_ref()
            .filter(|n| n.sender == person.address)
        else {
            return;
        };
        match &notice.mentioned {
            Some(mentioned) => match self.address_contact.get(mentioned).copied() {
                Some(other) if other != contact => self.evidence.push(SamePerson {
                    a: other,
                    b: contact,
                    rule: MergeRule::NewAddress,
                    reason: format!(
                        "{name} wrote from {} that their email address changed ({mentioned})",
                        person.address
                    ),
                }),
                Some(_) => {}
                None => self.attach(contact, mentioned, plan.activity_id),
            },
            None => {
                let namesakes: Vec<Uuid> = self
                    .contacts
                    .keys()
                    .copied()
                    .filter(|id| named(self, *id))
                    .collect();
                // Only when the name points at exactly one other contact.
                if let [other] = namesakes.as_slice() {
                    self.evidence.push(SamePerson {
                        a: *other,
                        b: contact,
                        rule: MergeRule::NewAddress,
                        reason: format!(
                            "{name} wrote from {} that this is their new email address",
                            person.address
                        ),
                    });
                }
            }
        }
    }
}

/// One participation in a thread, as [`thread_evidence`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ThreadParticipant {
    pub thread: String,
    pub activity: Uuid,
    /// The live contact.
    pub contact: Uuid,
    pub address: String,
    pub display_name: Option<String>,
}

/// Pairs of contacts whose addresses carry one full name in one thread *as the same
/// person*: one address personal (free-mail), the other not, and never both on one
/// message (the conversation passed from one address to the other), and no other work
/// address with the name in the thread. Two namesakes in one thread are both on its
/// reply-all messages, so they never qualify.
pub(super) fn thread_evidence(participants: &[ThreadParticipant]) -> Vec<SamePerson> {
    type Seen = (Uuid, String, BTreeSet<Uuid>);
    let mut by_name: BTreeMap<(&str, String), BTreeMap<&str, Seen>> = BTreeMap::new();
    for p in participants {
        let Some(name) = p.display_name.as_deref().and_then(clean_display_name) else {
            continue;
        };
        let Some(key) = full_name_key(name.as_str()) else {
            continue;
        };
        by_name
            .entry((p.thread.as_str(), key))
            .or_default()
            .entry(p.address.as_str())
            .or_insert_with(|| (p.contact, name.as_str().to_owned(), BTreeSet::new()))
            .2
            .insert(p.activity);
    }
    let mut out = Vec::new();
    for addresses in by_name.values() {
        let (personal, work): (Vec<_>, Vec<_>) = addresses
            .iter()
            .partition(|(address, _)| is_free_mail(address));
        for (home, (a, name, home_messages)) in &personal {
            // The one work address it took the place of; two make it ambiguous.
            let replaced: Vec<_> = work
                .iter()
                .filter(|(_, (_, _, office_messages))| home_messages.is_disjoint(office_messages))
                .collect();
            if let [(office, (b, _, _))] = replaced.as_slice()
                && a != b
            {
                out.push(SamePerson {
                        a: *a,
                        b: *b,
                        rule: MergeRule::ThreadAddresses,
                        reason: format!(
                            "{name} took part in one thread from {office}, then from {home} in its place"
                    ),
                });
            }
        }
    }
    out
}

/// What the merges changed, for the batch's result.
#[derive(Debug, Default)]
pub(super) struct Merged {
    /// The contacts kept: their stats need a refresh.
    pub winners: BTreeSet<Uuid>,
    /// The batch's activities to process again once completed.
    pub requeue: Vec<Uuid>,
}

/// A contact as the merges see it.
struct Candidate {
    live: bool,
    /// Which contact stays: the older, then the one whose mail starts earlier
    /// (contacts made in one batch are equally old), then the smaller id.
    seniority: (DateTime<Utc>, Option<DateTime<Utc>>, Uuid),
}

/// The contact that stays when two merge: see [`Candidate::seniority`]. A contact with
/// no mail yet comes after one with mail.
fn keeps_first(
    a: (DateTime<Utc>, Option<DateTime<Utc>>, Uuid),
    b: (DateTime<Utc>, Option<DateTime<Utc>>, Uuid),
) -> bool {
    let key = |(created, first, id): (DateTime<Utc>, Option<DateTime<Utc>>, Uuid)| {
        (created, first.is_none(), first, id)
    };
    key(a) <= key(b)
}

impl ProcessingScope<'_> {
    /// Merges the pairs the batch proved to be one person (see the module docs), in
    /// the batch's transaction, after [`Self::flush`]: the older contact stays, between
    /// equally old ones the one with the earliest mail, then the smaller id. Pairs
    /// the user called two people, and contacts merged meanwhile, are left alone.
    pub(super) async fn merge_duplicates(
        self,
        conn: &mut PgConnection,
        world: &World,
        batch: &[Uuid],
    ) -> Result<Merged, ProcessingError> {
        let mut evidence = world.evidence.clone();
        evidence.extend(thread_evidence(
            &self.thread_participants(conn, world, batch).await?,
        ));
        evidence.extend(self.colleague_evidence(conn, world).await?);
        if evidence.is_empty() {
            return Ok(Merged::default());
        }
        let ids: Vec<Uuid> = evidence
            .iter()
            .flat_map(|e| [e.a, e.b])
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut contacts: HashMap<Uuid, Candidate> = sqlx::query!(
            r#"select c.id, c.merged_into is null as "live!", c.created_at,
                      (select min(p.occurred_at) from activity_participants p
                       join activities a on a.user_id = p.user_id and a.id = p.activity_id
                       where p.user_id = c.user_id and p.contact_id = c.id
                         and a.deleted_at is null) as first_interaction
               from contacts c
               where c.user_id = $1 and c.id = any($2) order by c.id for update of c"#,
            self.user.0,
            &ids,
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.id,
                Candidate {
                    live: r.live,
                    seniority: (r.created_at, r.first_interaction, r.id),
                },
            )
        })
        .collect();
        let distinct: BTreeSet<(Uuid, Uuid)> = sqlx::query!(
            r#"select contact_a, contact_b from contact_distinct_pairs
               where user_id = $1 and contact_a = any($2) and contact_b = any($2)"#,
            self.user.0,
            &ids,
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.contact_a, r.contact_b))
        .collect();
        // A contact merged earlier in this loop stands for its winner.
        let mut merged_into: HashMap<Uuid, Uuid> = HashMap::new();
        let resolve = |merged_into: &HashMap<Uuid, Uuid>, mut id: Uuid| {
            while let Some(next) = merged_into.get(&id) {
                id = *next;
            }
            id
        };
        let mut out = Merged::default();
        let mut losers = Vec::new();
        for e in &evidence {
            let (a, b) = (resolve(&merged_into, e.a), resolve(&merged_into, e.b));
            if a == b || distinct.contains(&(a.min(b), a.max(b))) {
                continue;
            }
            let (Some(ca), Some(cb)) = (contacts.get(&a), contacts.get(&b)) else {
                continue;
            };
            if !(ca.live && cb.live) {
                continue;
            }
            let (winner, loser) = if keeps_first(ca.seniority, cb.seniority) {
                (a, b)
            } else {
                (b, a)
            };
            merge_locked(
                conn,
                self.user,
                MergeInto {
                    winner,
                    loser,
                    reason: Some(&e.reason),
                    rule: Some(e.rule),
                },
            )
            .await?;
            if let Some(c) = contacts.get_mut(&loser) {
                c.live = false;
            }
            merged_into.insert(loser, winner);
            out.winners.insert(winner);
            losers.push(loser);
        }
        if losers.is_empty() {
            return Ok(out);
        }
        out.requeue = self.reprocess_merged(conn, &losers, batch).await?;
        Ok(out)
    }

    /// Participants (linked to contacts, with a header name) of the threads of the
    /// batch's activities that have a named free-mail participant: the only threads
    /// [`thread_evidence`] can find anything in.
    async fn thread_participants(
        self,
        conn: &mut PgConnection,
        world: &World,
        batch: &[Uuid],
    ) -> Result<Vec<ThreadParticipant>, ProcessingError> {
        let candidates: Vec<Uuid> = batch
            .iter()
            .copied()
            .filter(|id| world.free_mail_named.contains(id))
            .collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        // Threads -> their messages -> participants -> contact, whatever the estimates:
        // during an import the participants and contacts grow faster than their
        // statistics, and Postgres, taking them for a handful, read all the user's
        // participations and crossed them with the threads (a fifth of a second per
        // batch at 20,000 messages, half the processing time). `offset 0` keeps each
        // lateral step a lookup by the step before, and the linked test stays outside
        // the participants' step: stale statistics say no participant is linked yet,
        // which made the contact index look like the cheaper way in.
        Ok(sqlx::query!(
            r#"select t.thread_key as "thread!", a.id as activity,
                      (select coalesce(c.merged_into, c.id) from contacts c
                       where c.user_id = $1 and c.id = p.contact_id) as "contact!",
                      p.address, p.display_name
               from (select distinct thread_key from activities
                     where user_id = $1 and id = any($2) and thread_key is not null) t
               cross join lateral (
                 select a.id from activities a
                 where a.user_id = $1 and a.thread_key = t.thread_key and a.deleted_at is null
                 offset 0) a
               cross join lateral (
                 select p.contact_id, p.address, p.display_name from activity_participants p
                 where p.user_id = $1 and p.activity_id = a.id and p.address_kind = 'email'
                   and p.display_name is not null
                 offset 0) p
               where p.contact_id is not null"#,
            self.user.0,
            &candidates,
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| ThreadParticipant {
            thread: r.thread,
            activity: r.activity,
            contact: r.contact,
            address: r.address,
            display_name: r.display_name,
        })
        .collect())
    }

    /// Queues the merged-away contacts' completed mail again, so what their messages
    /// say is weighed against the kept contact's (the newest signature wins); returns
    /// the batch's own such activities, which are queued once they complete.
    async fn reprocess_merged(
        self,
        conn: &mut PgConnection,
        losers: &[Uuid],
        batch: &[Uuid],
    ) -> Result<Vec<Uuid>, ProcessingError> {
        let rows = sqlx::query!(
            r#"with theirs as (
                 select distinct p.activity_id from activity_participants p
                 join contact_identities ci on ci.user_id = p.user_id and ci.kind = 'email'
                   and ci.value = p.address
                 join contact_merges m on m.user_id = p.user_id and m.loser_id = any($2)
                   and m.unmerged_at is null
                   and m.snapshot -> 'identities' ? ci.id::text
                 where p.user_id = $1 and p.address_kind = 'email'),
               requeued as (
                 update activities a
                 set state = 'raw', attempts = 0, next_attempt_at = now(), last_error = null
                 from theirs
                 where a.user_id = $1 and a.id = theirs.activity_id and a.state = 'completed'
                   and a.id <> all($3)
                 returning a.id)
               select activity_id as "id!", activity_id = any($3) as "in_batch!"
               from theirs
               union all
               select id, false from requeued"#,
            self.user.0,
            losers,
            batch,
        )
        .fetch_all(&mut *conn)
        .await?;
        if rows.iter().any(|r| !r.in_batch) {
            notify_claimable(&mut *conn).await?;
        }
        Ok(rows
            .into_iter()
            .filter(|r| r.in_batch)
            .map(|r| r.id)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_older_contact_stays_then_the_earlier_mail_then_the_smaller_id() {
        let day = |d: u32| Utc.with_ymd_and_hms(2025, 3, d, 0, 0, 0).unwrap();
        let (small, large) = (Uuid::from_u128(1), Uuid::from_u128(2));
        // Older wins whatever its mail.
        assert!(keeps_first(
            (day(1), Some(day(9)), large),
            (day(2), Some(day(3)), small)
        ));
        // Equally old (one batch): the earlier first interaction, whatever the ids.
        assert!(keeps_first(
            (day(1), Some(day(3)), large),
            (day(1), Some(day(4)), small)
        ));
        assert!(!keeps_first(
            (day(1), Some(day(4)), small),
            (day(1), Some(day(3)), large)
        ));
        // Mail beats none.
        assert!(keeps_first(
            (day(1), Some(day(9)), large),
            (day(1), None, small)
        ));
        // Then the id, so the outcome never depends on the order the pair came in.
        assert!(keeps_first(
            (day(1), Some(day(3)), small),
            (day(1), Some(day(3)), large)
        ));
        assert!(!keeps_first(
            (day(1), Some(day(3)), large),
            (day(1), Some(day(3)), small)
        ));
    }

    fn participant(
        thread: &str,
        activity: u128,
        contact: u128,
        address: &str,
        name: &str,
    ) -> ThreadParticipant {
        ThreadParticipant {
            thread: thread.to_owned(),
            activity: Uuid::from_u128(activity),
            contact: Uuid::from_u128(contact),
            address: address.to_owned(),
            display_name: Some(name.to_owned()),
        }
    }

    #[test]
    fn a_work_address_replaced_by_a_personal_one_in_a_thread_is_one_person() {
        let found = thread_evidence(&[
            participant("t1", 10, 1, "jane@acme.com", "Jane Roe"),
            participant("t1", 10, 3, "bob@acme.com", "Bob Stone"),
            participant("t1", 11, 2, "jane.roe@gmail.com", "\"Roe, Jane\""),
            participant("t1", 11, 3, "bob@acme.com", "Bob Stone"),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].a, found[0].b),
            (Uuid::from_u128(2), Uuid::from_u128(1))
        );
        assert_eq!(found[0].rule, MergeRule::ThreadAddresses);
    }

    #[test]
    fn namesakes_on_one_message_two_work_addresses_two_threads_or_a_first_name_prove_nothing() {
        assert!(
            thread_evidence(&[
                participant("t1", 10, 1, "jane@acme.com", "Jane Roe"),
                participant("t1", 10, 2, "jane.roe@gmail.com", "Jane Roe"),
            ])
            .is_empty(),
            "two people of one name on one reply-all"
        );
        assert!(
            thread_evidence(&[
                participant("t1", 10, 1, "jane@acme.com", "Jane Roe"),
                participant("t1", 11, 2, "jane@other.com", "Jane Roe"),
            ])
            .is_empty(),
            "two work addresses: two jobs, or two people"
        );
        assert!(
            thread_evidence(&[
                participant("t1", 10, 1, "jane@acme.com", "Jane Roe"),
                participant("t2", 11, 2, "jane.roe@gmail.com", "Jane Roe"),
            ])
            .is_empty(),
            "different threads"
        );
        assert!(
            thread_evidence(&[
                participant("t1", 10, 1, "jane@acme.com", "Jane"),
                participant("t1", 11, 2, "jane@gmail.com", "Jane"),
            ])
            .is_empty(),
            "a first name alone"
        );
    }
}
