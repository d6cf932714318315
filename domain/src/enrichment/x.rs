//! X (Twitter) API v2 with an app's bearer token: the user by username
//! (`GET {base}/2/users/by/username/{username}?user.fields=description,location,name`,
//! `{"data": {"id", "name", "username", "description", "location"}}`, or `200` with
//! `{"errors": [{"title": "Not Found Error", …}]}` when there is no such user), then
//! their recent posts (`GET {base}/2/users/{id}/tweets?max_results=10&tweet.fields=created_at`,
//! `{"data": [{"id", "text", "created_at"}], "meta": {"result_count"}}`). Rate limits
//! answer 429 with `x-rate-limit-reset` (epoch seconds) or `Retry-After`.

use api::enrichment::{EnrichedField, EnrichmentProvider};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde_json::Value;

use super::http::{self, send, unexpected};
use super::{FoundField, Lookup, Need, Outcome, Post, ProviderError, Source};

pub const DEFAULT_BASE_URL: &str = "https://api.x.com";

/// A profile found by exact username is the contact's as surely as the handle is.
const CONFIDENCE: f32 = 0.6;
/// Posts fetched per lookup.
const RECENT_POSTS: u32 = 10;

/// The username in a handle or profile link: `@dana`, `dana`, `https://x.com/dana`,
/// `twitter.com/dana?s=20`. `None` when there is none (X's rule: 1..15 of `A-Za-z0-9_`).
pub fn handle_of(text: &str) -> Option<String> {
    let text = text.trim();
    let tail = if let Some((_, rest)) = text
        .split_once("x.com/")
        .or_else(|| text.split_once("twitter.com/"))
    {
        rest
    } else {
        text
    };
    let name = tail
        .trim_start_matches('@')
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let valid = (1..=15).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| name.to_owned())
}

#[derive(Debug, Clone)]
pub struct XApi {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl XApi {
    pub fn new(base_url: &str, token: &str) -> Self {
        Self {
            http: http::client(),
            base_url: base_url.to_owned(),
            token: token.to_owned(),
        }
    }

    async fn lookup(&self, handle: &str) -> Result<Outcome, ProviderError> {
        let request = self
            .http
            .get(http::url(
                &self.base_url,
                &format!("/2/users/by/username/{handle}"),
            ))
            .bearer_auth(&self.token)
            .query(&[("user.fields", "description,location,name")]);
        let (status, user) = send(request).await?;
        if status != StatusCode::OK {
            return Err(unexpected(status, &user));
        }
        let Some(id) = user.pointer("/data/id").and_then(Value::as_str) else {
            if user.get("errors").is_some() {
                return Ok(Outcome::NotFound { raw: user });
            }
            return Err(ProviderError::Decode("a user without data.id".into()));
        };
        let request = self
            .http
            .get(http::url(&self.base_url, &format!("/2/users/{id}/tweets")))
            .bearer_auth(&self.token)
            .query(&[
                ("max_results", RECENT_POSTS.to_string().as_str()),
                ("tweet.fields", "created_at"),
            ]);
        let (status, tweets) = send(request).await?;
        if status != StatusCode::OK {
            return Err(unexpected(status, &tweets));
        }
        let username = user
            .pointer("/data/username")
            .and_then(Value::as_str)
            .unwrap_or(handle)
            .to_owned();
        let posts = posts(&username, &tweets)?;
        Ok(Outcome::Found {
            fields: fields(&user),
            posts,
            raw: serde_json::json!({"user": user, "tweets": tweets}),
        })
    }
}

/// The profile's fields.
pub fn fields(user: &Value) -> Vec<FoundField> {
    let at = |key: &str| {
        user.pointer(&format!("/data/{key}"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    [
        (EnrichedField::DisplayName, at("name")),
        (EnrichedField::Bio, at("description")),
        (EnrichedField::Location, at("location")),
    ]
    .into_iter()
    .filter_map(|(field, value)| value.map(|v| FoundField::new(field, v, CONFIDENCE)))
    .collect()
}

/// The posts of a timeline answer (no `data` when there are none).
pub fn posts(handle: &str, tweets: &Value) -> Result<Vec<Post>, ProviderError> {
    let Some(items) = tweets.get("data").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|item| {
            let text = |key: &str| item.get(key).and_then(Value::as_str);
            let (Some(id), Some(body), Some(created)) =
                (text("id"), text("text"), text("created_at"))
            else {
                return Err(ProviderError::Decode(
                    "a post without id, text or created_at".into(),
                ));
            };
            let posted_at = DateTime::parse_from_rfc3339(created)
                .map_err(|e| ProviderError::Decode(format!("created_at {created:?}: {e}")))?
                .with_timezone(&Utc);
            Ok(Post {
                id: id.to_owned(),
                handle: handle.to_owned(),
                text: body.to_owned(),
                posted_at,
            })
        })
        .collect()
}

impl Source for XApi {
    fn provider(&self) -> EnrichmentProvider {
        EnrichmentProvider::X
    }

    fn needs(&self) -> Need {
        Need::XHandle
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
    fn handles_come_from_links_and_at_names() {
        assert_eq!(handle_of("https://x.com/dana_w").as_deref(), Some("dana_w"));
        assert_eq!(
            handle_of("twitter.com/DanaW?s=20").as_deref(),
            Some("DanaW")
        );
        assert_eq!(handle_of("@dana").as_deref(), Some("dana"));
        assert_eq!(handle_of("https://x.com/"), None);
        assert_eq!(handle_of("not a handle"), None);
    }

    #[test]
    fn timelines_become_posts_and_bad_ones_are_errors() {
        let tweets = json!({"data": [{"id": "1", "text": "hello", "created_at": "2026-11-01T10:00:00.000Z"}],
                            "meta": {"result_count": 1}});
        let found = posts("dana", &tweets).unwrap();
        assert_eq!(found[0].text, "hello");
        assert!(
            posts("dana", &json!({"meta": {"result_count": 0}}))
                .unwrap()
                .is_empty()
        );
        assert!(posts("dana", &json!({"data": [{"id": "1"}]})).is_err());
    }
}
