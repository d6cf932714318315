//! The contacts list: search, filters, sort, pages of at most [`PAGE_SIZE`], the top
//! contacts strip and bulk tagging.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::profile::parse_tag;
use crate::{DomainError, UserScope};

/// Rows per page of the contacts list.
pub const PAGE_SIZE: i64 = 50;
/// Longest search text accepted; longer input is cut.
const MAX_SEARCH_CHARS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContactSort {
    /// Strongest relationship first.
    #[default]
    Strength,
    /// Most recent interaction first.
    Recent,
    /// Most emails (both ways) first.
    MostEmails,
    /// A to Z.
    Name,
}

impl ContactSort {
    /// The value used in URLs (`?sort=recent`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strength => "strength",
            Self::Recent => "recent",
            Self::MostEmails => "emails",
            Self::Name => "name",
        }
    }

    /// Unknown values fall back to the default sort: URLs are typed by people.
    pub fn from_param(value: &str) -> Self {
        match value {
            "recent" => Self::Recent,
            "emails" => Self::MostEmails,
            "name" => Self::Name,
            _ => Self::Strength,
        }
    }
}

/// What the list shows: every field is optional, `page` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactQuery {
    /// Substring of the name, an email address or the company's name or domain.
    pub search: Option<String>,
    pub company: Option<Uuid>,
    pub tag: Option<String>,
    /// Only contacts with inbound mail the user has not answered.
    pub unanswered: bool,
    pub last_from: Option<DateTime<Utc>>,
    pub last_to: Option<DateTime<Utc>>,
    pub sort: ContactSort,
    pub page: i64,
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactListItem {
    pub id: Uuid,
    pub display_name: Option<String>,
    pub primary_email: Option<String>,
    pub company_id: Option<Uuid>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub strength: i16,
    pub email_count: i32,
    pub last_interaction_at: Option<DateTime<Utc>>,
    pub unanswered_inbound: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactListPage {
    pub contacts: Vec<ContactListItem>,
    /// Contacts matching the query, on all pages.
    pub total: i64,
    pub page: i64,
    pub page_count: i64,
}

const LIST_COLUMNS: &str =
    "select c.id, c.display_name, c.company_id, co.name as company, c.title, c.tags,
        s.strength, s.email_count, s.last_interaction_at, s.unanswered_inbound,
        (select ci.value from contact_identities ci
          where ci.contact_id = c.id and ci.kind = 'email'
          order by ci.created_at, ci.value limit 1) as primary_email
   from contacts c
   join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id
   left join companies co on co.id = c.company_id";

impl UserScope<'_> {
    /// One page of the user's contacts (merged-away contacts never appear).
    ///
    /// Built with a `QueryBuilder` instead of `query_as!`: the sort column and the set of
    /// filters vary, and each combination must be its own statement so Postgres plans it
    /// with the index for that sort rather than one generic plan for all of them.
    pub async fn list_contacts(
        &self,
        query: &ContactQuery,
    ) -> Result<ContactListPage, DomainError> {
        let page = query.page.max(1);
        let mut rows = QueryBuilder::<Postgres>::new(LIST_COLUMNS);
        self.push_filters(&mut rows, query);
        rows.push(match query.sort {
            ContactSort::Strength => " order by s.strength desc, s.contact_id",
            ContactSort::Recent => " order by s.last_interaction_at desc nulls last, s.contact_id",
            ContactSort::MostEmails => " order by s.email_count desc, s.contact_id",
            ContactSort::Name => " order by lower(c.display_name) nulls last, c.id",
        });
        rows.push(" limit ")
            .push_bind(PAGE_SIZE)
            .push(" offset ")
            .push_bind((page - 1) * PAGE_SIZE);
        let contacts = rows
            .build_query_as::<ContactListItem>()
            .fetch_all(self.pool)
            .await?;

        let mut count = QueryBuilder::<Postgres>::new(
            "select count(*) from contacts c
               join contact_stats s on s.user_id = c.user_id and s.contact_id = c.id",
        );
        self.push_filters(&mut count, query);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool).await?;
        Ok(ContactListPage {
            contacts,
            total,
            page,
            page_count: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        })
    }

    fn push_filters<'q>(&self, sql: &mut QueryBuilder<'q, Postgres>, query: &'q ContactQuery) {
        sql.push(" where c.user_id = ")
            .push_bind(self.user.0)
            .push(" and c.merged_into is null");
        if let Some(pattern) = query.search.as_deref().and_then(search_pattern) {
            // Three index lookups (trigram on names, addresses, companies), then the join.
            // The user id is bound, not taken from `c`, so the subquery runs once.
            sql.push(" and c.id in (select id from contacts where user_id = ")
                .push_bind(self.user.0)
                .push(" and merged_into is null and lower(display_name) like ")
                .push_bind(pattern.clone())
                .push(" union select contact_id from contact_identities where user_id = ")
                .push_bind(self.user.0)
                .push(" and value like ")
                .push_bind(pattern.clone())
                .push(
                    " union select c2.id from companies co2
                        join contacts c2 on c2.user_id = co2.user_id and c2.company_id = co2.id
                       where co2.user_id = ",
                )
                .push_bind(self.user.0)
                .push(" and lower(coalesce(co2.name, '') || ' ' || co2.domain) like ")
                .push_bind(pattern)
                .push(")");
        }
        if let Some(company) = query.company {
            sql.push(" and c.company_id = ").push_bind(company);
        }
        if let Some(tag) = &query.tag {
            sql.push(" and c.tags @> array[")
                .push_bind(tag.as_str())
                .push("]::text[]");
        }
        if query.unanswered {
            sql.push(" and s.unanswered_inbound > 0");
        }
        if let Some(from) = query.last_from {
            sql.push(" and s.last_interaction_at >= ").push_bind(from);
        }
        if let Some(to) = query.last_to {
            sql.push(" and s.last_interaction_at < ").push_bind(to);
        }
    }

    /// The strongest relationships, for the strip above the list.
    pub async fn top_contacts(&self, limit: i64) -> Result<Vec<ContactListItem>, DomainError> {
        let mut rows = QueryBuilder::<Postgres>::new(LIST_COLUMNS);
        rows.push(" where c.user_id = ")
            .push_bind(self.user.0)
            .push(" and c.merged_into is null and s.strength > 0")
            .push(" order by s.strength desc, s.contact_id limit ")
            .push_bind(limit);
        Ok(rows
            .build_query_as::<ContactListItem>()
            .fetch_all(self.pool)
            .await?)
    }

    /// Adds `tag` to each of `contacts` that belongs to the user; returns how many
    /// changed. Contacts that are not the user's are skipped, never touched.
    pub async fn tag_contacts(&self, contacts: &[Uuid], tag: &str) -> Result<u64, DomainError> {
        let tag = parse_tag(tag)?;
        let updated = sqlx::query!(
            r#"update contacts
               set tags = array_append(tags, $3),
                   field_sources = field_sources || jsonb_build_object(
                     'tags', jsonb_build_object('source', 'user', 'at', now()))
               where user_id = $1 and id = any($2) and merged_into is null
                 and not (tags @> array[$3]::text[])"#,
            self.user.0,
            contacts,
            tag,
        )
        .execute(self.pool)
        .await?;
        Ok(updated.rows_affected())
    }

    /// Every tag the user has used, for the filter menu.
    pub async fn contact_tags(&self) -> Result<Vec<String>, DomainError> {
        Ok(sqlx::query_scalar!(
            r#"select distinct unnest(tags) as "tag!" from contacts
               where user_id = $1 and merged_into is null order by 1"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?)
    }
}

/// `%text%` for a case-insensitive LIKE, with LIKE's wildcards escaped; `None` when the
/// search is blank.
fn search_pattern(search: &str) -> Option<String> {
    let text: String = search
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_SEARCH_CHARS)
        .collect();
    if text.is_empty() {
        return None;
    }
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_escape_wildcards() {
        assert_eq!(search_pattern("  "), None);
        assert_eq!(search_pattern(" Ada "), Some("%ada%".into()));
        assert_eq!(search_pattern("50%_x"), Some("%50\\%\\_x%".into()));
    }

    #[test]
    fn unknown_sorts_fall_back_to_strength() {
        for sort in [
            ContactSort::Strength,
            ContactSort::Recent,
            ContactSort::MostEmails,
            ContactSort::Name,
        ] {
            assert_eq!(ContactSort::from_param(sort.as_str()), sort);
        }
        assert_eq!(ContactSort::from_param("bogus"), ContactSort::Strength);
    }
}
