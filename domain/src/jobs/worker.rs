//! The worker loop: claim, run the handler while renewing the lease, record the outcome.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::{Job, JobError, JobQueue, QueueError, WorkListener, WorkerId};

/// Runs jobs of some kinds. One handler per worker keeps dispatch static.
pub trait JobHandler: Send + Sync + 'static {
    /// The job kinds this handler runs.
    fn kinds(&self) -> Vec<String>;

    /// Does the work. Must be safe to run again after a crash or a lost lease (jobs are
    /// delivered at least once).
    fn run(&self, job: &Job) -> impl Future<Output = Result<(), JobError>> + Send;
}

#[derive(Debug, Clone, Copy)]
pub struct WorkerOptions {
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// How often the lease is renewed while a job runs; well under `lease`.
    pub heartbeat: Duration,
    /// Longest idle sleep between looks at the table (also how often expired leases
    /// are reclaimed by an idle worker).
    pub idle_wait: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(15),
            idle_wait: Duration::from_secs(30),
        }
    }
}

pub struct Worker<H> {
    queue: JobQueue,
    id: WorkerId,
    handler: Arc<H>,
    kinds: Vec<String>,
    options: WorkerOptions,
}

impl<H: JobHandler> Worker<H> {
    pub fn new(queue: JobQueue, id: WorkerId, handler: H, options: WorkerOptions) -> Self {
        let kinds = handler.kinds();
        Self {
            queue,
            id,
            handler: Arc::new(handler),
            kinds,
            options,
        }
    }

    pub fn id(&self) -> &WorkerId {
        &self.id
    }

    /// Runs until `stop` is cancelled. A job in progress is finished (and recorded)
    /// before returning, so stopping never abandons work to lease expiry.
    pub async fn run(self, stop: CancellationToken) -> Result<(), QueueError> {
        let mut listener = WorkListener::connect(self.queue.pool()).await?;
        while !stop.is_cancelled() {
            match self.run_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(worker = %self.id, error = %e, "job queue error"),
            }
            if let Err(e) = self.queue.reclaim_expired().await {
                tracing::warn!(worker = %self.id, error = %e, "reclaiming expired leases failed");
            }
            let wait = self.idle_wait().await.unwrap_or(self.options.idle_wait);
            tokio::select! {
                _ = stop.cancelled() => break,
                woke = listener.wait_for_work(&self.kinds, wait) => {
                    if let Err(e) = woke {
                        tracing::warn!(worker = %self.id, error = %e, "job listener failed");
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        Ok(())
    }

    /// Claims and runs one job; false when none was due.
    pub async fn run_one(&self) -> Result<bool, QueueError> {
        let Some(job) = self
            .queue
            .claim_next(&self.id, &self.kinds, self.options.lease)
            .await?
        else {
            return Ok(false);
        };
        let outcome = self.run_leased(&job).await;
        let recorded = match outcome {
            Ok(Ok(())) => self.queue.complete(job.id, &self.id).await,
            Ok(Err(error)) => {
                tracing::info!(job = %job.id, kind = %job.kind, %error, "job failed");
                self.queue.fail(&job, &self.id, &error).await.map(|_| ())
            }
            Err(lost) => Err(lost),
        };
        match recorded {
            Err(QueueError::LeaseLost(id)) => {
                tracing::warn!(job = %id, worker = %self.id, "lease lost; outcome discarded");
                Ok(true)
            }
            other => other.map(|()| true),
        }
    }

    /// Runs the handler in its own task (a panic becomes a retryable failure) while
    /// renewing the lease; if the lease is lost the handler is aborted.
    async fn run_leased(&self, job: &Job) -> Result<Result<(), JobError>, QueueError> {
        let handler = Arc::clone(&self.handler);
        let owned = job.clone();
        let mut task = tokio::spawn(async move { handler.run(&owned).await });
        let mut beat = tokio::time::interval(self.options.heartbeat);
        beat.tick().await;
        loop {
            tokio::select! {
                joined = &mut task => {
                    return Ok(joined.unwrap_or_else(|e| {
                        Err(JobError::Retryable(format!("handler panicked or was cancelled: {e}")))
                    }));
                }
                _ = beat.tick() => {
                    match self.queue.heartbeat(job.id, &self.id, self.options.lease).await {
                        Err(lost @ QueueError::LeaseLost(_)) => {
                            task.abort();
                            return Err(lost);
                        }
                        // A failed renewal is retried at the next beat; the lease is
                        // long enough to survive a few.
                        Err(e) => tracing::warn!(job = %job.id, error = %e, "heartbeat failed"),
                        Ok(_) => {}
                    }
                }
            }
        }
    }

    /// Sleep until the next due job, at most `idle_wait`.
    async fn idle_wait(&self) -> Result<Duration, QueueError> {
        let next = self.queue.next_run_at(&self.kinds).await?;
        Ok(next
            .and_then(|at| (at - Utc::now()).to_std().ok())
            .map_or(self.options.idle_wait, |d| d.min(self.options.idle_wait)))
    }
}
