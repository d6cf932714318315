//! Group commit for the webhook endpoint. A request hands its checked, parsed webhook to
//! the writer and waits for its outcome; each writer task takes whatever is waiting (up to
//! [`MAX_GROUP`]) and stores it as one group (`webhook_group`). Nothing waits for a group
//! to fill: a lone webhook is stored at once, and under load the webhooks that arrive
//! while a group commits form the next one. With [`WRITERS`] tasks one group gathers and
//! writes while another's commit flushes. The writers' connections carry the group
//! settings for their whole session, and the processors and live views are woken by one
//! waker task after the answers go out: a group is one statement, and a wake-up covers
//! every group committed while the last one was sent.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Acquire, PgPool, Postgres};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::providers::ParsedWebhook;
use super::webhook_group::{
    Incoming, WRITER_SETTINGS, needs_transaction, owners, wake_owners, write_group,
};
use super::{ChannelAuth, ChannelError, IngestOutcome};
use crate::Db;

/// Webhooks stored together at most: enough for every connection of a busy sender, small
/// enough that one group's statements stay a few milliseconds.
const MAX_GROUP: usize = 64;
/// Groups in flight at once (each holds one of the writers' connections while it
/// writes). On the 2-core benchmark machine, from 8 connections, with a group one
/// statement: 1, 2, 3, 4 and 6 writers stored 2,247, 2,293-2,379, 1,843-2,231,
/// 2,032-2,115 and 1,696-1,872 webhooks a second (0.52, 0.58-0.63, 0.72-0.89,
/// 0.81-0.85 and 0.87-1.04 ms of the machine's CPU each): fewer writers make bigger
/// groups, and two keep one group's commit flushing while the next one runs.
const WRITERS: usize = 2;
/// The shortest time between two wake-ups of the processors and live views: under load
/// a wake-up went out for nearly every group (800 a second, each a transaction and a
/// signal to every listening backend); a few milliseconds later is as good to them.
const WAKE_EVERY: std::time::Duration = std::time::Duration::from_millis(5);
/// Webhooks waiting for a writer before requests wait to hand theirs over.
const QUEUE: usize = 1024;

type Connection = PoolConnection<Postgres>;
type Answer = oneshot::Sender<Result<IngestOutcome, ChannelError>>;

struct Waiting {
    auth: ChannelAuth,
    webhook: ParsedWebhook,
    answer: Answer,
}

/// Stores webhooks a group at a time; cheap to clone. The writer tasks end when the
/// last clone is dropped.
#[derive(Clone)]
pub struct WebhookWriter {
    queue: mpsc::Sender<Waiting>,
}

impl WebhookWriter {
    /// Starts the writer tasks and their waker on the current runtime.
    pub fn start(db: &Db) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let waiting = Arc::new(Mutex::new(waiting));
        let connections = db.pool_with_settings(&WRITER_SETTINGS, WRITERS);
        let (wakes, woken) = mpsc::unbounded_channel();
        tokio::spawn(wake_coalesced(db.clone(), woken));
        for _ in 0..WRITERS {
            let writer = Writer {
                connections: connections.clone(),
                wakes: wakes.clone(),
            };
            tokio::spawn(writer.write_groups(waiting.clone()));
        }
        Self { queue }
    }

    /// Stores the webhook (with whatever else is waiting) and answers once it is
    /// committed; see [`IngestOutcome`]. The store goes on if the caller stops waiting.
    pub async fn store(
        &self,
        auth: ChannelAuth,
        webhook: ParsedWebhook,
    ) -> Result<IngestOutcome, ChannelError> {
        let (answer, outcome) = oneshot::channel();
        let waiting = Waiting {
            auth,
            webhook,
            answer,
        };
        self.queue
            .send(waiting)
            .await
            .map_err(|_| ChannelError::WriterStopped)?;
        outcome.await.map_err(|_| ChannelError::WriterStopped)?
    }
}

/// One writer task's connections (shared by the writers) and its line to the waker.
#[derive(Clone)]
struct Writer {
    connections: PgPool,
    wakes: mpsc::UnboundedSender<Vec<Uuid>>,
}

impl Writer {
    async fn write_groups(self, waiting: Arc<Mutex<mpsc::Receiver<Waiting>>>) {
        let mut held = None;
        loop {
            let group = {
                let mut waiting = waiting.lock().await;
                let Some(first) = waiting.recv().await else {
                    return;
                };
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match waiting.try_recv() {
                        Ok(next) => group.push(next),
                        Err(_) => break,
                    }
                }
                group
            };
            // Its own task, so a panic in one group answers that group with an error (its
            // answers are dropped) and the writer goes on (on a new connection).
            held = tokio::spawn(self.clone().write(group, held.take()))
                .await
                .ok()
                .flatten();
        }
    }

    /// Writes the group on the writer's connection (opened if it has none) and gives the
    /// connection back, or none after a failed group: the pool tests it on its way back
    /// and closes it if it is broken.
    async fn write(self, group: Vec<Waiting>, mut held: Option<Connection>) -> Option<Connection> {
        let incoming: Vec<Incoming> = group
            .iter()
            .map(|w| Incoming {
                auth: &w.auth,
                webhook: &w.webhook,
            })
            .collect();
        match self.store(&mut held, &incoming).await {
            Ok(outcomes) => {
                let owners = owners(&incoming, &outcomes);
                for (waiting, outcome) in group.into_iter().zip(outcomes) {
                    let _ = waiting.answer.send(Ok(outcome));
                }
                let _ = self.wakes.send(owners);
            }
            // A lone webhook's failure is its answer (storing it again would repeat it).
            Err(error) if group.len() == 1 => {
                if let Some(waiting) = group.into_iter().next() {
                    let _ = waiting.answer.send(Err(error));
                }
            }
            // Each alone, so one webhook's failure is its own and the others are stored.
            Err(_) => {
                for waiting in group {
                    let alone = [Incoming {
                        auth: &waiting.auth,
                        webhook: &waiting.webhook,
                    }];
                    let outcome = self.store(&mut held, &alone).await;
                    if let Ok(outcomes) = &outcome {
                        let _ = self.wakes.send(owners(&alone, outcomes));
                    }
                    let _ = waiting.answer.send(outcome.map(|mut o| o.remove(0)));
                }
            }
        }
        held
    }

    /// The group on the writer's connection: one statement, in a transaction only when a
    /// call's recordings follow it (BEGIN and COMMIT were two of a group's five round
    /// trips). A connection goes back to the pool only after a failure: returning it
    /// after every group cost a round trip (the pool's test of a returned connection).
    async fn store(
        &self,
        held: &mut Option<Connection>,
        group: &[Incoming<'_>],
    ) -> Result<Vec<IngestOutcome>, ChannelError> {
        let mut conn = match held.take() {
            Some(conn) => conn,
            None => self.connections.acquire().await?,
        };
        let outcomes = if needs_transaction(group) {
            let mut tx = conn.begin().await?;
            let outcomes = write_group(&mut tx, group).await?;
            tx.commit().await?;
            outcomes
        } else {
            write_group(&mut conn, group).await?
        };
        *held = Some(conn);
        Ok(outcomes)
    }
}

/// Wakes the owners of every group committed since the last wake-up, with one
/// notification each time and at most one every [`WAKE_EVERY`]. Ends when the writers
/// do.
async fn wake_coalesced(db: Db, mut woken: mpsc::UnboundedReceiver<Vec<Uuid>>) {
    while let Some(mut owners) = woken.recv().await {
        let started = tokio::time::Instant::now();
        while let Ok(more) = woken.try_recv() {
            owners.extend(more);
        }
        owners.sort_unstable();
        owners.dedup();
        wake_owners(db.pool(), &owners).await;
        tokio::time::sleep_until(started + WAKE_EVERY).await;
    }
}
