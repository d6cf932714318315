//! The contact pages' rows ([`api::contacts`]): the list's query from its URL
//! parameters, and the list, contact and company pages shaped from what the queries
//! return. The caller reads (each read with its own error handling); this only shapes.

use api::contacts::{
    CompanyData, ContactData, ContactList, ContactRow, DuplicateRow, IdentityRow, ListParams,
    MergeRow, MonthBar, ProfileValues, StatsView, ThreadRow,
};
use api::{AddressKind, Direction};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use uuid::Uuid;

use super::strength::human_duration;
use super::{
    CompanyOverview, ContactListItem, ContactListPage, ContactProfile, ContactQuery, ContactSort,
    ContactStats, DuplicateSuggestion, Identity, ListTotal, MergeRecord, MonthVolume, RecentThread,
};

/// How many months the volume chart shows, ending with the current one.
pub const CHART_MONTHS: u32 = 12;

const NO_NAME: &str = "(no name)";

/// A day typed as YYYY-MM-DD, as the start of that day (UTC); `None` when blank or not
/// a date (the filter is then ignored, as a typo in a URL should not break the page).
fn day_start(day: &str, days_later: i64) -> Option<DateTime<Utc>> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok().map(|d| {
        (d + chrono::Days::new(days_later as u64))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    })
}

impl ContactQuery {
    /// The list's query from its URL parameters; unreadable values are ignored.
    pub fn from_params(params: &ListParams) -> Self {
        Self {
            search: Some(params.q.clone()).filter(|q| !q.is_empty()),
            company: params.company.parse::<Uuid>().ok(),
            tag: Some(params.tag.clone()).filter(|t| !t.is_empty()),
            unanswered: params.unanswered,
            last_from: day_start(&params.from, 0),
            last_to: day_start(&params.to, 1),
            sort: ContactSort::from_param(&params.sort),
            page: params.page,
        }
    }
}

impl From<ContactListItem> for ContactRow {
    fn from(c: ContactListItem) -> Self {
        Self {
            id: c.id,
            name: c
                .display_name
                .clone()
                .or_else(|| c.primary_email.clone())
                .unwrap_or_else(|| NO_NAME.into()),
            email: c.primary_email,
            company_id: c.company_id,
            company: c.company,
            title: c.title,
            tags: c.tags,
            strength: c.strength,
            emails: c.email_count,
            last_interaction_at: c.last_interaction_at,
            unanswered: c.unanswered_inbound,
        }
    }
}

/// The contacts list: a page of `page`, the `top` strip, every tag, and the name of the
/// company filtered on.
pub fn contact_list(
    page: ContactListPage,
    top: Vec<ContactListItem>,
    tags: Vec<String>,
    company_name: Option<String>,
) -> ContactList {
    ContactList {
        has_next: page.has_next(),
        total: match page.total {
            ListTotal::Exactly(n) | ListTotal::MoreThan(n) => n,
        },
        total_is_floor: matches!(page.total, ListTotal::MoreThan(_)),
        page: page.page,
        page_count: page.total.known_pages(),
        contacts: page.contacts.into_iter().map(ContactRow::from).collect(),
        top: top.into_iter().map(ContactRow::from).collect(),
        tags,
        company_name,
    }
}

/// The last [`CHART_MONTHS`] months up to `now`, filled from `series` (missing months
/// are zero).
pub fn chart_months(series: &[MonthVolume], now: DateTime<Utc>) -> Vec<MonthBar> {
    let this_month = NaiveDate::from_ymd_opt(now.year(), now.month(), 1).unwrap_or_default();
    (0..CHART_MONTHS)
        .rev()
        .map(|back| {
            let month = this_month
                .checked_sub_months(Months::new(back))
                .unwrap_or(this_month);
            let key = month.format("%Y-%m").to_string();
            let found = series.iter().find(|m| m.month == key);
            MonthBar {
                label: month.format("%b").to_string(),
                sent: found.map_or(0, |m| m.sent),
                received: found.map_or(0, |m| m.received),
                month: key,
            }
        })
        .collect()
}

fn reply_summary(median: Option<f64>, mean: Option<f64>, count: i32) -> Option<String> {
    let median = median?;
    let replies = if count == 1 {
        "1 reply".to_owned()
    } else {
        format!("{count} replies")
    };
    Some(match mean {
        Some(mean) => format!(
            "{} (mean {}, {replies})",
            human_duration(median),
            human_duration(mean)
        ),
        None => format!("{} ({replies})", human_duration(median)),
    })
}

/// The profile form's current values, from the stored profile and identities.
fn profile_values(profile: &ContactProfile, identities: &[Identity]) -> ProfileValues {
    let of_kind = |kind: AddressKind| {
        identities
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.value.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let links = profile.link_pairs();
    let link = |kind: &str| {
        links
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    ProfileValues {
        display_name: profile.display_name.clone().unwrap_or_default(),
        title: profile.title.clone().unwrap_or_default(),
        company: profile.company_domain.clone().unwrap_or_default(),
        emails: of_kind(AddressKind::Email),
        phones: of_kind(AddressKind::Phone),
        linkedin: link("linkedin"),
        website: link("website"),
        twitter: link("twitter"),
        tags: profile.tags.join(", "),
        notes: profile.notes.clone(),
        custom_fields: profile
            .custom_field_pairs()
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn stats_view(stats: &ContactStats, now: DateTime<Utc>) -> StatsView {
    StatsView {
        sent: stats.sent_count,
        received: stats.received_count,
        first_at: stats.first_interaction_at,
        last_at: stats.last_interaction_at,
        last_sent_at: stats.last_sent_at,
        last_received_at: stats.last_received_at,
        my_reply: reply_summary(
            stats.my_reply_median_secs,
            stats.my_reply_mean_secs,
            stats.my_reply_count,
        ),
        their_reply: reply_summary(
            stats.their_reply_median_secs,
            stats.their_reply_mean_secs,
            stats.their_reply_count,
        ),
        unanswered: stats.unanswered_inbound,
        frequency: stats.frequency_score,
        strength: stats.strength,
        explanation: stats.explanation(now),
    }
}

impl From<RecentThread> for ThreadRow {
    fn from(t: RecentThread) -> Self {
        let in_gmail = t.from_gmail && t.thread_key.is_some();
        Self {
            subject: t
                .subject
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "(no subject)".into()),
            snippet: t.snippet,
            last_at: t.last_at,
            messages: t.messages,
            outbound: t.direction == Some(Direction::Outbound),
            href: match (in_gmail, &t.thread_key) {
                (true, Some(key)) => format!("https://mail.google.com/mail/u/0/#all/{key}"),
                _ => "/timeline".to_owned(),
            },
            in_gmail,
        }
    }
}

impl From<DuplicateSuggestion> for DuplicateRow {
    fn from(d: DuplicateSuggestion) -> Self {
        Self {
            id: d.contact_id,
            name: d
                .display_name
                .or(d.primary_email.clone())
                .unwrap_or_else(|| NO_NAME.into()),
            email: d.primary_email,
            reasons: d.reasons,
        }
    }
}

impl From<MergeRecord> for MergeRow {
    fn from(m: MergeRecord) -> Self {
        Self {
            id: m.id,
            winner_id: m.winner_id,
            winner_name: m.winner_name.unwrap_or_else(|| NO_NAME.into()),
            loser_id: m.loser_id,
            loser_name: m.loser_name.unwrap_or_else(|| NO_NAME.into()),
            rule: m.rule,
            reason: m.reason,
            merged_at: m.merged_at,
            unmerged_at: m.unmerged_at,
        }
    }
}

/// What a contact's page reads, each from its own query.
pub struct ContactParts {
    pub profile: ContactProfile,
    pub identities: Vec<Identity>,
    pub stats: ContactStats,
    pub threads: Vec<RecentThread>,
    pub duplicates: Vec<DuplicateSuggestion>,
    pub merges: Vec<MergeRecord>,
}

/// A contact's page as of `now`.
pub fn contact_data(id: Uuid, parts: ContactParts, now: DateTime<Utc>) -> ContactData {
    let profile = &parts.profile;
    let identities = &parts.identities;
    let name = profile
        .display_name
        .clone()
        .or_else(|| identities.first().map(|i| i.value.clone()))
        .unwrap_or_else(|| NO_NAME.into());
    ContactData {
        id,
        name,
        profile: profile_values(profile, identities),
        company_id: profile.company_id,
        company_label: profile
            .company_name
            .clone()
            .or(profile.company_domain.clone()),
        user_fields: profile.user_edited_fields(),
        identities: identities
            .iter()
            .map(|i| IdentityRow {
                kind: i.kind,
                value: i.value.clone(),
                source: i.source.clone(),
            })
            .collect(),
        merged_into: profile.merged_into,
        chart: chart_months(&parts.stats.monthly, now),
        stats: stats_view(&parts.stats, now),
        threads: parts.threads.into_iter().map(Into::into).collect(),
        duplicates: parts.duplicates.into_iter().map(Into::into).collect(),
        merges: parts.merges.into_iter().map(Into::into).collect(),
    }
}

/// A company's page as of `now`.
pub fn company_data(company: CompanyOverview, now: DateTime<Utc>) -> CompanyData {
    CompanyData {
        id: company.id,
        name: company
            .name
            .clone()
            .unwrap_or_else(|| company.domain.clone()),
        chart: chart_months(&company.monthly, now),
        domain: company.domain,
        people: company.people.into_iter().map(ContactRow::from).collect(),
        people_count: company.people_count,
        sent: company.sent_count,
        received: company.received_count,
        unanswered: company.unanswered_inbound,
        first_at: company.first_interaction_at,
        last_at: company.last_interaction_at,
        strongest: company.strongest,
    }
}
