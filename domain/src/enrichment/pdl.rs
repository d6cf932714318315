//! People Data Labs person enrichment: `GET {base}/v5/person/enrich?email=…&min_likelihood=…`
//! with the key in `X-Api-Key`. A match is `200 {"status", "likelihood", "data": {…}}`
//! (likelihood 1..10; the data's strings are lowercase), no match is
//! `404 {"status": 404, "error": {"type": "not_found", "message"}}`.

use api::enrichment::{EnrichedField, EnrichmentProvider};
use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde_json::Value;

use super::http::{self, send, unexpected};
use super::{FoundField, Lookup, Need, Outcome, ProviderError, Source};

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.peopledatalabs.com";

#[derive(Debug, Clone)]
pub struct PeopleDataLabs {
    http: reqwest::Client,
    base_url: String,
    key: String,
    /// Matches below this likelihood (1..10) are not returned by the API.
    min_likelihood: u8,
}

impl PeopleDataLabs {
    pub fn new(base_url: &str, key: &str, min_likelihood: u8) -> Self {
        Self {
            http: http::client(),
            base_url: base_url.to_owned(),
            key: key.to_owned(),
            min_likelihood: min_likelihood.clamp(1, 10),
        }
    }

    async fn lookup(&self, email: &str) -> Result<Outcome, ProviderError> {
        let request = self
            .http
            .get(http::url(&self.base_url, "/v5/person/enrich"))
            .header("X-Api-Key", &self.key)
            .query(&[
                ("email", email),
                ("min_likelihood", &self.min_likelihood.to_string()),
            ]);
        let (status, body) = send(request).await?;
        match status {
            StatusCode::OK => Ok(Outcome::Found {
                fields: fields(&body),
                posts: Vec::new(),
                raw: body,
            }),
            StatusCode::NOT_FOUND => Ok(Outcome::NotFound { raw: body }),
            other => Err(unexpected(other, &body)),
        }
    }
}

/// Words left lowercase inside a title-cased phrase.
const SMALL_WORDS: [&str; 8] = ["of", "and", "the", "for", "at", "in", "de", "van"];

/// Words written in capitals (the API lowercases them too).
const ACRONYMS: [&str; 14] = [
    "ceo", "cto", "cfo", "coo", "cmo", "cio", "vp", "svp", "evp", "hr", "it", "ux", "qa", "ai",
];

/// "sean thorne" -> "Sean Thorne": the API lowercases every string.
pub fn title_case(text: &str) -> String {
    text.split(' ')
        .enumerate()
        .map(|(i, word)| {
            if i > 0 && SMALL_WORDS.contains(&word) {
                return word.to_owned();
            }
            if ACRONYMS.contains(&word) {
                return word.to_uppercase();
            }
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn url_of(value: &str) -> String {
    if value.starts_with("http") {
        value.to_owned()
    } else {
        format!("https://{value}")
    }
}

/// The fields of a match, each with the match's likelihood as confidence.
pub fn fields(body: &Value) -> Vec<FoundField> {
    let confidence = body
        .get("likelihood")
        .and_then(Value::as_f64)
        .map_or(0.5, |l| (l / 10.0) as f32);
    let data = body.get("data").cloned().unwrap_or_default();
    let text = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let mut found = Vec::new();
    let mut add = |field, value: Option<String>| {
        if let Some(value) = value {
            found.push(FoundField::new(field, value, confidence));
        }
    };
    add(
        EnrichedField::DisplayName,
        text("full_name").map(title_case),
    );
    add(EnrichedField::Title, text("job_title").map(title_case));
    add(
        EnrichedField::Company,
        text("job_company_name").map(title_case),
    );
    add(
        EnrichedField::Location,
        text("location_name").map(title_case),
    );
    add(EnrichedField::Linkedin, text("linkedin_url").map(url_of));
    add(EnrichedField::Twitter, text("twitter_url").map(url_of));
    add(
        EnrichedField::CompanyWebsite,
        text("job_company_website").map(url_of),
    );
    add(
        EnrichedField::CompanyIndustry,
        text("job_company_industry").map(title_case),
    );
    add(
        EnrichedField::CompanySize,
        text("job_company_size").map(str::to_owned),
    );
    found
}

impl Source for PeopleDataLabs {
    fn provider(&self) -> EnrichmentProvider {
        EnrichmentProvider::PeopleDataLabs
    }

    fn needs(&self) -> Need {
        Need::Email
    }

    fn enrich<'a>(&'a self, lookup: &'a Lookup) -> BoxFuture<'a, Result<Outcome, ProviderError>> {
        Box::pin(self.lookup(&lookup.key))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_match_becomes_fields_with_its_likelihood() {
        let body = json!({"status": 200, "likelihood": 8, "data": {
            "full_name": "dana whitfield", "job_title": "head of partnerships",
            "job_company_name": "acme", "location_name": "london, england, united kingdom",
            "linkedin_url": "linkedin.com/in/danawhitfield", "job_company_size": "51-200"}});
        let found = fields(&body);
        let get = |f| {
            found
                .iter()
                .find(|x| x.field == f)
                .map(|x| x.value.as_str())
        };
        assert_eq!(get(EnrichedField::DisplayName), Some("Dana Whitfield"));
        assert_eq!(get(EnrichedField::Title), Some("Head of Partnerships"));
        assert_eq!(
            get(EnrichedField::Linkedin),
            Some("https://linkedin.com/in/danawhitfield")
        );
        assert_eq!(get(EnrichedField::CompanySize), Some("51-200"));
        assert_eq!(title_case("vp of sales"), "VP of Sales");
        assert!(found.iter().all(|f| (f.confidence - 0.8).abs() < 1e-6));
    }
}
