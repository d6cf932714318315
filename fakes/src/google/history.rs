//! The per-account change log behind `users.history.list`.
//!
//! Every mutation gets a history id strictly greater than the previous one,
//! with small deterministic gaps because Gmail documents its ids as "not
//! contiguous with random gaps" and clients must not assume `+1`. Records
//! older than the retention window are dropped; asking for a start id from
//! before the oldest retained record answers 404, exactly the signal that
//! tells a Gmail client to fall back to a full sync.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::faults::mix;

/// What happened to one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Added,
    Deleted,
    LabelsAdded(Vec<String>),
    LabelsRemoved(Vec<String>),
}

impl Change {
    /// The `historyTypes` value that selects this change.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Change::Added => "messageAdded",
            Change::Deleted => "messageDeleted",
            Change::LabelsAdded(_) => "labelAdded",
            Change::LabelsRemoved(_) => "labelRemoved",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub id: u64,
    at: Instant,
    pub message_id: u64,
    pub thread_id: u64,
    /// The message's labels right after the change.
    pub labels: Vec<String>,
    pub change: Change,
}

pub(crate) struct HistoryLog {
    current: u64,
    /// Smallest `startHistoryId` still answerable.
    floor: u64,
    records: VecDeque<Record>,
    retention: Duration,
    gap_seed: u64,
}

/// The start id is older than what is retained.
#[derive(Debug)]
pub(crate) struct Expired;

impl HistoryLog {
    pub(crate) fn new(start: u64, retention: Duration, gap_seed: u64) -> Self {
        HistoryLog {
            current: start,
            floor: start,
            records: VecDeque::new(),
            retention,
            gap_seed,
        }
    }

    pub(crate) fn current(&self) -> u64 {
        self.current
    }

    /// Allocates the next history id (gap of 1..=8).
    pub(crate) fn next_id(&mut self) -> u64 {
        self.current += 1 + mix(self.gap_seed ^ self.current) % 8;
        self.current
    }

    /// Stores a record under the id last returned by [`HistoryLog::next_id`].
    pub(crate) fn push(
        &mut self,
        message_id: u64,
        thread_id: u64,
        labels: Vec<String>,
        change: Change,
    ) {
        self.records.push_back(Record {
            id: self.current,
            at: Instant::now(),
            message_id,
            thread_id,
            labels,
            change,
        });
    }

    /// Forgets everything: any earlier start id now answers 404.
    pub(crate) fn expire(&mut self) {
        self.records.clear();
        self.floor = self.current;
    }

    fn prune(&mut self) {
        while let Some(first) = self.records.front() {
            if first.at.elapsed() <= self.retention {
                break;
            }
            self.floor = first.id;
            self.records.pop_front();
        }
    }

    /// Records with `id > start`, oldest first. A start id equal to the
    /// current id is valid (nothing happened since); ids beyond the current
    /// one are treated like Gmail does with unknown ids: not found.
    pub(crate) fn since(&mut self, start: u64) -> Result<impl Iterator<Item = &Record>, Expired> {
        self.prune();
        if start < self.floor || start > self.current {
            return Err(Expired);
        }
        let first = self.records.partition_point(|r| r.id <= start);
        Ok(self.records.range(first..))
    }
}

/// Gmail's JSON for one history record.
fn record_json(r: &Record) -> serde_json::Value {
    use super::store::format_id;
    use serde_json::json;
    let brief = json!({"id": format_id(r.message_id), "threadId": format_id(r.thread_id)});
    let full = json!({
        "id": format_id(r.message_id),
        "threadId": format_id(r.thread_id),
        "labelIds": r.labels,
    });
    let mut out = json!({"id": r.id.to_string(), "messages": [brief]});
    match &r.change {
        Change::Added => out["messagesAdded"] = json!([{"message": full}]),
        Change::Deleted => out["messagesDeleted"] = json!([{"message": full}]),
        Change::LabelsAdded(l) => out["labelsAdded"] = json!([{"message": full, "labelIds": l}]),
        Change::LabelsRemoved(l) => {
            out["labelsRemoved"] = json!([{"message": full, "labelIds": l}])
        }
    }
    out
}

/// `GET /gmail/v1/users/{userId}/history`
pub(crate) async fn list(
    axum::extract::State(shared): axum::extract::State<std::sync::Arc<super::state::Shared>>,
    axum::extract::Path(user_id): axum::extract::Path<String>,
    axum::extract::Query(params): axum::extract::Query<super::gmail::Params>,
    headers: axum::http::HeaderMap,
) -> super::gmail::ApiResult {
    use super::errors::ApiError;
    use super::gmail::{gate, max_results, param, params_all};
    use serde_json::json;

    let caller = gate(&shared, &headers, &user_id, "users.history.list").await?;
    let start: u64 = param(&params, "startHistoryId")
        .ok_or_else(|| ApiError::invalid_argument("Missing required parameter: startHistoryId"))?
        .parse()
        .map_err(|_| ApiError::invalid_argument("Invalid startHistoryId"))?;
    let max = max_results(&params)?;
    let types = params_all(&params, "historyTypes");
    let label = param(&params, "labelId");
    // The token is the last record id already returned, scrambled.
    let after = match param(&params, "pageToken").filter(|t| !t.is_empty()) {
        Some(t) => u64::from_str_radix(t, 16)
            .map(|v| v ^ mix(start))
            .map_err(|_| ApiError::invalid_argument("Invalid pageToken"))?,
        None => start,
    };
    let mut store = shared.accounts[caller.account].store();
    let current = store.history.current();
    let records = store
        .history
        .since(start)
        .map_err(|Expired| ApiError::not_found())?;
    let mut page = Vec::new();
    let mut more = false;
    for r in records.filter(|r| r.id > after) {
        let type_ok = types.is_empty() || types.iter().any(|t| t == r.change.type_name());
        let label_ok = label.is_none_or(|l| {
            r.labels.iter().any(|x| x == l)
                || matches!(&r.change, Change::LabelsAdded(c) | Change::LabelsRemoved(c) if c.iter().any(|x| x == l))
        });
        if !(type_ok && label_ok) {
            continue;
        }
        if page.len() == max {
            more = true;
            break;
        }
        page.push(r);
    }
    let mut body = json!({"historyId": current.to_string()});
    if more {
        let last = page.last().map_or(after, |r| r.id);
        body["nextPageToken"] = json!(format!("{:016x}", last ^ mix(start)));
    }
    if !page.is_empty() {
        body["history"] = page.into_iter().map(record_json).collect();
    }
    Ok(axum::Json(body))
}
