//! Enrichment: the providers that fill in a contact's fields, the fields they fill, how
//! a lookup ended, and the contact page's "About" section that shows every value with
//! its source and date.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::closed_set::closed_set;

closed_set! {
    /// Who supplied an enriched value (`enrichments.provider`, and the `source` of
    /// `contacts.field_sources` for values it supplied).
    EnrichmentProvider, "enrichment provider" {
        /// Names attendees carry on the user's calendar events.
        Calendar = "calendar",
        /// Profile names on Messenger and Instagram conversations.
        Messenger = "messenger",
        /// Company facts from the user's other contacts at the same registrable domain.
        Colleagues = "colleagues",
        PeopleDataLabs = "people_data_labs",
        /// A Clearbit-format combined person + company lookup (Clearbit, Hunter).
        Clearbit = "clearbit",
        /// X (Twitter): the profile and recent posts of a contact's handle.
        X = "x",
    }
}

impl EnrichmentProvider {
    pub fn label(self) -> &'static str {
        match self {
            Self::Calendar => "Calendar",
            Self::Messenger => "Messenger / Instagram",
            Self::Colleagues => "Colleagues at the same domain",
            Self::PeopleDataLabs => "People Data Labs",
            Self::Clearbit => "Clearbit",
            Self::X => "X",
        }
    }

    /// Lookups that cost money run only for strong enough contacts and within a budget.
    pub fn is_paid(self) -> bool {
        matches!(self, Self::PeopleDataLabs | Self::Clearbit | Self::X)
    }
}

closed_set! {
    /// A field enrichment can fill (`enrichment_values.field`).
    EnrichedField, "enriched field" {
        DisplayName = "display_name",
        Title = "title",
        Company = "company",
        Location = "location",
        Bio = "bio",
        Linkedin = "linkedin",
        Twitter = "twitter",
        Website = "website",
        CompanyWebsite = "company_website",
        CompanyIndustry = "company_industry",
        CompanySize = "company_size",
    }
}

impl EnrichedField {
    pub fn label(self) -> &'static str {
        match self {
            Self::DisplayName => "Name",
            Self::Title => "Title",
            Self::Company => "Company",
            Self::Location => "Location",
            Self::Bio => "Bio",
            Self::Linkedin => "LinkedIn",
            Self::Twitter => "X",
            Self::Website => "Website",
            Self::CompanyWebsite => "Company website",
            Self::CompanyIndustry => "Industry",
            Self::CompanySize => "Company size",
        }
    }
}

closed_set! {
    /// How a provider lookup ended (`enrichments.status`).
    LookupStatus, "lookup status" {
        Found = "found",
        NotFound = "not_found",
        Error = "error",
        /// Queued by the provider (Clearbit's 202); asked again later.
        Pending = "pending",
    }
}

/// One value of a field, from one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AboutValue {
    pub value: String,
    /// A provider's name, or `signature`, `header`, `user`.
    pub source: String,
    pub source_label: String,
    pub at: Option<DateTime<Utc>>,
    pub confidence: Option<f32>,
    /// The value the contact shows now.
    pub current: bool,
}

/// A field of the About section: the value shown and the alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AboutField {
    pub field: EnrichedField,
    pub label: String,
    pub values: Vec<AboutValue>,
}

/// One provider lookup as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AboutLookup {
    pub provider: EnrichmentProvider,
    pub label: String,
    pub request_key: String,
    pub status: LookupStatus,
    pub error: Option<String>,
    pub fetched_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AboutPost {
    pub handle: String,
    pub text: String,
    pub posted_at: DateTime<Utc>,
}

/// The contact page's About section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AboutView {
    pub contact_id: Uuid,
    pub fields: Vec<AboutField>,
    pub lookups: Vec<AboutLookup>,
    pub posts: Vec<AboutPost>,
    /// Whether a `contact-enrichment` job is queued or running for the contact.
    pub running: bool,
}

/// Progress of one contact's enrichment job (`enrichment.progress`, live).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichmentProgressPayload {
    pub contact_id: Uuid,
    /// Lookups finished of `total`.
    pub done: u32,
    pub total: u32,
    /// The provider that just finished, if any.
    pub provider: Option<EnrichmentProvider>,
    pub finished: bool,
}
