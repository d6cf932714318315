//! Reading a user's live events as they commit, without missing one that commits out of
//! id order.
//!
//! Event ids come from a sequence when the row is inserted, but transactions commit in
//! their own order: a sync's transaction can take id 10, the processing's id 11, and the
//! processing commit first. A reader that only asked for ids above the last it sent would
//! skip 10 for good. So the feed reads above a *settled* id instead and skips the ids it
//! has already sent; an id is settled once every transaction that was running when it
//! was read has ended (the snapshot's `xmin` has passed that read's `xmax`), because only
//! such a transaction could still add an event below it. A late event is then sent after
//! newer ones, once; ids stay the rows' ids, so a browser resuming with `Last-Event-ID`
//! gets at worst an event twice, never a gap.

use std::collections::{BTreeSet, VecDeque};

use crate::db::scopes::EventsScope;
use crate::events::{EVENTS_PAGE, StoredEvent};

/// Ids sent above the settled one that a feed remembers at most. Past this (a
/// transaction held open for minutes keeps ids from settling) the feed settles anyway:
/// a stalled writer costs at worst the events it commits late, not unbounded memory.
const MAX_UNSETTLED: usize = 10_000;

/// One read of the feed: the user's unsent live events above the settled id, and the
/// snapshot they were read in.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRead {
    pub events: Vec<StoredEvent>,
    /// The oldest transaction still running when the events were read.
    pub oldest_running: i64,
    /// The first transaction id not yet assigned when the events were read.
    pub next_transaction: i64,
}

/// Where a live feed is: what is settled, what it sent above that, and the reads whose
/// ids settle once the transactions running during them have ended.
#[derive(Debug, Clone, Default)]
pub struct LiveCursor {
    settled: i64,
    sent: BTreeSet<i64>,
    /// `(next_transaction, newest sent)` of earlier reads, oldest first.
    settling: VecDeque<(i64, i64)>,
}

impl LiveCursor {
    /// A feed that has seen every event up to `id` (a resume's `Last-Event-ID`, or where
    /// the page was rendered).
    pub fn after(id: i64) -> Self {
        Self {
            settled: id,
            ..Self::default()
        }
    }

    /// The events of `read` to send, in id order, remembered as sent; then whatever
    /// the read's snapshot shows to be settled is forgotten.
    pub fn take(&mut self, read: FeedRead) -> Vec<StoredEvent> {
        let fresh: Vec<StoredEvent> = read
            .events
            .into_iter()
            .filter(|event| event.id > self.settled && self.sent.insert(event.id))
            .collect();
        self.settling
            .push_back((read.next_transaction, self.newest()));
        while let Some(&(next_transaction, newest)) = self.settling.front() {
            if next_transaction > read.oldest_running {
                break;
            }
            self.settled = self.settled.max(newest);
            self.settling.pop_front();
        }
        if self.sent.len() > MAX_UNSETTLED {
            self.settled = self.newest();
            self.settling.clear();
        }
        self.sent = self.sent.split_off(&(self.settled + 1));
        fresh
    }

    /// The newest id sent: ids above the settled one are kept until they settle.
    fn newest(&self) -> i64 {
        self.sent.last().copied().unwrap_or(self.settled)
    }
}

impl EventsScope<'_> {
    /// This user's live events above `cursor`'s settled id that it has not sent, oldest
    /// first, at most [`EVENTS_PAGE`], with the bounds of the snapshot they were read in
    /// (one statement, so both are the same snapshot).
    pub async fn live_events(self, cursor: &LiveCursor) -> Result<FeedRead, sqlx::Error> {
        let sent: Vec<i64> = cursor.sent.iter().copied().collect();
        let rows = sqlx::query!(
            r#"select e.id as "id?", e.kind as "kind?", e.data as "data?",
                      e.created_at as "created_at?",
                      pg_snapshot_xmin(pg_current_snapshot())::text::int8 as "oldest_running!",
                      pg_snapshot_xmax(pg_current_snapshot())::text::int8 as "next_transaction!"
               from (select) snapshot
               left join lateral (
                 select id, kind, data, created_at from events
                 where user_id = $1 and live and id > $2 and id <> all($3)
                 order by id limit $4
               ) e on true"#,
            self.user.0,
            cursor.settled,
            &sent,
            EVENTS_PAGE,
        )
        .fetch_all(self.pool)
        .await?;
        let (oldest_running, next_transaction) = rows
            .first()
            .map_or((0, 0), |row| (row.oldest_running, row.next_transaction));
        let events = rows
            .into_iter()
            .filter_map(|row| {
                Some(StoredEvent {
                    id: row.id?,
                    kind: row.kind?,
                    data: row.data?,
                    created_at: row.created_at?,
                })
            })
            .collect();
        Ok(FeedRead {
            events,
            oldest_running,
            next_transaction,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn event(id: i64) -> StoredEvent {
        StoredEvent {
            id,
            kind: "sync.progress".into(),
            data: serde_json::Value::Null,
            created_at: Utc::now(),
        }
    }

    fn read(ids: &[i64], oldest_running: i64, next_transaction: i64) -> FeedRead {
        FeedRead {
            events: ids.iter().copied().map(event).collect(),
            oldest_running,
            next_transaction,
        }
    }

    fn ids(events: Vec<StoredEvent>) -> Vec<i64> {
        events.into_iter().map(|e| e.id).collect()
    }

    #[test]
    fn an_event_committed_late_is_sent_once_after_newer_ones() {
        let mut cursor = LiveCursor::after(9);
        // Transaction 100 holds id 10 and is still running; 101 committed id 11.
        assert_eq!(ids(cursor.take(read(&[11], 100, 102))), [11]);
        assert_eq!(cursor.settled, 9, "10 may still commit");
        // 100 commits: the next read shows 10, and 11 again, which is not resent.
        assert_eq!(ids(cursor.take(read(&[10, 11], 102, 102))), [10]);
        assert_eq!(cursor.settled, 11, "nothing running could add below 11");
        assert!(cursor.sent.is_empty(), "settled ids are forgotten");
        assert!(cursor.take(read(&[], 102, 102)).is_empty());
    }

    #[test]
    fn ids_settle_only_once_the_transactions_running_at_their_read_end() {
        let mut cursor = LiveCursor::after(0);
        cursor.take(read(&[1, 2], 50, 60));
        cursor.take(read(&[3], 55, 70));
        assert_eq!(
            cursor.settled, 0,
            "transactions 50..60 may still add below 2"
        );
        cursor.take(read(&[], 60, 70));
        assert_eq!(
            cursor.settled, 2,
            "everything running at the first read has ended"
        );
        assert_eq!(cursor.sent, BTreeSet::from([3]));
        cursor.take(read(&[], 70, 70));
        assert_eq!(cursor.settled, 3);
    }

    #[test]
    fn nothing_at_or_below_the_resume_point_is_sent() {
        let mut cursor = LiveCursor::after(5);
        assert_eq!(ids(cursor.take(read(&[4, 5, 6], 10, 10))), [6]);
    }

    #[test]
    fn a_transaction_held_open_does_not_grow_the_memory_without_bound() {
        let mut cursor = LiveCursor::after(0);
        let many: Vec<i64> = (1..=MAX_UNSETTLED as i64 + 1).collect();
        assert_eq!(cursor.take(read(&many, 1, 2)).len(), many.len());
        assert_eq!(cursor.settled, MAX_UNSETTLED as i64 + 1);
        assert!(cursor.sent.is_empty());
    }
}
