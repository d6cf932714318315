//! [`MergeRule::NameAndColleagues`]: a personal (free-mail) address under the full name
//! of exactly one work contact, with that contact's colleagues (another contact at the
//! work address's company domain) on at least half of its mail and never on one message
//! with the work address itself, is that person writing from home: "Jane Roe
//! <jane.roe@gmail.com>" copied on threads with people at acme.com is the "Jane Roe
//! <jane@acme.com>" the user already has.
//!
//! A name alone stays a suggestion; the name and the company's people together are
//! what a careful reader goes by. Two work contacts with the name make it ambiguous, and
//! mail carrying both addresses shows two people, so neither merges. The evidence is
//! read after the batch is written, whichever of the two addresses the batch saw, so
//! the order the mail arrives in does not matter.

use std::collections::{BTreeMap, BTreeSet};

use api::contacts::MergeRule;
use sqlx::PgConnection;
use uuid::Uuid;

use super::ProcessingError;
use super::duplicates::{SamePerson, full_name_key};
use super::world::World;
use crate::db::scopes::ProcessingScope;
use crate::extract::domains::{CompanyDomain, is_free_mail};

/// A live contact sharing its full name with another, and its email addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Namesake {
    pub contact: Uuid,
    pub name: String,
    pub addresses: Vec<String>,
}

/// A personal contact that may be the one work contact of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HomeAndWork {
    pub name: String,
    pub home: Uuid,
    pub home_addresses: Vec<String>,
    pub work: Uuid,
    pub work_address: String,
    /// Every address of the work contact: on a message, the work contact is on it.
    pub work_addresses: Vec<String>,
    /// The work addresses' company domains.
    pub domains: Vec<String>,
}

/// The pairs worth looking for colleagues of: per full name, exactly one contact with a
/// work address, and each contact of that name whose addresses are all personal.
pub(super) fn home_and_work(namesakes: &[Namesake]) -> Vec<HomeAndWork> {
    let mut by_name: BTreeMap<String, Vec<&Namesake>> = BTreeMap::new();
    for n in namesakes {
        if let Some(key) = full_name_key(&n.name) {
            by_name.entry(key).or_default().push(n);
        }
    }
    let mut out = Vec::new();
    for group in by_name.values() {
        let work_addresses = |n: &Namesake| -> Vec<(String, CompanyDomain)> {
            n.addresses
                .iter()
                .filter_map(|a| CompanyDomain::from_email(a).map(|d| (a.clone(), d)))
                .collect()
        };
        let (home, work): (Vec<_>, Vec<_>) = group
            .iter()
            .map(|n| (*n, work_addresses(n)))
            .partition(|(_, w)| w.is_empty());
        let [(work, work_addresses)] = work.as_slice() else {
            continue;
        };
        let mut domains: Vec<String> = work_addresses
            .iter()
            .map(|(_, d)| d.as_str().to_owned())
            .collect();
        domains.sort();
        domains.dedup();
        for (h, _) in home {
            out.push(HomeAndWork {
                name: h.name.clone(),
                home: h.contact,
                home_addresses: h.addresses.clone(),
                work: work.contact,
                work_address: work_addresses[0].0.clone(),
                work_addresses: work.addresses.clone(),
                domains: domains.clone(),
            });
        }
    }
    out
}

impl ProcessingScope<'_> {
    /// The batch's contacts proved to be a work contact of the same name by writing with
    /// its colleagues (see the module docs).
    pub(super) async fn colleague_evidence(
        self,
        conn: &mut PgConnection,
        world: &World,
    ) -> Result<Vec<SamePerson>, ProcessingError> {
        // New evidence needs a personal address on the batch's mail, or a contact the
        // batch made or renamed (the other side's mail may be older): only their names.
        let personal: BTreeSet<Uuid> = world
            .address_contact
            .iter()
            .filter(|(address, _)| is_free_mail(address))
            .map(|(_, contact)| *contact)
            .collect();
        let names: Vec<String> = world
            .contacts
            .iter()
            .filter(|(id, c)| {
                c.live
                    && (personal.contains(id)
                        || c.stored
                            .as_ref()
                            .is_none_or(|s| s.display_name != c.fields.display_name))
            })
            .filter_map(|(_, c)| c.fields.display_name.as_deref().and_then(full_name_key))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let namesakes: Vec<Namesake> = sqlx::query!(
            // The shared names first, once (a probe of the name index each), then their
            // contacts by the same index: as one join the planner re-ran the names'
            // subquery per contact while the import outgrew the statistics (97 ms a
            // batch).
            r#"with shared as materialized (
                 select lower(display_name) as name from contacts
                 where user_id = $1 and merged_into is null and lower(display_name) = any($2)
                 group by 1 having count(*) > 1)
               select c.id, c.display_name as "name!",
                      array_agg(ci.value order by ci.value) as "addresses!"
               from shared s
               join contacts c on c.user_id = $1 and c.merged_into is null
                 and lower(c.display_name) = s.name
               join contact_identities ci on ci.user_id = c.user_id and ci.contact_id = c.id
                 and ci.kind = 'email'
               group by c.id"#,
            self.user.0,
            &names,
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| Namesake {
            contact: r.id,
            name: r.name,
            addresses: r.addresses,
        })
        .collect();
        let pairs = home_and_work(&namesakes);
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let (mut pair, mut home, mut domains, mut work) = (vec![], vec![], vec![], vec![]);
        for (i, p) in pairs.iter().enumerate() {
            for h in &p.home_addresses {
                pair.push(i as i32);
                home.push(h.clone());
                domains.push(p.domains.join(" "));
                work.push(p.work_addresses.join(" "));
            }
        }
        // Per home address: its messages, those with a contact at a work domain, and
        // those with one of the work contact's addresses. Each step a lookup by the one
        // before (`offset 0`), whatever the estimates: during an import the participants
        // grow faster than their statistics. The participants' own contact link and the
        // work contact's addresses answer both questions without an identity lookup per
        // participant (half the statement's time).
        let found = sqlx::query!(
            r#"select k.pair as "pair!", k.home as "home!",
                      count(*) as "messages!",
                      count(*) filter (where m.colleague is not null) as "with_colleagues!",
                      count(*) filter (where m.with_work) as "with_work!",
                      min(m.colleague) as colleague
               from unnest($2::int4[], $3::text[], $4::text[], $5::text[])
                 as k(pair, home, domains, work)
               cross join lateral (
                 select p.activity_id from activity_participants p
                 join activities a on a.id = p.activity_id and a.deleted_at is null
                 where p.user_id = $1 and p.address_kind = 'email' and p.address = k.home
                 offset 0) p
               cross join lateral (
                 select min(q.address) filter (
                          where q.contact_id is not null
                            and exists (
                              select 1 from unnest(string_to_array(k.domains, ' ')) d
                              where split_part(q.address, '@', 2) = d
                                 or split_part(q.address, '@', 2) like '%.' || d))
                          as colleague,
                        bool_or(q.address = any(string_to_array(k.work, ' '))) as with_work
                 from activity_participants q
                 where q.activity_id = p.activity_id and q.address_kind = 'email'
                 offset 0) m
               group by k.pair, k.home"#,
            self.user.0,
            &pair,
            &home,
            &domains,
            &work,
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(found
            .into_iter()
            .filter(|r| {
                // Never on one message with the work address, and with its colleagues on
                // at least half of its mail: a namesake copied once on a big thread with
                // someone from the company is not enough.
                r.with_work == 0 && r.with_colleagues > 0 && r.with_colleagues * 2 >= r.messages
            })
            .filter_map(|r| {
                let p = pairs.get(usize::try_from(r.pair).ok()?)?;
                Some(SamePerson {
                    a: p.work,
                    b: p.home,
                    rule: MergeRule::NameAndColleagues,
                    reason: format!(
                        "Same name ({}) at {} as at {}, on mail with {}, a colleague at {} \
                         ({} of {} messages)",
                        p.name,
                        r.home,
                        p.work_address,
                        r.colleague.as_deref().unwrap_or_default(),
                        p.domains.join(", "),
                        r.with_colleagues,
                        r.messages,
                    ),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namesake(n: u128, name: &str, addresses: &[&str]) -> Namesake {
        Namesake {
            contact: Uuid::from_u128(n),
            name: name.to_owned(),
            addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    #[test]
    fn a_personal_namesake_of_one_work_contact_is_a_candidate() {
        let pairs = home_and_work(&[
            namesake(1, "Jane Roe", &["jane@mail.acme.co.uk"]),
            namesake(2, "jane  roe", &["jane.roe@gmail.com"]),
            namesake(3, "Sam Poe", &["sam@gmail.com"]),
        ]);
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert_eq!(pairs[0].work, Uuid::from_u128(1));
        assert_eq!(pairs[0].home, Uuid::from_u128(2));
        assert_eq!(pairs[0].domains, ["acme.co.uk"]);
        assert_eq!(pairs[0].work_address, "jane@mail.acme.co.uk");
    }

    #[test]
    fn two_work_contacts_of_one_name_or_two_personal_ones_are_not() {
        assert!(
            home_and_work(&[
                namesake(1, "Jane Roe", &["jane@acme.com"]),
                namesake(2, "Jane Roe", &["jroe@othercorp.com"]),
                namesake(3, "Jane Roe", &["jane.roe@gmail.com"]),
            ])
            .is_empty()
        );
        assert!(
            home_and_work(&[
                namesake(1, "Jane Roe", &["jane@outlook.com"]),
                namesake(2, "Jane Roe", &["jane.roe@gmail.com"]),
            ])
            .is_empty()
        );
        // One word is not a full name.
        assert!(
            home_and_work(&[
                namesake(1, "Jane", &["jane@acme.com"]),
                namesake(2, "Jane", &["jane@gmail.com"]),
            ])
            .is_empty()
        );
    }
}
