//! One account's mailbox as Gmail models it: messages with stable ids,
//! threads, labels and a history log.
//!
//! Generated mailboxes keep ~80 bytes of metadata per message (ids, date,
//! label indices, the index to re-render from) and render bytes only when a
//! message is fetched, so 100,000 messages cost a few megabytes. Deleted
//! messages stay as tombstones so list positions — and therefore page
//! tokens — never shift.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io;
use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;

use super::config::MailboxSource;
use super::faults::mix;
use super::history::{Change, HistoryLog};
use super::mime_tree::{header, parse_headers};
use super::sources::{self, Imported};
use crate::mailbox::{MAX_MESSAGES, Mailbox};

/// Gmail's system labels, in the order `labels.list` returns them.
pub(crate) const SYSTEM_LABELS: &[&str] = &[
    "CHAT",
    "SENT",
    "INBOX",
    "IMPORTANT",
    "TRASH",
    "DRAFT",
    "SPAM",
    "CATEGORY_FORUMS",
    "CATEGORY_UPDATES",
    "CATEGORY_PERSONAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_SOCIAL",
    "STARRED",
    "UNREAD",
];

pub(crate) struct Label {
    pub id: String,
    pub name: String,
    pub system: bool,
}

enum Body {
    Generated(u32),
    Stored(Arc<[u8]>),
}

struct Entry {
    id: u64,
    thread_id: u64,
    internal_ms: i64,
    /// History id of the last change to this message.
    history_id: u64,
    /// Sorted indices into `Store::labels`.
    labels: Box<[u16]>,
    body: Body,
    deleted: bool,
}

/// What one render of a generated message contributes to the store.
struct Rendered {
    id: u64,
    thread_id: u64,
    internal_ms: i64,
    labels: Vec<String>,
    message_id_key: Option<u64>,
}

/// Where a message's bytes come from; rendering happens outside the lock.
pub(crate) enum Raw {
    Generated(Arc<Mailbox>, usize),
    Stored(Arc<[u8]>),
}

impl Raw {
    pub(crate) fn bytes(&self) -> Arc<[u8]> {
        match self {
            Raw::Generated(mailbox, index) => mailbox.message(*index).raw.into(),
            Raw::Stored(bytes) => bytes.clone(),
        }
    }
}

/// A snapshot of one message, detached from the store.
pub(crate) struct MessageInfo {
    pub id: u64,
    pub thread_id: u64,
    pub internal_ms: i64,
    pub history_id: u64,
    pub labels: Vec<String>,
    pub raw: Raw,
}

/// A resolved `messages.list` query.
#[derive(Default, Hash)]
pub(crate) struct Filter {
    pub required: Vec<u16>,
    pub excluded: Vec<u16>,
    pub after_ms: Option<i64>,
    pub before_ms: Option<i64>,
    /// Set when the query names a label that does not exist.
    pub match_nothing: bool,
}

impl Filter {
    fn matches(&self, e: &Entry) -> bool {
        !e.deleted
            && !self.match_nothing
            && self
                .required
                .iter()
                .all(|l| e.labels.binary_search(l).is_ok())
            && !self
                .excluded
                .iter()
                .any(|l| e.labels.binary_search(l).is_ok())
            && self.after_ms.is_none_or(|t| e.internal_ms >= t)
            && self.before_ms.is_none_or(|t| e.internal_ms < t)
    }
}

pub(crate) struct Page {
    /// `(message id, thread id)`, newest first.
    pub ids: Vec<(u64, u64)>,
    /// Position to continue below, when more matches remain.
    pub next: Option<usize>,
    pub estimate: usize,
}

pub(crate) struct Store {
    generator: Option<Arc<Mailbox>>,
    entries: Vec<Entry>,
    by_id: HashMap<u64, usize>,
    /// Hash of a Message-ID header → thread id, for threading new mail.
    by_message_id: HashMap<u64, u64>,
    thread_live: HashMap<u64, u32>,
    labels: Vec<Label>,
    live: usize,
    next_user_label: u32,
    pub history: HistoryLog,
}

pub(crate) fn format_id(id: u64) -> String {
    format!("{id:016x}")
}

/// Gmail ids are hex; anything else is a malformed id, not a missing one.
pub(crate) fn parse_id(id: &str) -> Option<u64> {
    if id.is_empty() || id.len() > 16 {
        return None;
    }
    u64::from_str_radix(id, 16).ok()
}

fn key_of(message_id: &str) -> Option<u64> {
    let trimmed = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    if trimmed.is_empty() {
        return None;
    }
    let mut h = DefaultHasher::new();
    trimmed.hash(&mut h);
    Some(h.finish())
}

/// Every `<...>` token of a header such as References.
fn reference_keys(value: &str) -> Vec<u64> {
    value
        .split('<')
        .skip(1)
        .filter_map(|s| s.split_once('>'))
        .filter_map(|(id, _)| key_of(id))
        .collect()
}

impl Store {
    fn empty(generator: Option<Arc<Mailbox>>, retention: Duration, seed: u64) -> Store {
        Store {
            generator,
            entries: Vec::new(),
            by_id: HashMap::new(),
            by_message_id: HashMap::new(),
            thread_live: HashMap::new(),
            labels: SYSTEM_LABELS
                .iter()
                .map(|id| Label {
                    id: id.to_string(),
                    name: id.to_string(),
                    system: true,
                })
                .collect(),
            live: 0,
            next_user_label: 1,
            history: HistoryLog::new(0, retention, seed),
        }
    }

    /// Builds the store; generated mailboxes are rendered once (in
    /// parallel) to learn each message's labels, thread and Message-ID.
    pub(crate) fn load(
        source: &MailboxSource,
        retention: Duration,
        seed: u64,
    ) -> io::Result<Store> {
        let mut store = match source {
            MailboxSource::Generated(spec) => {
                if !(2..=MAX_MESSAGES).contains(&spec.messages) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("messages must be within 2..={MAX_MESSAGES}"),
                    ));
                }
                Store::from_generated(Arc::new(Mailbox::generate(spec)), retention, seed)
            }
            MailboxSource::Mbox(path) => {
                Store::from_imported(sources::read_mbox(path)?, retention, seed)
            }
            MailboxSource::Maildir(path) => {
                Store::from_imported(sources::read_maildir(path)?, retention, seed)
            }
        };
        // Start where a mailbox that received these messages one by one would be.
        let start = 1_000 + store.entries.len() as u64 * 3;
        store.history = HistoryLog::new(start, retention, seed);
        for e in &mut store.entries {
            e.history_id = start;
        }
        Ok(store)
    }

    fn from_generated(mailbox: Arc<Mailbox>, retention: Duration, seed: u64) -> Store {
        let n = mailbox.len();
        let workers = std::thread::available_parallelism().map_or(1, |p| p.get().min(8));
        let chunk = n.div_ceil(workers);
        let rendered: Vec<Rendered> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let mailbox = &mailbox;
                    s.spawn(move || {
                        (w * chunk..((w + 1) * chunk).min(n))
                            .map(|i| {
                                let m = mailbox.message(i);
                                let headers = parse_headers(&m.raw);
                                Rendered {
                                    id: parse_id(&m.id).expect("generator ids are hex"),
                                    thread_id: parse_id(&m.thread_id)
                                        .expect("generator ids are hex"),
                                    internal_ms: m.internal_date.timestamp_millis(),
                                    labels: m.label_ids,
                                    message_id_key: header(&headers, "Message-ID").and_then(key_of),
                                }
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("render worker"))
                .collect()
        });
        let mut store = Store::empty(Some(mailbox), retention, seed);
        for (index, r) in rendered.into_iter().enumerate() {
            if let Some(key) = r.message_id_key {
                store.by_message_id.insert(key, r.thread_id);
            }
            let labels = store.label_set(&r.labels);
            store.insert(Entry {
                id: r.id,
                thread_id: r.thread_id,
                internal_ms: r.internal_ms,
                history_id: 0,
                labels,
                body: Body::Generated(index as u32),
                deleted: false,
            });
        }
        store
    }

    fn from_imported(mut messages: Vec<Imported>, retention: Duration, seed: u64) -> Store {
        let date_of = |raw: &[u8]| {
            header(&parse_headers(raw), "Date")
                .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
                .map(|d| d.timestamp_millis())
        };
        let mut dated: Vec<(i64, Imported)> = Vec::with_capacity(messages.len());
        let mut last = 0;
        for m in messages.drain(..) {
            last = date_of(&m.raw).unwrap_or(last);
            dated.push((last, m));
        }
        dated.sort_by_key(|(ms, _)| *ms);
        let mut store = Store::empty(None, retention, seed);
        for (ms, m) in dated {
            store.add(m.raw, &m.labels, ms);
        }
        store
    }

    fn insert(&mut self, entry: Entry) {
        self.by_id.insert(entry.id, self.entries.len());
        *self.thread_live.entry(entry.thread_id).or_default() += 1;
        self.live += 1;
        self.entries.push(entry);
    }

    /// Adds a message at the newest end; returns its position. The id is
    /// time-based like Gmail's and strictly greater than every earlier one,
    /// and replies join the thread of the message they reference.
    fn add(&mut self, raw: Vec<u8>, labels: &[String], at_ms: i64) -> usize {
        let last = self.entries.last();
        let internal_ms = last.map_or(at_ms, |e| e.internal_ms.max(at_ms));
        let time_id =
            ((internal_ms.max(0) as u64) << 20) | (mix(self.entries.len() as u64) & 0xF_FFFF);
        let id = last.map_or(time_id, |e| time_id.max(e.id + 1));
        let headers = parse_headers(&raw);
        let thread_id = header(&headers, "In-Reply-To")
            .into_iter()
            .chain(header(&headers, "References"))
            .flat_map(|v| reference_keys(v).into_iter().rev())
            .find_map(|k| self.by_message_id.get(&k).copied())
            .unwrap_or(id);
        if let Some(key) = header(&headers, "Message-ID").and_then(key_of) {
            self.by_message_id.insert(key, thread_id);
        }
        let labels = self.label_set(labels);
        self.insert(Entry {
            id,
            thread_id,
            internal_ms,
            history_id: self.history.current(),
            labels,
            body: Body::Stored(raw.into()),
            deleted: false,
        });
        self.entries.len() - 1
    }

    /// Resolves label ids or names, creating user labels for unknown names.
    fn label_set(&mut self, labels: &[String]) -> Box<[u16]> {
        let mut set: Vec<u16> = labels.iter().map(|l| self.ensure_label(l)).collect();
        set.sort_unstable();
        set.dedup();
        set.into()
    }

    /// A label by id (system ids case-insensitively) or by display name.
    pub(crate) fn resolve_label(&self, key: &str) -> Option<u16> {
        self.labels
            .iter()
            .position(|l| {
                l.id == key
                    || (l.system && l.id.eq_ignore_ascii_case(key))
                    || l.name.eq_ignore_ascii_case(key)
                    || l.name.replace(' ', "-").eq_ignore_ascii_case(key)
            })
            .map(|i| i as u16)
    }

    fn ensure_label(&mut self, key: &str) -> u16 {
        if let Some(i) = self.resolve_label(key) {
            return i;
        }
        self.labels.push(Label {
            id: format!("Label_{}", self.next_user_label),
            name: key.to_string(),
            system: false,
        });
        self.next_user_label += 1;
        (self.labels.len() - 1) as u16
    }

    pub(crate) fn labels(&self) -> &[Label] {
        &self.labels
    }

    fn label_ids(&self, set: &[u16]) -> Vec<String> {
        set.iter()
            .map(|&i| self.labels[i as usize].id.clone())
            .collect()
    }

    pub(crate) fn messages_total(&self) -> usize {
        self.live
    }

    pub(crate) fn threads_total(&self) -> usize {
        self.thread_live.len()
    }

    fn info(&self, pos: usize) -> MessageInfo {
        let e = &self.entries[pos];
        MessageInfo {
            id: e.id,
            thread_id: e.thread_id,
            internal_ms: e.internal_ms,
            history_id: e.history_id,
            labels: self.label_ids(&e.labels),
            raw: match &e.body {
                Body::Generated(i) => Raw::Generated(
                    self.generator
                        .clone()
                        .expect("generated entries have a generator"),
                    *i as usize,
                ),
                Body::Stored(bytes) => Raw::Stored(bytes.clone()),
            },
        }
    }

    pub(crate) fn get(&self, id: u64) -> Option<MessageInfo> {
        self.by_id.get(&id).map(|&pos| self.info(pos))
    }

    /// One page of matches below position `below` (exclusive), newest first.
    pub(crate) fn list(&self, filter: &Filter, below: Option<usize>, max: usize) -> Page {
        let mut pos = below.unwrap_or(self.entries.len()).min(self.entries.len());
        let mut ids = Vec::with_capacity(max.min(512));
        while pos > 0 && ids.len() < max {
            pos -= 1;
            let e = &self.entries[pos];
            if filter.matches(e) {
                ids.push((e.id, e.thread_id));
            }
        }
        let more = self.entries[..pos].iter().any(|e| filter.matches(e));
        Page {
            ids,
            next: more.then_some(pos),
            estimate: self.entries.iter().filter(|e| filter.matches(e)).count(),
        }
    }

    /// Appends a message as delivered at `at_ms` and records `messageAdded`.
    pub(crate) fn append(&mut self, raw: Vec<u8>, labels: &[String], at_ms: i64) -> MessageInfo {
        self.history.next_id();
        let pos = self.add(raw, labels, at_ms);
        let e = &self.entries[pos];
        let (id, thread_id, labels) = (e.id, e.thread_id, self.label_ids(&e.labels));
        self.history.push(id, thread_id, labels, Change::Added);
        self.info(pos)
    }

    /// Permanently deletes, as `messages.delete` does; `None` if unknown.
    pub(crate) fn delete(&mut self, id: u64) -> Option<()> {
        let pos = self.by_id.remove(&id)?;
        let history_id = self.history.next_id();
        let e = &mut self.entries[pos];
        e.deleted = true;
        e.history_id = history_id;
        let (thread_id, set) = (e.thread_id, e.labels.clone());
        self.live -= 1;
        if let Some(n) = self.thread_live.get_mut(&thread_id) {
            *n -= 1;
            if *n == 0 {
                self.thread_live.remove(&thread_id);
            }
        }
        let labels = self.label_ids(&set);
        self.history.push(id, thread_id, labels, Change::Deleted);
        Some(())
    }

    /// Adds then removes labels, recording one history entry per direction
    /// that actually changed something (Gmail records no-ops as nothing).
    pub(crate) fn modify(
        &mut self,
        id: u64,
        add: &[String],
        remove: &[String],
    ) -> Option<MessageInfo> {
        let pos = *self.by_id.get(&id)?;
        let add: Vec<u16> = add.iter().map(|l| self.ensure_label(l)).collect();
        let remove: Vec<u16> = remove
            .iter()
            .filter_map(|l| self.resolve_label(l))
            .collect();
        let mut set = self.entries[pos].labels.to_vec();
        let added: Vec<u16> = add.iter().copied().filter(|l| !set.contains(l)).collect();
        set.extend(&added);
        set.sort_unstable();
        set.dedup();
        let removed: Vec<u16> = remove.iter().copied().filter(|l| set.contains(l)).collect();
        set.retain(|l| !removed.contains(l));
        let thread_id = self.entries[pos].thread_id;
        let now = self.label_ids(&set);
        for (changed, make) in [
            (added, Change::LabelsAdded as fn(Vec<String>) -> Change),
            (removed, Change::LabelsRemoved),
        ] {
            if !changed.is_empty() {
                self.entries[pos].history_id = self.history.next_id();
                let names = self.label_ids(&changed);
                self.history.push(id, thread_id, now.clone(), make(names));
            }
        }
        self.entries[pos].labels = set.into();
        Some(self.info(pos))
    }
}
