//! Providers over the user's own data, always on and free: names attendees carry on the
//! user's calendar events, profile names on Messenger and Instagram conversations, and
//! company facts from the user's other contacts at the same registrable domain.

use api::enrichment::{EnrichedField, EnrichmentProvider};
use futures::future::BoxFuture;
use serde_json::json;
use uuid::Uuid;

use super::{FoundField, Lookup, Need, Outcome, ProviderError, Source};
use crate::Db;

/// Calendar invitations carry the name the person's own calendar gives them.
const CALENDAR_CONFIDENCE: f32 = 0.7;
/// Chat profile names are often nicknames.
const MESSENGER_CONFIDENCE: f32 = 0.5;
/// A company named in colleagues' signatures.
const COLLEAGUES_CONFIDENCE: f32 = 0.8;

fn found(fields: Vec<FoundField>, raw: serde_json::Value) -> Outcome {
    if fields.is_empty() {
        Outcome::NotFound { raw }
    } else {
        Outcome::Found {
            fields,
            posts: Vec::new(),
            raw,
        }
    }
}

/// The name an address carries most often as an attendee or organizer of the user's
/// calendar events.
#[derive(Debug, Clone)]
pub struct CalendarNames {
    db: Db,
}

impl CalendarNames {
    pub fn new(db: &Db) -> Self {
        Self { db: db.clone() }
    }

    async fn lookup(&self, lookup: &Lookup) -> Result<Outcome, ProviderError> {
        let row = sqlx::query!(
            r#"select p.display_name as "name!", count(*) as "events!"
               from activity_participants p
               join activities a on a.user_id = p.user_id and a.id = p.activity_id
               where p.user_id = $1 and p.address_kind = 'email' and p.address = $2
                 and p.role in ('attendee', 'organizer') and a.channel = 'meeting'
                 and coalesce(trim(p.display_name), '') <> ''
                 and position('@' in p.display_name) = 0
               group by p.display_name
               order by count(*) desc, max(p.occurred_at) desc
               limit 1"#,
            lookup.user.0,
            lookup.key,
        )
        .fetch_optional(self.db.pool())
        .await?;
        Ok(match row {
            Some(r) => found(
                vec![FoundField::new(
                    EnrichedField::DisplayName,
                    r.name.trim(),
                    CALENDAR_CONFIDENCE,
                )],
                json!({"name": r.name, "events": r.events}),
            ),
            None => found(Vec::new(), json!({"events": 0})),
        })
    }
}

impl Source for CalendarNames {
    fn provider(&self) -> EnrichmentProvider {
        EnrichmentProvider::Calendar
    }

    fn needs(&self) -> Need {
        Need::Email
    }

    fn enrich<'a>(&'a self, lookup: &'a Lookup) -> BoxFuture<'a, Result<Outcome, ProviderError>> {
        Box::pin(self.lookup(lookup))
    }
}

/// The profile name the contact's Messenger and Instagram conversations show most.
#[derive(Debug, Clone)]
pub struct MessengerNames {
    db: Db,
}

impl MessengerNames {
    pub fn new(db: &Db) -> Self {
        Self { db: db.clone() }
    }

    async fn lookup(&self, lookup: &Lookup) -> Result<Outcome, ProviderError> {
        let row = sqlx::query!(
            r#"select p.display_name as "name!", count(*) as "messages!",
                      array_agg(distinct a.channel) as "channels!"
               from activity_participants p
               join activities a on a.user_id = p.user_id and a.id = p.activity_id
               where p.user_id = $1 and p.contact_id = $2
                 and a.channel in ('messenger', 'instagram')
                 and coalesce(trim(p.display_name), '') <> ''
               group by p.display_name
               order by count(*) desc, max(p.occurred_at) desc
               limit 1"#,
            lookup.user.0,
            lookup.contact_id,
        )
        .fetch_optional(self.db.pool())
        .await?;
        Ok(match row {
            Some(r) => found(
                vec![FoundField::new(
                    EnrichedField::DisplayName,
                    r.name.trim(),
                    MESSENGER_CONFIDENCE,
                )],
                json!({"name": r.name, "messages": r.messages, "channels": r.channels}),
            ),
            None => found(Vec::new(), json!({"messages": 0})),
        })
    }
}

impl Source for MessengerNames {
    fn provider(&self) -> EnrichmentProvider {
        EnrichmentProvider::Messenger
    }

    fn needs(&self) -> Need {
        Need::Contact
    }

    fn enrich<'a>(&'a self, lookup: &'a Lookup) -> BoxFuture<'a, Result<Outcome, ProviderError>> {
        Box::pin(self.lookup(lookup))
    }
}

/// Company facts from the user's other contacts at the same registrable domain: the
/// company name their signatures (or the user) gave, and the website they link to.
#[derive(Debug, Clone)]
pub struct Colleagues {
    db: Db,
}

impl Colleagues {
    pub fn new(db: &Db) -> Self {
        Self { db: db.clone() }
    }

    async fn lookup(&self, lookup: &Lookup) -> Result<Outcome, ProviderError> {
        let domain = lookup.key.as_str();
        let at_domain = format!("%@{domain}");
        let under_domain = format!("%.{domain}");
        let row = sqlx::query!(
            r#"with colleagues as (
                 select distinct c.id, c.links
                 from contact_identities i
                 join contacts c on c.user_id = i.user_id and c.id = i.contact_id
                 where i.user_id = $1 and i.kind = 'email' and c.merged_into is null
                   and c.id <> $2 and (i.value like $3 or i.value like $4)
               )
               select (select count(*) from colleagues) as "colleagues!",
                      (select name from companies
                        where user_id = $1 and domain = $5 and name is not null
                          and name_source in ('signature', 'user')) as company,
                      (select links ->> 'website' from colleagues
                        where links ->> 'website' ilike '%' || $5 || '%'
                        group by links ->> 'website' order by count(*) desc, 1 limit 1) as website"#,
            lookup.user.0,
            lookup.contact_id,
            at_domain,
            under_domain,
            domain,
        )
        .fetch_one(self.db.pool())
        .await?;
        let raw = json!({"domain": domain, "colleagues": row.colleagues,
                         "company": row.company, "website": row.website});
        if row.colleagues == 0 {
            return Ok(found(Vec::new(), raw));
        }
        let fields = [
            (EnrichedField::Company, row.company),
            (EnrichedField::CompanyWebsite, row.website),
        ]
        .into_iter()
        .filter_map(|(field, value)| {
            value.map(|v| FoundField::new(field, v, COLLEAGUES_CONFIDENCE))
        })
        .collect();
        Ok(found(fields, raw))
    }
}

impl Source for Colleagues {
    fn provider(&self) -> EnrichmentProvider {
        EnrichmentProvider::Colleagues
    }

    fn needs(&self) -> Need {
        Need::Domain
    }

    fn enrich<'a>(&'a self, lookup: &'a Lookup) -> BoxFuture<'a, Result<Outcome, ProviderError>> {
        Box::pin(self.lookup(lookup))
    }
}

/// Unused ids never reach a provider: the key of [`Need::Contact`] is the contact's id.
pub fn contact_key(contact: Uuid) -> String {
    contact.to_string()
}
