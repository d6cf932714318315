//! A Clearbit-format combined person + company lookup (Clearbit's Enrichment API, also
//! served by Hunter): `GET {base}/v2/combined/find?email=…` with `Authorization: Bearer
//! <key>`. `200 {"person": {…}, "company": {…}}` is a match (either may be null);
//! `202` means the lookup is queued and should be asked again later; `404
//! {"error": {"type": "unknown_record", "message"}}` is no match.

use std::time::Duration;

use api::enrichment::{EnrichedField, EnrichmentProvider};
use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde_json::Value;

use super::http::{self, send, unexpected};
use super::{FoundField, Lookup, Need, Outcome, ProviderError, Source};

pub const DEFAULT_BASE_URL: &str = "https://person.clearbit.com";

/// The API gives no confidence; its matches are by exact email.
const CONFIDENCE: f32 = 0.75;
/// A queued lookup is asked again after this long (the API suggests a few seconds).
const QUEUED_RETRY: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct Clearbit {
    http: reqwest::Client,
    base_url: String,
    key: String,
    queued_retry: Duration,
}

impl Clearbit {
    pub fn new(base_url: &str, key: &str) -> Self {
        Self {
            http: http::client(),
            base_url: base_url.to_owned(),
            key: key.to_owned(),
            queued_retry: QUEUED_RETRY,
        }
    }

    /// Asks again after `wait` when a lookup is queued (tests make it short).
    pub fn with_queued_retry(mut self, wait: Duration) -> Self {
        self.queued_retry = wait;
        self
    }

    async fn lookup(&self, email: &str) -> Result<Outcome, ProviderError> {
        let request = self
            .http
            .get(http::url(&self.base_url, "/v2/combined/find"))
            .bearer_auth(&self.key)
            .query(&[("email", email)]);
        let (status, body) = send(request).await?;
        match status {
            StatusCode::OK => Ok(Outcome::Found {
                fields: fields(&body),
                posts: Vec::new(),
                raw: body,
            }),
            StatusCode::ACCEPTED => Ok(Outcome::Pending {
                retry_after: self.queued_retry,
                raw: body,
            }),
            StatusCode::NOT_FOUND => Ok(Outcome::NotFound { raw: body }),
            other => Err(unexpected(other, &body)),
        }
    }
}

/// The fields of a combined answer.
pub fn fields(body: &Value) -> Vec<FoundField> {
    let at = |path: &str| {
        body.pointer(path)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut found = Vec::new();
    let mut add = |field, value: Option<String>| {
        if let Some(value) = value {
            found.push(FoundField::new(field, value, CONFIDENCE));
        }
    };
    add(EnrichedField::DisplayName, at("/person/name/fullName"));
    add(EnrichedField::Title, at("/person/employment/title"));
    add(
        EnrichedField::Company,
        at("/company/name").or_else(|| at("/person/employment/name")),
    );
    add(EnrichedField::Location, at("/person/location"));
    add(EnrichedField::Bio, at("/person/bio"));
    add(EnrichedField::Website, at("/person/site"));
    add(
        EnrichedField::Linkedin,
        at("/person/linkedin/handle").map(|h| format!("https://www.linkedin.com/{h}")),
    );
    add(
        EnrichedField::Twitter,
        at("/person/twitter/handle").map(|h| format!("https://x.com/{h}")),
    );
    add(
        EnrichedField::CompanyWebsite,
        at("/company/domain").map(|d| format!("https://{d}")),
    );
    add(
        EnrichedField::CompanyIndustry,
        at("/company/category/industry"),
    );
    add(
        EnrichedField::CompanySize,
        at("/company/metrics/employeesRange"),
    );
    found
}

impl Source for Clearbit {
    fn provider(&self) -> EnrichmentProvider {
        EnrichmentProvider::Clearbit
    }

    fn needs(&self) -> Need {
        Need::Email
    }

    fn enrich<'a>(&'a self, lookup: &'a Lookup) -> BoxFuture<'a, Result<Outcome, ProviderError>> {
        Box::pin(self.lookup(&lookup.key))
    }
}
