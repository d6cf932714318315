//! The read-only tools both engines answer through. Each runs on a [`UserScope`], so it
//! sees only the acting user's rows, takes arguments that were parsed before (limits
//! clamped, periods ordered, ids resolved) and returns compact rows that carry the ids
//! an answer cites: `/contacts/{id}` for people, activity and thread ids for messages.
//!
//! A contact's messages are counted as in `contact_stats`: outbound mail it received
//! (to, cc or bcc) and inbound mail it sent (from); deleted activities never count.

use api::{Channel, Direction};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::period::Period;
use crate::DomainError;
use crate::db::scopes::AskScope;

/// Most rows any tool returns.
pub const MAX_ROWS: u32 = 50;
/// Rows the aggregate tools read before folding same-name contacts into one person.
const AGGREGATE_ROWS: i64 = 500;

/// How many rows a caller wants: 1 to [`MAX_ROWS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limit(u32);

impl Limit {
    pub fn parse(n: i64) -> Result<Self, DomainError> {
        if (1..=i64::from(MAX_ROWS)).contains(&n) {
            Ok(Self(n as u32))
        } else {
            Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {MAX_ROWS}, got {n}"),
            ))
        }
    }

    pub fn get(self) -> usize {
        self.0 as usize
    }

    fn sql(self) -> i64 {
        i64::from(self.0)
    }
}

/// What "top" ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Metric {
    /// Emails both ways.
    Emails,
    /// Emails the user sent them.
    Sent,
    /// Emails they sent the user.
    Received,
    /// The relationship strength score (current, not per period).
    Strength,
}

impl Metric {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        match value {
            "emails" => Ok(Self::Emails),
            "sent" => Ok(Self::Sent),
            "received" => Ok(Self::Received),
            "strength" => Ok(Self::Strength),
            other => Err(DomainError::invalid(
                "metric",
                format!("must be emails, sent, received or strength, got {other:?}"),
            )),
        }
    }
}

/// Whose turn it is in a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Awaiting {
    /// They wrote last and the user has not replied.
    MyReply,
    /// The user wrote last and they have not replied.
    TheirReply,
}

/// Most contacts [`AskScope::directory`] reads.
pub const DIRECTORY_MAX: i64 = 20_000;

/// A contact, compact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactHit {
    pub id: Uuid,
    pub name: Option<String>,
    pub emails: Vec<String>,
    pub title: Option<String>,
    pub company_id: Option<Uuid>,
    pub company: Option<String>,
    pub company_domain: Option<String>,
    pub email_count: i32,
    pub strength: i16,
    pub last_interaction_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
impl ContactHit {
    /// A bare contact for tests: a name (or none) and one address, nothing else known.
    pub(crate) fn bare(name: Option<&str>, email: &str) -> Self {
        ContactHit {
            id: Uuid::new_v4(),
            name: name.map(str::to_owned),
            emails: vec![email.into()],
            title: None,
            company_id: None,
            company: None,
            company_domain: None,
            email_count: 0,
            strength: 0,
            last_interaction_at: None,
        }
    }
}

impl ContactHit {
    /// The name, else the first address, else "(no name)".
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.emails.first().cloned())
            .unwrap_or_else(|| "(no name)".into())
    }
}

/// A contact with message counts over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactCount {
    pub contact: ContactHit,
    pub sent: i64,
    pub received: i64,
}

/// One message, compact: enough to cite it and say what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageRef {
    pub activity_id: Uuid,
    pub thread_key: Option<String>,
    pub contact_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub direction: Option<Direction>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
}

/// A thread waiting on a reply, with the contact and its latest message in question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenThread {
    pub contact_id: Uuid,
    pub thread_key: String,
    pub activity_id: Uuid,
    pub at: DateTime<Utc>,
    pub subject: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyRow {
    pub id: Uuid,
    pub name: Option<String>,
    pub domain: String,
    pub contacts: i64,
    pub emails: i64,
}

/// A contact's profile fields beyond [`ContactHit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactDetails {
    pub contact: ContactHit,
    pub phones: Vec<String>,
    pub links: Vec<(String, String)>,
    pub sent_count: i32,
    pub received_count: i32,
    pub first_interaction_at: Option<DateTime<Utc>>,
    pub unanswered_inbound: i32,
}

/// Which contacts `find_contacts` returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactFilter {
    /// Substring of the name, an address or the company's name or domain.
    pub text: Option<String>,
    pub company: Option<Uuid>,
    /// Only contacts whose last interaction is before this (and who have one).
    pub last_before: Option<DateTime<Utc>>,
}

/// Which messages `search_messages` returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageFilter {
    /// Words to find (the search box's language: stemmed words, "phrases", `from:`,
    /// `to:`, `has:attachment`), in the subject, body, participants and attachment
    /// names; see `ask::mail_search`.
    pub text: Option<String>,
    /// With any of these contacts (empty: anyone).
    pub contacts: Vec<Uuid>,
    pub company: Option<Uuid>,
    pub period: Option<Period>,
    pub channel: Option<Channel>,
}

/// `%text%` for a case-insensitive LIKE with its wildcards escaped; `None` when blank.
pub fn like_pattern(text: &str) -> Option<String> {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return None;
    }
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

impl AskScope<'_> {
    /// Contacts matching `filter`, most emails first.
    pub async fn find_contacts(
        self,
        filter: &ContactFilter,
        limit: Limit,
    ) -> Result<Vec<ContactHit>, DomainError> {
        self.contacts_matching(filter, limit.sql()).await
    }

    /// Every contact (up to [`DIRECTORY_MAX`]), most emails first: what the offline
    /// engine matches names against, since a misspelt or unaccented name is no
    /// substring of the stored one.
    pub async fn directory(self) -> Result<Vec<ContactHit>, DomainError> {
        self.contacts_matching(&ContactFilter::default(), DIRECTORY_MAX)
            .await
    }

    async fn contacts_matching(
        self,
        filter: &ContactFilter,
        limit: i64,
    ) -> Result<Vec<ContactHit>, DomainError> {
        let pattern = filter.text.as_deref().and_then(like_pattern);
        Ok(sqlx::query_as!(
            ContactHit,
            r#"select c.id, c.display_name as name, c.title, c.company_id,
                      co.name as "company?", co.domain as "company_domain?",
                      array(select ci.value from contact_identities ci
                             where ci.user_id = c.user_id and ci.contact_id = c.id and ci.kind = 'email'
                             order by ci.created_at, ci.value) as "emails!",
                      s.email_count as "email_count!", s.strength, s.last_interaction_at
               from contacts c
               join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
               left join companies co on co.user_id = c.user_id and co.id = c.company_id
               where c.user_id = $1 and c.merged_into is null
                 and ($2::text is null
                      or lower(c.display_name) like $2
                      or lower(coalesce(co.name, '') || ' ' || coalesce(co.domain, '')) like $2
                      or exists (select 1 from contact_identities ci
                                  where ci.user_id = $1 and ci.contact_id = c.id and ci.value like $2))
                 and ($3::uuid is null or c.company_id = $3)
                 and ($4::timestamptz is null or s.last_interaction_at < $4)
               order by s.email_count desc, lower(c.display_name), c.id
               limit $5"#,
            self.user.0,
            pattern,
            filter.company,
            filter.last_before,
            limit,
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Contacts with their sent and received counts in `period` (all time when `None`),
    /// optionally at one company, highest `metric` first. Contacts with no messages in
    /// the period are absent.
    pub async fn message_counts(
        self,
        metric: Metric,
        period: Option<Period>,
        company: Option<Uuid>,
    ) -> Result<Vec<ContactCount>, DomainError> {
        let order = match metric {
            Metric::Emails => "emails",
            Metric::Sent => "sent",
            Metric::Received => "received",
            Metric::Strength => "strength",
        };
        let rows = sqlx::query!(
            r#"with msgs as (
                 select distinct ap.contact_id, a.id, a.direction
                 from activity_participants ap
                 join activities a on a.user_id = ap.user_id and a.id = ap.activity_id
                 where ap.user_id = $1 and ap.contact_id is not null and a.deleted_at is null
                   and ($2::timestamptz is null or ap.occurred_at >= $2)
                   and ($3::timestamptz is null or ap.occurred_at < $3)
                   and ((a.direction = 'outbound' and ap.role in ('to', 'cc', 'bcc'))
                     or (a.direction = 'inbound' and ap.role = 'from'))
               ),
               counts as (
                 select contact_id,
                        count(*) filter (where direction = 'outbound') as sent,
                        count(*) filter (where direction = 'inbound') as received
                 from msgs group by contact_id
               )
               select c.id, c.display_name as name, c.title, c.company_id,
                      co.name as "company?", co.domain as "company_domain?",
                      array(select ci.value from contact_identities ci
                             where ci.user_id = c.user_id and ci.contact_id = c.id and ci.kind = 'email'
                             order by ci.created_at, ci.value) as "emails!",
                      s.email_count as "email_count!", s.strength, s.last_interaction_at,
                      t.sent as "sent!", t.received as "received!"
               from counts t
               join contacts c on c.user_id = $1 and c.id = t.contact_id and c.merged_into is null
               join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
               left join companies co on co.user_id = c.user_id and co.id = c.company_id
               where ($4::uuid is null or c.company_id = $4)
               order by case $5
                          when 'sent' then t.sent
                          when 'received' then t.received
                          when 'strength' then s.strength
                          else t.sent + t.received end desc,
                        lower(c.display_name), c.id
               limit $6"#,
            self.user.0,
            period.map(|p| p.from),
            period.map(|p| p.to),
            company,
            order,
            AGGREGATE_ROWS,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ContactCount {
                contact: ContactHit {
                    id: r.id,
                    name: r.name,
                    emails: r.emails,
                    title: r.title,
                    company_id: r.company_id,
                    company: r.company,
                    company_domain: r.company_domain,
                    email_count: r.email_count,
                    strength: r.strength,
                    last_interaction_at: r.last_interaction_at,
                },
                sent: r.sent,
                received: r.received,
            })
            .collect())
    }

    /// One contact's profile, phones, links and lifetime stats.
    pub async fn contact_details(self, contact: Uuid) -> Result<ContactDetails, DomainError> {
        let hit = sqlx::query_as!(
            ContactHit,
            r#"select c.id, c.display_name as name, c.title, c.company_id,
                      co.name as "company?", co.domain as "company_domain?",
                      array(select ci.value from contact_identities ci
                             where ci.user_id = c.user_id and ci.contact_id = c.id and ci.kind = 'email'
                             order by ci.created_at, ci.value) as "emails!",
                      s.email_count as "email_count!", s.strength, s.last_interaction_at
               from contacts c
               join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
               left join companies co on co.user_id = c.user_id and co.id = c.company_id
               where c.user_id = $1 and c.id = $2 and c.merged_into is null"#,
            self.user.0,
            contact,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("contact"))?;
        let phones = sqlx::query_scalar!(
            r#"select value from contact_identities
               where user_id = $1 and contact_id = $2 and kind = 'phone'
               order by created_at, value"#,
            self.user.0,
            contact,
        )
        .fetch_all(self.pool)
        .await?;
        let profile = self.contacts().profile(contact).await?;
        let stats = self.contacts().stats(contact).await?;
        Ok(ContactDetails {
            contact: hit,
            phones,
            links: profile.link_pairs(),
            sent_count: stats.sent_count,
            received_count: stats.received_count,
            first_interaction_at: stats.first_interaction_at,
            unanswered_inbound: stats.unanswered_inbound,
        })
    }

    /// Messages with any of `contacts` in `period`, counted as the stats count them,
    /// oldest first when `oldest_first`, else newest first.
    pub async fn activity_timeline(
        self,
        contacts: &[Uuid],
        period: Option<Period>,
        channel: Option<Channel>,
        oldest_first: bool,
        limit: Limit,
    ) -> Result<Vec<MessageRef>, DomainError> {
        Ok(sqlx::query_as!(
            MessageRef,
            r#"select a.id as activity_id, a.thread_key, m.contact_id as "contact_id?", a.occurred_at as at,
                      a.channel as "channel: Channel", a.direction as "direction: Direction",
                      a.subject, a.snippet
               from (select distinct on (a.id) a.id, ap.contact_id
                     from activity_participants ap
                     join activities a on a.user_id = ap.user_id and a.id = ap.activity_id
                     where ap.user_id = $1 and ap.contact_id = any($2) and a.deleted_at is null
                       and ($3::timestamptz is null or ap.occurred_at >= $3)
                       and ($4::timestamptz is null or ap.occurred_at < $4)
                       and ($5::text is null or a.channel = $5)
                       and ((a.direction = 'outbound' and ap.role in ('to', 'cc', 'bcc'))
                         or (a.direction = 'inbound' and ap.role = 'from')
                         or a.direction is null)
                     order by a.id) m
               join activities a on a.user_id = $1 and a.id = m.id
               order by case when $6 then a.occurred_at end asc,
                        case when not $6 then a.occurred_at end desc, a.id
               limit $7"#,
            self.user.0,
            contacts,
            period.map(|p| p.from),
            period.map(|p| p.to),
            channel.map(Channel::as_str),
            oldest_first,
            limit.sql(),
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Emails sent to and received from any of `contacts` in `period`; a message to two
    /// of them counts once.
    pub async fn exchange_counts(
        self,
        contacts: &[Uuid],
        period: Option<Period>,
    ) -> Result<(i64, i64), DomainError> {
        let row = sqlx::query!(
            r#"select count(distinct a.id) filter (where a.direction = 'outbound') as "sent!",
                      count(distinct a.id) filter (where a.direction = 'inbound') as "received!"
               from activity_participants ap
               join activities a on a.user_id = ap.user_id and a.id = ap.activity_id
               where ap.user_id = $1 and ap.contact_id = any($2) and a.deleted_at is null
                 and ($3::timestamptz is null or ap.occurred_at >= $3)
                 and ($4::timestamptz is null or ap.occurred_at < $4)
                 and ((a.direction = 'outbound' and ap.role in ('to', 'cc', 'bcc'))
                   or (a.direction = 'inbound' and ap.role = 'from'))"#,
            self.user.0,
            contacts,
            period.map(|p| p.from),
            period.map(|p| p.to),
        )
        .fetch_one(self.pool)
        .await?;
        Ok((row.sent, row.received))
    }

    /// Threads waiting on a reply (see [`Awaiting`]) whose latest message in question
    /// is at or after `since`, limited to `contacts` unless empty; newest first.
    pub async fn unanswered(
        self,
        awaiting: Awaiting,
        since: Option<DateTime<Utc>>,
        contacts: &[Uuid],
        limit: Limit,
    ) -> Result<Vec<OpenThread>, DomainError> {
        let rows = match awaiting {
            Awaiting::MyReply => {
                sqlx::query_as!(
                    OpenThread,
                    r#"with last_inbound as (
                         select distinct on (ap.contact_id, a.thread_key)
                                ap.contact_id, a.thread_key, a.id, a.occurred_at, a.subject
                         from activity_participants ap
                         join activities a on a.user_id = ap.user_id and a.id = ap.activity_id
                         join contacts c on c.user_id = ap.user_id and c.id = ap.contact_id and c.merged_into is null
                         where ap.user_id = $1 and ap.role = 'from' and a.direction = 'inbound'
                           and a.deleted_at is null and a.thread_key is not null
                           and (cardinality($3::uuid[]) = 0 or ap.contact_id = any($3))
                         order by ap.contact_id, a.thread_key, a.occurred_at desc, a.id
                       )
                       select li.contact_id as "contact_id!", li.thread_key as "thread_key!",
                              li.id as "activity_id!", li.occurred_at as "at!", li.subject
                       from last_inbound li
                       where ($2::timestamptz is null or li.occurred_at >= $2)
                         and not exists (
                           select 1 from activities o
                           where o.user_id = $1 and o.thread_key = li.thread_key
                             and o.direction = 'outbound' and o.deleted_at is null
                             and o.occurred_at > li.occurred_at)
                       order by li.occurred_at desc, li.id
                       limit $4"#,
                    self.user.0,
                    since,
                    contacts,
                    limit.sql(),
                )
                .fetch_all(self.pool)
                .await?
            }
            Awaiting::TheirReply => {
                sqlx::query_as!(
                    OpenThread,
                    r#"with last_outbound as (
                         select distinct on (ap.contact_id, a.thread_key)
                                ap.contact_id, a.thread_key, a.id, a.occurred_at, a.subject
                         from activity_participants ap
                         join activities a on a.user_id = ap.user_id and a.id = ap.activity_id
                         join contacts c on c.user_id = ap.user_id and c.id = ap.contact_id and c.merged_into is null
                         where ap.user_id = $1 and ap.role in ('to', 'cc', 'bcc') and a.direction = 'outbound'
                           and a.deleted_at is null and a.thread_key is not null
                           and (cardinality($3::uuid[]) = 0 or ap.contact_id = any($3))
                         order by ap.contact_id, a.thread_key, a.occurred_at desc, a.id
                       )
                       select lo.contact_id as "contact_id!", lo.thread_key as "thread_key!",
                              lo.id as "activity_id!", lo.occurred_at as "at!", lo.subject
                       from last_outbound lo
                       where ($2::timestamptz is null or lo.occurred_at >= $2)
                         and not exists (
                           select 1 from activity_participants p
                           join activities i on i.user_id = p.user_id and i.id = p.activity_id
                           where p.user_id = $1 and p.contact_id = lo.contact_id and p.role = 'from'
                             and i.thread_key = lo.thread_key and i.direction = 'inbound'
                             and i.deleted_at is null and i.occurred_at > lo.occurred_at)
                       order by lo.occurred_at desc, lo.id
                       limit $4"#,
                    self.user.0,
                    since,
                    contacts,
                    limit.sql(),
                )
                .fetch_all(self.pool)
                .await?
            }
        };
        Ok(rows)
    }

    /// Companies whose name or domain contains `text` (all when `None`), with how many
    /// contacts work there and how many emails they exchanged; most emails first.
    pub async fn companies(
        self,
        text: Option<&str>,
        limit: Limit,
    ) -> Result<Vec<CompanyRow>, DomainError> {
        let pattern = text.and_then(like_pattern);
        Ok(sqlx::query_as!(
            CompanyRow,
            r#"select co.id, co.name, co.domain,
                      count(c.id) as "contacts!",
                      coalesce(sum(s.email_count), 0)::int8 as "emails!"
               from companies co
               left join contacts c on c.user_id = co.user_id and c.company_id = co.id and c.merged_into is null
               left join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
               where co.user_id = $1
                 and ($2::text is null or lower(coalesce(co.name, '') || ' ' || co.domain) like $2)
               group by co.id
               order by 5 desc, co.domain
               limit $3"#,
            self.user.0,
            pattern,
            limit.sql(),
        )
        .fetch_all(self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded() {
        assert_eq!(Limit::parse(5).unwrap().get(), 5);
        let err = Limit::parse(0).unwrap_err().to_string();
        assert_eq!(err, "invalid limit: must be between 1 and 50, got 0");
        assert!(Limit::parse(51).is_err());
    }

    #[test]
    fn metrics_parse_precisely() {
        assert_eq!(Metric::parse("sent").unwrap(), Metric::Sent);
        let err = Metric::parse("likes").unwrap_err().to_string();
        assert!(err.contains("emails, sent, received or strength"), "{err}");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(" "), None);
        assert_eq!(like_pattern("Acme_1%"), Some("%acme\\_1\\%%".into()));
    }
}
