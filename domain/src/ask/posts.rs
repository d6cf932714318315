//! Ask about what a contact has been posting: the `recent_posts` tool reads the X posts
//! enrichment stored (see `domain::enrichment`), so "what has Dana been posting
//! about?" is answered from the posts, each with its date.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::enrichment::RecentPost;
use crate::{DomainError, UserScope};

/// Posts the tool (and the offline engine) returns.
pub(super) const POSTS: i64 = 10;

/// Questions about someone's posts, as the parser normalised them ("what is" reads
/// "what's"): "what has Dana been posting about", "what's Dana tweeting lately",
/// "Dana's recent posts", "latest tweets from Dana".
static POSTING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:what(?:'s| has| have| did| does| do)?|tell me what) (.+?) (?:has |is )?(?:been )?(?:posting|posted|post|tweeting|tweeted|tweet|sharing|shared|saying on (?:x|twitter)|writing on (?:x|twitter)|up to on (?:x|twitter))(?: about)?(?: on (?:x|twitter))?(?: lately| recently| these days)?$|^(?:show (?:me )?|list |any )?(?:the )?(?:(?:recent|latest|last|new) )?(?:posts|tweets|x posts) (?:by|from|of) (.+?)(?: lately| recently)?$|^(?:show (?:me )?)?(.+?)'s? (?:(?:recent|latest|last|new) )?(?:posts|tweets|x posts)$",
    )
    .expect("a valid pattern")
});

/// The person a question about posts names, as written.
pub fn posting_about(question: &str) -> Option<&str> {
    let c = POSTING.captures(question)?;
    Some(c.get(1).or(c.get(2)).or(c.get(3))?.as_str())
}

/// The offline engine's answer: each post with its date and handle, newest first.
pub(super) fn posts_text(who: &str, posts: &[RecentPost]) -> (String, Vec<String>) {
    if posts.is_empty() {
        return (
            format!(
                "I have no posts from {who}: enrichment has not found an X account for them, or it has no recent posts."
            ),
            Vec::new(),
        );
    }
    let lines: Vec<String> = posts
        .iter()
        .map(|p| {
            format!(
                "{} (@{}): {}",
                p.posted_at.format("%Y-%m-%d"),
                p.handle,
                p.text
            )
        })
        .collect();
    let listed: Vec<String> = lines.iter().map(|l| format!("• {l}")).collect();
    (
        format!("{who}'s recent posts on X:\n{}", listed.join("\n")),
        lines,
    )
}

/// The tool's name, description and JSON schema.
pub fn tool_schemas() -> Vec<(&'static str, &'static str, Value)> {
    vec![(
        "recent_posts",
        "A contact's recent public posts on X (newest first, with dates), as stored by enrichment. Use it for 'what has Dana been posting about?'. Empty when the contact has no known X account.",
        json!({"type": "object", "properties": {
                "contact_id": {"type": "string", "description": "a contact id returned by another tool"}},
               "required": ["contact_id"], "additionalProperties": false}),
    )]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Arguments {
    contact_id: Uuid,
}

/// Runs the tool when `name` is its name; `None` otherwise.
pub async fn run_tool(
    scope: UserScope<'_>,
    name: &str,
    raw: &str,
) -> Option<Result<Value, DomainError>> {
    if name != "recent_posts" {
        return None;
    }
    Some(
        async {
            let a: Arguments = serde_json::from_str(raw)
                .map_err(|e| DomainError::invalid("arguments", e.to_string()))?;
            let posts = scope.contacts().recent_posts(a.contact_id, POSTS).await?;
            let posts: Vec<Value> = posts
                .into_iter()
                .map(|p| json!({"handle": p.handle, "text": p.text, "posted_at": p.posted_at}))
                .collect();
            Ok(json!({"posts": posts}))
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn questions_about_posts_name_the_person() {
        for (q, who) in [
            ("what has dana ito been posting about", "dana ito"),
            ("what's dana been tweeting lately", "dana"),
            ("what's sam posting on x", "sam"),
            ("what did sam lee post recently", "sam lee"),
            ("dana's recent posts", "dana"),
            (
                "show me the latest tweets from sam@acme.com",
                "sam@acme.com",
            ),
            ("recent posts by dana ito", "dana ito"),
        ] {
            assert_eq!(posting_about(q), Some(who), "{q}");
        }
        for q in [
            "what did dana say about the contract",
            "who's dana",
            "emails from dana",
        ] {
            assert_eq!(posting_about(q), None, "{q}");
        }
    }

    #[test]
    fn posts_are_listed_with_date_and_handle_or_the_reason_there_are_none() {
        let post = RecentPost {
            handle: "dana".into(),
            text: "Shipping the new API today".into(),
            posted_at: Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap(),
        };
        let (text, facts) = posts_text("Dana", &[post]);
        assert!(
            text.contains("2026-11-30 (@dana): Shipping the new API today"),
            "{text}"
        );
        assert_eq!(facts.len(), 1);
        let (none, facts) = posts_text("Dana", &[]);
        assert!(none.contains("no posts from Dana"), "{none}");
        assert!(facts.is_empty());
    }
}
