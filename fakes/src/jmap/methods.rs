//! The methods, each answering what RFC 8620/8621 specify for the arguments a sync
//! client sends, and a method-level error (RFC 8620 section 3.6.2) for anything else.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::store::{JmapEmail, JmapMailbox, Store};

/// `maxObjectsInGet` and `maxObjectsInSet`.
pub(super) const MAX_OBJECTS: usize = 500;

/// A method-level error: `["error", {"type": ..., "description": ...}, callId]`.
pub(super) struct MethodError {
    kind: &'static str,
    description: String,
}

impl MethodError {
    fn new(kind: &'static str, description: impl Into<String>) -> Self {
        Self {
            kind,
            description: description.into(),
        }
    }

    fn invalid(description: impl Into<String>) -> Self {
        Self::new("invalidArguments", description)
    }

    pub(super) fn to_json(&self) -> Value {
        json!({ "type": self.kind, "description": self.description })
    }
}

type MethodResult = Result<Value, MethodError>;

/// Replaces `#name` arguments by the values their result references point at
/// (RFC 8620 section 3.7), `*` in a path mapping over an array.
pub(super) fn resolve_references(args: &Value, responses: &[Value]) -> Result<Value, MethodError> {
    let Some(object) = args.as_object() else {
        return Err(MethodError::invalid("arguments must be an object"));
    };
    let mut resolved = Map::new();
    for (key, value) in object {
        let Some(name) = key.strip_prefix('#') else {
            resolved.insert(key.clone(), value.clone());
            continue;
        };
        let field = |f: &str| value.get(f).and_then(Value::as_str);
        let (Some(result_of), Some(method), Some(path)) =
            (field("resultOf"), field("name"), field("path"))
        else {
            return Err(MethodError::invalid(format!(
                "{key} is not a ResultReference"
            )));
        };
        let target = responses
            .iter()
            .find(|r| r[2] == result_of && r[0] == method)
            .ok_or_else(|| {
                MethodError::invalid(format!("no {method} response with call id {result_of}"))
            })?;
        let found = pointer(&target[1], path).ok_or_else(|| {
            MethodError::invalid(format!("path {path} matches nothing in {result_of}"))
        })?;
        resolved.insert(name.to_owned(), found);
    }
    Ok(Value::Object(resolved))
}

/// A JSON pointer where `*` maps the rest of the path over an array (flattening).
fn pointer(value: &Value, path: &str) -> Option<Value> {
    let path = path.strip_prefix('/')?;
    let (head, rest) = path
        .split_once('/')
        .map_or((path, None), |(h, r)| (h, Some(r)));
    let next = |v: &Value| match rest {
        Some(rest) => pointer(v, &format!("/{rest}")),
        None => Some(v.clone()),
    };
    if head == "*" {
        let mut out = Vec::new();
        for item in value.as_array()? {
            match next(item)? {
                Value::Array(items) => out.extend(items),
                other => out.push(other),
            }
        }
        return Some(Value::Array(out));
    }
    let child = match value {
        Value::Object(map) => map.get(head)?,
        Value::Array(items) => items.get(head.parse::<usize>().ok()?)?,
        _ => return None,
    };
    next(child)
}

impl Store {
    pub(super) fn call(&mut self, name: &str, args: &Value) -> MethodResult {
        let account_id = self.account_id();
        if args.get("accountId").and_then(Value::as_str) != Some(account_id.as_str()) {
            return Err(MethodError::new(
                "accountNotFound",
                format!("accountId must be {account_id}"),
            ));
        }
        match name {
            "Mailbox/get" => self.mailbox_get(args),
            "Mailbox/set" => self.mailbox_set(args),
            "Email/query" => self.email_query(args),
            "Email/get" => self.email_get(args),
            "Email/set" => self.email_set(args),
            _ => Err(MethodError::new(
                "unknownMethod",
                format!("{name} is not supported"),
            )),
        }
    }

    fn ids_argument(&self, args: &Value) -> Result<Option<Vec<String>>, MethodError> {
        match args.get("ids") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(ids)) => {
                if ids.len() > MAX_OBJECTS {
                    return Err(MethodError::new(
                        "requestTooLarge",
                        format!("at most {MAX_OBJECTS} ids"),
                    ));
                }
                ids.iter()
                    .map(|id| {
                        id.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| MethodError::invalid("ids must be strings"))
                    })
                    .collect::<Result<_, _>>()
                    .map(Some)
            }
            Some(_) => Err(MethodError::invalid("ids must be an array or null")),
        }
    }

    fn mailbox_json(&self, mailbox: &JmapMailbox) -> Value {
        let inside: Vec<&JmapEmail> = self
            .account
            .emails
            .iter()
            .filter(|e| e.mailbox_ids.contains(&mailbox.id))
            .collect();
        let unread = inside
            .iter()
            .filter(|e| !e.keywords.contains("$seen"))
            .count();
        json!({
            "id": mailbox.id, "name": mailbox.name, "parentId": null, "role": mailbox.role,
            "sortOrder": 0, "totalEmails": inside.len(), "unreadEmails": unread,
            "totalThreads": inside.len(), "unreadThreads": unread, "isSubscribed": true,
            "myRights": {
                "mayReadItems": true, "mayAddItems": true, "mayRemoveItems": true,
                "maySetSeen": true, "maySetKeywords": true, "mayCreateChild": true,
                "mayRename": true, "mayDelete": true, "maySubmit": true
            }
        })
    }

    fn mailbox_get(&self, args: &Value) -> MethodResult {
        let ids = self.ids_argument(args)?;
        let mut list = Vec::new();
        let mut not_found = Vec::new();
        match ids {
            None => list.extend(self.account.mailboxes.iter().map(|m| self.mailbox_json(m))),
            Some(ids) => {
                for id in ids {
                    match self.account.mailboxes.iter().find(|m| m.id == id) {
                        Some(m) => list.push(self.mailbox_json(m)),
                        None => not_found.push(id),
                    }
                }
            }
        }
        Ok(json!({
            "accountId": self.account_id(), "state": self.state(),
            "list": list, "notFound": not_found
        }))
    }

    fn mailbox_set(&mut self, args: &Value) -> MethodResult {
        let old_state = self.state();
        let mut created = Map::new();
        let mut not_created = Map::new();
        if let Some(create) = args.get("create").and_then(Value::as_object) {
            for (key, mailbox) in create {
                let name = mailbox
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if name.is_empty() {
                    not_created.insert(
                        key.clone(),
                        json!({"type": "invalidProperties", "properties": ["name"]}),
                    );
                } else if self.account.mailboxes.iter().any(|m| m.name == name) {
                    not_created.insert(
                        key.clone(),
                        json!({"type": "alreadyExists", "description": format!("a mailbox named {name} exists")}),
                    );
                } else {
                    let id = self.new_mailbox_id();
                    self.account.mailboxes.push(JmapMailbox {
                        id: id.clone(),
                        name: name.to_owned(),
                        role: None,
                    });
                    created.insert(key.clone(), json!({ "id": id }));
                }
            }
        }
        if !created.is_empty() {
            self.version += 1;
        }
        Ok(json!({
            "accountId": self.account_id(), "oldState": old_state, "newState": self.state(),
            "created": created, "notCreated": not_created,
            "updated": null, "notUpdated": null, "destroyed": null, "notDestroyed": null
        }))
    }

    fn email_query(&self, args: &Value) -> MethodResult {
        let filter = args.get("filter").cloned().unwrap_or(Value::Null);
        let ascending = match args.get("sort") {
            None | Some(Value::Null) => false,
            Some(Value::Array(sort)) => {
                let mut ascending = false;
                for comparator in sort {
                    if comparator.get("property").and_then(Value::as_str) != Some("receivedAt") {
                        return Err(MethodError::new(
                            "unsupportedSort",
                            "only receivedAt is sortable",
                        ));
                    }
                    ascending = comparator
                        .get("isAscending")
                        .and_then(Value::as_bool)
                        .unwrap_or(true);
                }
                ascending
            }
            Some(_) => return Err(MethodError::invalid("sort must be an array")),
        };
        let mut matching: Vec<&JmapEmail> = Vec::new();
        for email in &self.account.emails {
            if matches(&filter, email)? {
                matching.push(email);
            }
        }
        matching.sort_by(|a, b| (a.received_at, &a.id).cmp(&(b.received_at, &b.id)));
        if !ascending {
            matching.reverse();
        }
        let position = args.get("position").and_then(Value::as_u64).unwrap_or(0) as usize;
        let limit = args
            .get("limit")
            .and_then(Value::as_u64)
            .map_or(MAX_OBJECTS, |l| (l as usize).min(MAX_OBJECTS));
        let ids: Vec<&str> = matching
            .iter()
            .skip(position)
            .take(limit)
            .map(|e| e.id.as_str())
            .collect();
        let mut response = json!({
            "accountId": self.account_id(), "queryState": self.state(),
            "canCalculateChanges": false, "position": position, "ids": ids, "limit": limit
        });
        if args.get("calculateTotal").and_then(Value::as_bool) == Some(true) {
            response["total"] = json!(matching.len());
        }
        Ok(response)
    }

    fn email_get(&self, args: &Value) -> MethodResult {
        let ids = self.ids_argument(args)?.unwrap_or_else(|| {
            self.account
                .emails
                .iter()
                .take(MAX_OBJECTS)
                .map(|e| e.id.clone())
                .collect()
        });
        let properties: Option<Vec<&str>> = args
            .get("properties")
            .and_then(Value::as_array)
            .map(|p| p.iter().filter_map(Value::as_str).collect());
        let flag = |name: &str| args.get(name).and_then(Value::as_bool).unwrap_or(false);
        let body_values = flag("fetchTextBodyValues")
            || flag("fetchHTMLBodyValues")
            || flag("fetchAllBodyValues");
        let mut list = Vec::new();
        let mut not_found = Vec::new();
        for id in ids {
            match self.index.get(&id) {
                Some(&i) => {
                    let full = email_json(&self.account.emails[i], body_values);
                    list.push(match &properties {
                        Some(props) => {
                            let mut picked = Map::new();
                            picked.insert("id".into(), full["id"].clone());
                            for p in props {
                                if let Some(v) = full.get(*p) {
                                    picked.insert((*p).to_owned(), v.clone());
                                }
                            }
                            Value::Object(picked)
                        }
                        None => full,
                    });
                }
                None => not_found.push(id),
            }
        }
        Ok(json!({
            "accountId": self.account_id(), "state": self.state(),
            "list": list, "notFound": not_found
        }))
    }

    fn email_set(&mut self, args: &Value) -> MethodResult {
        let old_state = self.state();
        if let Some(expected) = args.get("ifInState").and_then(Value::as_str)
            && expected != old_state
        {
            return Err(MethodError::new(
                "stateMismatch",
                format!("state is {old_state}, not {expected}"),
            ));
        }
        if args.get("create").is_some_and(|c| !c.is_null()) {
            return Err(MethodError::new(
                "forbidden",
                "this server does not create messages",
            ));
        }
        let changes = ["create", "update"]
            .iter()
            .filter_map(|k| args.get(*k).and_then(Value::as_object))
            .map(Map::len)
            .sum::<usize>()
            + args
                .get("destroy")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
        if changes > MAX_OBJECTS {
            return Err(MethodError::new(
                "requestTooLarge",
                format!("at most {MAX_OBJECTS} objects in one Email/set"),
            ));
        }
        let mut updated = Map::new();
        let mut not_updated = Map::new();
        let mailbox_ids: BTreeSet<String> = self
            .account
            .mailboxes
            .iter()
            .map(|m| m.id.clone())
            .collect();
        if let Some(update) = args.get("update").and_then(Value::as_object) {
            for (id, patch) in update {
                let Some(&i) = self.index.get(id) else {
                    not_updated.insert(id.clone(), json!({"type": "notFound"}));
                    continue;
                };
                match apply_patch(&self.account.emails[i], patch, &mailbox_ids) {
                    Ok(email) => {
                        self.account.emails[i] = email;
                        updated.insert(id.clone(), Value::Null);
                    }
                    Err(error) => {
                        not_updated.insert(id.clone(), error);
                    }
                }
            }
        }
        let mut destroyed = Vec::new();
        let mut not_destroyed = Map::new();
        if let Some(destroy) = args.get("destroy").and_then(Value::as_array) {
            for id in destroy.iter().filter_map(Value::as_str) {
                if self.index.contains_key(id) {
                    destroyed.push(id.to_owned());
                } else {
                    not_destroyed.insert(id.to_owned(), json!({"type": "notFound"}));
                }
            }
            self.account.emails.retain(|e| !destroyed.contains(&e.id));
            self.index = self
                .account
                .emails
                .iter()
                .enumerate()
                .map(|(i, e)| (e.id.clone(), i))
                .collect();
        }
        if !updated.is_empty() || !destroyed.is_empty() {
            self.version += 1;
        }
        let or_null = |m: Map<String, Value>| {
            if m.is_empty() {
                Value::Null
            } else {
                Value::Object(m)
            }
        };
        Ok(json!({
            "accountId": self.account_id(), "oldState": old_state, "newState": self.state(),
            "created": null, "notCreated": null,
            "updated": or_null(updated), "notUpdated": or_null(not_updated),
            "destroyed": destroyed, "notDestroyed": or_null(not_destroyed)
        }))
    }
}

/// Whether `email` passes a FilterCondition or FilterOperator (RFC 8621 section 4.4.1).
fn matches(filter: &Value, email: &JmapEmail) -> Result<bool, MethodError> {
    let Some(condition) = filter.as_object() else {
        return Ok(true);
    };
    if let Some(operator) = condition.get("operator").and_then(Value::as_str) {
        let conditions = condition
            .get("conditions")
            .and_then(Value::as_array)
            .ok_or_else(|| MethodError::new("unsupportedFilter", "operator needs conditions"))?;
        let results = conditions
            .iter()
            .map(|c| matches(c, email))
            .collect::<Result<Vec<bool>, _>>()?;
        return match operator {
            "AND" => Ok(results.iter().all(|r| *r)),
            "OR" => Ok(results.iter().any(|r| *r)),
            "NOT" => Ok(!results.iter().any(|r| *r)),
            other => Err(MethodError::new(
                "unsupportedFilter",
                format!("unknown operator {other}"),
            )),
        };
    }
    for (property, value) in condition {
        let text = || {
            value.as_str().ok_or_else(|| {
                MethodError::new("unsupportedFilter", format!("{property} must be a string"))
            })
        };
        let date = || {
            text().and_then(|t| {
                DateTime::parse_from_rfc3339(t)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|_| {
                        MethodError::new(
                            "unsupportedFilter",
                            format!("{property} must be a UTCDate"),
                        )
                    })
            })
        };
        let passes = match property.as_str() {
            "inMailbox" => email.mailbox_ids.contains(text()?),
            "inMailboxOtherThan" => {
                let others: Vec<&str> = value
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                email
                    .mailbox_ids
                    .iter()
                    .any(|m| !others.contains(&m.as_str()))
            }
            "hasKeyword" => email.keywords.contains(text()?),
            "notKeyword" => !email.keywords.contains(text()?),
            "after" => email.received_at >= date()?,
            "before" => email.received_at < date()?,
            other => {
                return Err(MethodError::new(
                    "unsupportedFilter",
                    format!("filter property {other} is not supported"),
                ));
            }
        };
        if !passes {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Applies a PatchObject or full replacements of `keywords` / `mailboxIds`.
fn apply_patch(
    email: &JmapEmail,
    patch: &Value,
    mailboxes: &BTreeSet<String>,
) -> Result<JmapEmail, Value> {
    let invalid = |property: &str| json!({"type": "invalidPatch", "properties": [property]});
    let set_of = |value: &Value, property: &str| -> Result<BTreeSet<String>, Value> {
        value
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| **v == json!(true))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .ok_or_else(|| invalid(property))
    };
    let mut email = email.clone();
    let Some(patch) = patch.as_object() else {
        return Err(invalid(""));
    };
    for (path, value) in patch {
        match path.split_once('/') {
            None if path == "keywords" => email.keywords = set_of(value, path)?,
            None if path == "mailboxIds" => email.mailbox_ids = set_of(value, path)?,
            Some(("keywords", keyword)) => match value {
                Value::Bool(true) => {
                    email.keywords.insert(keyword.to_owned());
                }
                Value::Null | Value::Bool(false) => {
                    email.keywords.remove(keyword);
                }
                _ => return Err(invalid(path)),
            },
            Some(("mailboxIds", mailbox)) => match value {
                Value::Bool(true) => {
                    email.mailbox_ids.insert(mailbox.to_owned());
                }
                Value::Null | Value::Bool(false) => {
                    email.mailbox_ids.remove(mailbox);
                }
                _ => return Err(invalid(path)),
            },
            _ => return Err(invalid(path)),
        }
    }
    if email.mailbox_ids.is_empty() || !email.mailbox_ids.is_subset(mailboxes) {
        return Err(
            json!({"type": "invalidProperties", "properties": ["mailboxIds"],
            "description": "an email must be in at least one existing mailbox"}),
        );
    }
    Ok(email)
}

/// Every property the fake knows for `email`; bodies only when asked for.
fn email_json(email: &JmapEmail, body_values: bool) -> Value {
    let part = json!({
        "partId": "1", "blobId": format!("{}-1", email.id), "size": email.text.len(),
        "type": "text/plain", "charset": "utf-8", "disposition": null, "name": null
    });
    let preview: String = email.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let preview: String = preview.chars().take(256).collect();
    let mut json = json!({
        "id": email.id, "blobId": format!("{}-raw", email.id), "threadId": email.thread_id,
        "mailboxIds": email.mailbox_ids.iter().map(|m| (m.clone(), Value::Bool(true))).collect::<Map<_, _>>(),
        "keywords": email.keywords.iter().map(|k| (k.clone(), Value::Bool(true))).collect::<Map<_, _>>(),
        "size": email.text.len() + 512,
        "receivedAt": email.received_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "sentAt": email.received_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "messageId": [email.message_id],
        "inReplyTo": email.in_reply_to.as_ref().map(|r| vec![r]),
        "references": email.in_reply_to.as_ref().map(|r| vec![r]),
        "sender": null, "from": email.from, "to": email.to, "cc": email.cc,
        "bcc": null, "replyTo": null, "subject": email.subject,
        "hasAttachment": false, "preview": preview,
        "textBody": [part.clone()], "htmlBody": [part], "attachments": [],
        "bodyValues": {}
    });
    if body_values {
        json["bodyValues"] = json!({
            "1": { "value": email.text, "isEncodingProblem": false, "isTruncated": false }
        });
    }
    json
}
