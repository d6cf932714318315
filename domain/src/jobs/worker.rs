//! The job worker: the lease loop ([`Leases::run`]) over the jobs table, one job at a
//! time, dispatched by kind through a [`JobRegistry`].

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::task::{JoinError, JoinHandle};
use tokio_util::sync::CancellationToken;

use super::lease::{LeaseOptions, Leases};
use super::{JobError, JobQueue, JobRegistry, QueueError, WorkerId};

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

pub struct Worker {
    leases: Leases<JobQueue>,
    registry: JobRegistry,
}

impl Worker {
    /// A worker for the job types in `registry`.
    pub fn new(
        queue: JobQueue,
        id: WorkerId,
        registry: JobRegistry,
        options: WorkerOptions,
    ) -> Self {
        let options = LeaseOptions {
            batch: 1,
            lease: options.lease,
            heartbeat: options.heartbeat,
            idle_wait: options.idle_wait,
        };
        Self {
            leases: Leases::new(queue.serving(registry.kinds()), id, options),
            registry,
        }
    }

    pub fn id(&self) -> &WorkerId {
        self.leases.worker()
    }

    /// Runs until `stop` is cancelled. A job in progress is finished (and recorded)
    /// before returning, so stopping never abandons work to lease expiry.
    pub async fn run(self, stop: CancellationToken) -> Result<(), QueueError> {
        let this = &self;
        self.leases
            .run(stop, move || async move {
                this.run_one().await.map(usize::from)
            })
            .await
    }

    /// Claims and runs one job; false when none was due. The handler runs in its own
    /// task (a panic becomes a retryable failure) while the lease is renewed; if the
    /// lease is lost the handler is aborted.
    pub async fn run_one(&self) -> Result<bool, QueueError> {
        let Some(job) = self.leases.claim().await?.pop() else {
            return Ok(false);
        };
        let task = AbortOnDrop(tokio::spawn(self.registry.run(job.clone())));
        let recorded = match self.leases.hold_or_abandon(&[job.id], task).await {
            None => Err(QueueError::LeaseLost(job.id)),
            Some(joined) => match joined.unwrap_or_else(|e| {
                Err(JobError::Retryable(format!(
                    "handler panicked or was cancelled: {e}"
                )))
            }) {
                Ok(()) => self.leases.table().complete(job.id, self.id()).await,
                Err(error) => self
                    .leases
                    .fail(&job, &error.to_string(), error.is_permanent())
                    .await
                    .map(drop),
            },
        };
        match recorded {
            Err(QueueError::LeaseLost(id)) => {
                self.leases.lost(id);
                Ok(true)
            }
            other => other.map(|()| true),
        }
    }
}

/// A spawned task that is aborted when its handle is dropped (a lost lease).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
