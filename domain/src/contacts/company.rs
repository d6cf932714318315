//! A company's page: its people and their stats combined.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::list::ContactListItem;
use super::stats::{MonthVolume, parse_monthly};
use crate::DomainError;
use crate::db::scopes::ContactsScope;

/// How many people the company page lists, strongest first.
const PEOPLE_SHOWN: i64 = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct CompanyOverview {
    pub id: Uuid,
    pub name: Option<String>,
    pub domain: String,
    pub people: Vec<ContactListItem>,
    /// All the company's people, even beyond those listed.
    pub people_count: i64,
    pub sent_count: i64,
    pub received_count: i64,
    pub unanswered_inbound: i64,
    pub first_interaction_at: Option<DateTime<Utc>>,
    pub last_interaction_at: Option<DateTime<Utc>>,
    pub strongest: i16,
    /// Sum of the people's monthly series.
    pub monthly: Vec<MonthVolume>,
}

impl ContactsScope<'_> {
    pub async fn company_overview(self, company: Uuid) -> Result<CompanyOverview, DomainError> {
        let head = sqlx::query!(
            r#"select co.id, co.name, co.domain,
                      count(c.id) as "people_count!",
                      coalesce(sum(s.sent_count), 0)::int8 as "sent_count!",
                      coalesce(sum(s.received_count), 0)::int8 as "received_count!",
                      coalesce(sum(s.unanswered_inbound), 0)::int8 as "unanswered_inbound!",
                      min(s.first_interaction_at) as first_interaction_at,
                      max(s.last_interaction_at) as last_interaction_at,
                      coalesce(max(s.strength), 0)::int2 as "strongest!",
                      coalesce(jsonb_agg(s.monthly) filter (where s.monthly <> '[]'), '[]') as "monthly!"
               from companies co
               left join contacts c on c.user_id = co.user_id and c.company_id = co.id
                 and c.merged_into is null
               left join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
               where co.user_id = $1 and co.id = $2
               group by co.id"#,
            self.user.0,
            company,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("company"))?;
        let people = sqlx::query_as!(
            ContactListItem,
            r#"select c.id, c.display_name, c.company_id, co.name as "company?", c.title, c.tags,
                      s.strength, s.email_count as "email_count!", s.last_interaction_at,
                      s.unanswered_inbound,
                      (select ci.value from contact_identities ci
                        where ci.contact_id = c.id and ci.kind = 'email'
                        order by ci.created_at, ci.value limit 1) as "primary_email?"
               from contacts c
               join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
               left join companies co on co.id = c.company_id
               where c.user_id = $1 and c.company_id = $2 and c.merged_into is null
               order by s.strength desc, c.id
               limit $3"#,
            self.user.0,
            company,
            PEOPLE_SHOWN,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(CompanyOverview {
            id: head.id,
            name: head.name,
            domain: head.domain,
            people,
            people_count: head.people_count,
            sent_count: head.sent_count,
            received_count: head.received_count,
            unanswered_inbound: head.unanswered_inbound,
            first_interaction_at: head.first_interaction_at,
            last_interaction_at: head.last_interaction_at,
            strongest: head.strongest,
            monthly: combine_monthly(head.monthly),
        })
    }
}

/// Adds up the people's monthly series (a JSON array of series) month by month.
fn combine_monthly(series: serde_json::Value) -> Vec<MonthVolume> {
    let mut months: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let all: Vec<serde_json::Value> = serde_json::from_value(series).unwrap_or_default();
    for one in all {
        for month in parse_monthly(one) {
            let entry = months.entry(month.month).or_default();
            entry.0 += month.sent;
            entry.1 += month.received;
        }
    }
    months
        .into_iter()
        .map(|(month, (sent, received))| MonthVolume {
            month,
            sent,
            received,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn monthly_series_add_up_by_month() {
        let combined = combine_monthly(json!([
            [{"month": "2026-01", "sent": 1, "received": 2}],
            [{"month": "2026-01", "sent": 3, "received": 0}, {"month": "2026-02", "sent": 0, "received": 5}]
        ]));
        assert_eq!(
            combined,
            vec![
                MonthVolume {
                    month: "2026-01".into(),
                    sent: 4,
                    received: 2
                },
                MonthVolume {
                    month: "2026-02".into(),
                    sent: 0,
                    received: 5
                },
            ]
        );
    }
}
