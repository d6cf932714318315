//! The periodic half of polled sources (Gmail incremental syncs, JMAP polls, calendar
//! polls): a timer that queues their jobs. The jobs' unique keys keep each source to one
//! queued or running job, so a slow poll is never doubled by the next tick. The same
//! timer runs the process's other periodic upkeep (planner statistics).

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::Db;

/// Runs `enqueue` every `every` until `stop`; `what` names the jobs (or the upkeep) in
/// the log when a tick fails (the next tick tries again).
pub async fn enqueue_every<F, Fut, E>(
    db: Db,
    every: Duration,
    stop: CancellationToken,
    what: &'static str,
    enqueue: F,
) where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = Result<u64, E>>,
    E: std::fmt::Display,
{
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                if let Err(e) = enqueue(db.clone()).await {
                    tracing::warn!(error = %e, what, "a periodic tick failed");
                }
            }
        }
    }
}
