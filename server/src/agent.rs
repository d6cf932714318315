//! `server agent`: a small agent that proves the Notes API loop. It reads a contact's
//! completed activities through `/api/v1` with a personal API token and writes one note
//! summarising them (counts by channel, the period, the latest subject), linked to the
//! latest activity. No model: the summary is deterministic, so it can be tested.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde_json::json;

use crate::api_v1::{ActivitiesJson, ActivityJson, NoteJson};

pub const USAGE: &str = "server agent --base-url URL --token TOKEN --contact EMAIL-OR-ID\n  (the token may come from RAPPORT_API_TOKEN instead of --token)";

/// Debug output never shows the API token.
#[derive(Clone, PartialEq, Eq)]
pub struct AgentOptions {
    pub base_url: String,
    pub token: String,
    /// The contact's id or one of its email addresses.
    pub contact: String,
}

impl std::fmt::Debug for AgentOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentOptions")
            .field("base_url", &self.base_url)
            .field("token", &domain::crypto::REDACTED)
            .field("contact", &self.contact)
            .finish()
    }
}

impl AgentOptions {
    /// Reads `--base-url`, `--token` and `--contact`; `env_token` (RAPPORT_API_TOKEN)
    /// stands in for `--token`, which keeps the token out of shell history.
    pub fn parse(args: &[String], env_token: Option<String>) -> anyhow::Result<Self> {
        let mut base_url = None;
        let mut token = env_token;
        let mut contact = None;
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let slot = match flag.as_str() {
                "--base-url" => &mut base_url,
                "--token" => &mut token,
                "--contact" => &mut contact,
                other => bail!("unknown argument {other:?}\n\nusage: {USAGE}"),
            };
            let value = args
                .next()
                .with_context(|| format!("{flag} needs a value\n\nusage: {USAGE}"))?;
            *slot = Some(value.clone());
        }
        let missing = |name: &str| format!("missing {name}\n\nusage: {USAGE}");
        Ok(Self {
            base_url: base_url
                .context(missing("--base-url"))?
                .trim_end_matches('/')
                .to_owned(),
            token: token.context(missing("--token"))?,
            contact: contact.context(missing("--contact"))?,
        })
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentOutcome {
    Wrote(Box<NoteJson>),
    /// The contact has no completed activity yet: nothing to summarise, nothing written.
    NothingToSummarise,
}

/// One pass: read, summarise, write.
pub async fn run(options: &AgentOptions) -> anyhow::Result<AgentOutcome> {
    let client = reqwest::Client::new();
    let activities = activities_url(options)?;
    let response = client
        .get(activities)
        .bearer_auth(&options.token)
        .send()
        .await
        .context("could not reach Rapport")?;
    let read: ActivitiesJson = ok_json(response).await?;
    let Some((body, source)) = summarise(&read.activities) else {
        return Ok(AgentOutcome::NothingToSummarise);
    };
    let notes = format!(
        "{}/api/v1/contacts/{}/notes",
        options.base_url, read.contact_id
    );
    let response = client
        .post(notes)
        .bearer_auth(&options.token)
        .json(&json!({ "body": body, "source_activity_id": source }))
        .send()
        .await
        .context("could not reach Rapport")?;
    Ok(AgentOutcome::Wrote(Box::new(ok_json(response).await?)))
}

fn activities_url(options: &AgentOptions) -> anyhow::Result<reqwest::Url> {
    let mut url = reqwest::Url::parse(&options.base_url).context("--base-url is not a URL")?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("--base-url cannot have a path"))?
        .pop_if_empty()
        .extend(["api", "v1", "contacts", &options.contact, "activities"]);
    url.query_pairs_mut()
        .append_pair("state", api::ActivityState::Completed.as_str());
    Ok(url)
}

/// The response's JSON, or the API's error message as the error.
async fn ok_json<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> anyhow::Result<T> {
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .with_context(|| format!("Rapport answered {status} without JSON"))?;
    if !status.is_success() {
        let message = body["error"]["message"].as_str().unwrap_or("no message");
        bail!("Rapport answered {status}: {message}");
    }
    serde_json::from_value(body).context("unexpected answer from Rapport")
}

/// The note text for `activities` (newest first, as the API lists them) and the id of
/// the latest one, or `None` when there is nothing to summarise.
pub fn summarise(activities: &[ActivityJson]) -> Option<(String, uuid::Uuid)> {
    let latest = activities.iter().max_by_key(|a| (a.occurred_at, a.id))?;
    let earliest = activities.iter().map(|a| a.occurred_at).min()?;
    let mut by_channel = BTreeMap::<&str, usize>::new();
    for activity in activities {
        *by_channel.entry(activity.channel.as_str()).or_default() += 1;
    }
    let channels = by_channel
        .iter()
        .map(|(channel, n)| format!("{n} {channel}"))
        .collect::<Vec<_>>()
        .join(", ");
    let count = activities.len();
    let plural = if count == 1 { "activity" } else { "activities" };
    let day = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d").to_string();
    let subject = latest
        .subject
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("(no subject)");
    let body = format!(
        "Summary of {count} completed {plural} ({channels}) from {} to {}. Latest: \"{subject}\" ({}, {}).",
        day(earliest),
        day(latest.occurred_at),
        latest.channel,
        day(latest.occurred_at),
    );
    Some((body, latest.id))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let options = AgentOptions {
            base_url: "http://127.0.0.1:3000".into(),
            token: "rpt_super_secret_token".into(),
            contact: "ada@example.com".into(),
        };
        let shown = format!("{options:?}");
        assert!(!shown.contains("rpt_super_secret_token"), "{shown}");
    }

    fn activity(channel: &str, day: u32, subject: Option<&str>) -> ActivityJson {
        ActivityJson {
            id: Uuid::new_v4(),
            channel: api::Channel::parse(channel).unwrap(),
            direction: Some(api::Direction::Inbound),
            occurred_at: Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap(),
            subject: subject.map(str::to_owned),
            snippet: None,
            state: api::ActivityState::Completed,
            processed_at: None,
            transcript: None,
        }
    }

    #[test]
    fn the_summary_counts_by_channel_and_links_the_latest() {
        let latest = activity("email", 20, Some("Quote for Q1"));
        let activities = [
            latest.clone(),
            activity("sms", 12, None),
            activity("email", 3, Some("Hello")),
        ];
        let (body, source) = summarise(&activities).unwrap();
        assert_eq!(
            body,
            "Summary of 3 completed activities (2 email, 1 sms) from 2026-11-03 to 2026-11-20. Latest: \"Quote for Q1\" (email, 2026-11-20)."
        );
        assert_eq!(source, latest.id);
        let (one, _) = summarise(&[activity("call", 5, None)]).unwrap();
        assert!(
            one.starts_with("Summary of 1 completed activity (1 call)"),
            "{one}"
        );
        assert!(one.contains("\"(no subject)\""), "{one}");
        assert_eq!(summarise(&[]), None);
    }

    #[test]
    fn options_come_from_flags_or_the_environment() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = AgentOptions::parse(
            &args(&["--base-url", "http://x:3000/", "--contact", "a@b.co"]),
            Some("rpt_env".into()),
        )
        .unwrap();
        assert_eq!(
            options,
            AgentOptions {
                base_url: "http://x:3000".into(),
                token: "rpt_env".into(),
                contact: "a@b.co".into(),
            }
        );
        assert!(AgentOptions::parse(&args(&["--base-url", "http://x"]), None).is_err());
        assert!(AgentOptions::parse(&args(&["--token"]), None).is_err());
        assert!(AgentOptions::parse(&args(&["--what", "x"]), None).is_err());
        let url = activities_url(&options).unwrap();
        assert_eq!(
            url.as_str(),
            "http://x:3000/api/v1/contacts/a@b.co/activities?state=completed"
        );
    }
}
