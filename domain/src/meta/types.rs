//! Graph's answers read into types by pure functions: a page of conversations or of
//! messages, with the `paging.next` URL when more follow.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::graph::GraphError;

/// A participant: Messenger gives `name`, Instagram `username`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Person {
    pub id: String,
    #[serde(alias = "username", default)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphConversation {
    pub id: String,
    pub updated_time: DateTime<Utc>,
    pub participants: Vec<Person>,
}

/// A message; `from` and `text` are absent for messages older than the 20 most recent
/// of their conversation, which Graph lists without details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphMessage {
    pub id: String,
    pub created_time: DateTime<Utc>,
    pub from: Option<Person>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphPage<T> {
    pub data: Vec<T>,
    pub next: Option<String>,
}

/// Graph's `2026-12-04T10:15:30+0000` (or RFC 3339).
pub fn parse_graph_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn decode(what: &str) -> GraphError {
    GraphError::Decode(format!("a {what} without a valid id or time"))
}

fn page<T>(
    body: &Value,
    what: &str,
    item: impl Fn(&Value) -> Option<T>,
) -> Result<GraphPage<T>, GraphError> {
    let data = body["data"]
        .as_array()
        .ok_or_else(|| GraphError::Decode(format!("a {what} list without data")))?
        .iter()
        .map(|v| item(v).ok_or_else(|| decode(what)))
        .collect::<Result<Vec<_>, _>>()?;
    let next = body["paging"]["next"].as_str().map(str::to_owned);
    Ok(GraphPage { data, next })
}

pub fn parse_conversations(body: &Value) -> Result<GraphPage<GraphConversation>, GraphError> {
    page(body, "conversation", |v| {
        Some(GraphConversation {
            id: v["id"].as_str()?.to_owned(),
            updated_time: parse_graph_time(v["updated_time"].as_str()?)?,
            participants: serde_json::from_value(v["participants"]["data"].clone())
                .unwrap_or_default(),
        })
    })
}

pub fn parse_messages(body: &Value) -> Result<GraphPage<GraphMessage>, GraphError> {
    page(body, "message", |v| {
        Some(GraphMessage {
            id: v["id"].as_str()?.to_owned(),
            created_time: parse_graph_time(v["created_time"].as_str()?)?,
            from: serde_json::from_value(v["from"].clone()).ok(),
            text: v["message"].as_str().map(str::to_owned),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_of_conversations_and_messages_parse() {
        let body = json!({"data": [{"id": "t_1", "updated_time": "2026-12-04T10:15:30+0000",
            "participants": {"data": [{"username": "ana.ig", "id": "ig-1"}, {"name": "Shop", "id": "p"}]}}],
            "paging": {"cursors": {"before": "a", "after": "b"}, "next": "http://g/next"}});
        let page = parse_conversations(&body).unwrap();
        assert_eq!(page.next.as_deref(), Some("http://g/next"));
        assert_eq!(page.data[0].participants[0].name, "ana.ig");
        let messages = json!({"data": [
            {"id": "m_1", "created_time": "2026-12-04T10:15:30+0000", "from": {"name": "Ana", "id": "1"}, "message": "hola"},
            {"id": "m_0", "created_time": "2026-12-01T10:15:30+0000"}]});
        let page = parse_messages(&messages).unwrap();
        assert_eq!(page.next, None);
        assert_eq!(page.data[0].text.as_deref(), Some("hola"));
        assert_eq!(page.data[1].from, None);
        assert!(parse_messages(&json!({"data": [{"id": "x"}]})).is_err());
        assert!(parse_messages(&json!({"error": {}})).is_err());
    }
}
