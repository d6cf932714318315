//! Ask about what a contact has been posting: the `recent_posts` tool reads the X posts
//! enrichment stored (see `domain::enrichment`), so "what has Dana been posting
//! about?" is answered from the posts, each with its date.

use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{DomainError, UserScope};

/// Posts the tool returns.
const POSTS: i64 = 10;

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
