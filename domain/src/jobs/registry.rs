//! Typed jobs: a job type declares its kind, payload and handler together, and workers
//! dispatch by kind to the types registered at start-up.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{DEFAULT_MAX_ATTEMPTS, Job, JobError};

/// A kind of background job. The struct is the payload (stored as JSON in
/// `jobs.payload`); adding a job type is this impl plus one [`JobRegistry::register`]
/// line where the workers start.
///
/// ```ignore
/// #[derive(Serialize, Deserialize)]
/// struct PollFastmail { account_id: Uuid }
///
/// impl BackgroundJob for PollFastmail {
///     const KIND: &'static str = "fastmail.poll";
///     type Context = FastmailClient;
///     fn unique_key(&self) -> Option<String> { Some(format!("{}:{}", Self::KIND, self.account_id)) }
///     async fn run(&self, client: &FastmailClient, job: &Job) -> Result<(), JobError> { ... }
/// }
/// ```
pub trait BackgroundJob: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stored `jobs.kind`; unique among job types.
    const KIND: &'static str;
    /// What the handler needs (a sync engine, the database), shared by every run.
    type Context: ?Sized + Send + Sync + 'static;

    /// At most one live (queued or running) job per key.
    fn unique_key(&self) -> Option<String> {
        None
    }

    /// Runs, with their error kept, before the job is dead.
    fn max_attempts(&self) -> i32 {
        DEFAULT_MAX_ATTEMPTS
    }

    /// Not before this time; now when `None`.
    fn run_at(&self) -> Option<DateTime<Utc>> {
        None
    }

    /// Does the work. `job` is the stored row (its owner, attempts). Must be safe to run
    /// again after a crash or a lost lease: jobs are delivered at least once.
    fn run(
        &self,
        ctx: &Self::Context,
        job: &Job,
    ) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// A job's run, type-erased.
pub type JobRun = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;

type Run = Arc<dyn Fn(Job) -> JobRun + Send + Sync>;

/// The job types a worker runs, by kind, each with its context.
#[derive(Clone, Default)]
pub struct JobRegistry {
    runs: HashMap<&'static str, Run>,
}

impl std::fmt::Debug for JobRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.runs.keys()).finish()
    }
}

impl JobRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds job type `J`, run with `ctx`.
    ///
    /// # Panics
    /// When a job type of the same kind is registered already.
    pub fn register<J: BackgroundJob>(mut self, ctx: Arc<J::Context>) -> Self {
        let run: Run = Arc::new(move |job: Job| -> JobRun {
            let ctx = Arc::clone(&ctx);
            Box::pin(async move {
                let payload: J = serde_json::from_value(job.payload.clone())
                    .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
                payload.run(&ctx, &job).await
            })
        });
        assert!(
            self.runs.insert(J::KIND, run).is_none(),
            "job kind {} registered twice",
            J::KIND
        );
        self
    }

    /// The registered kinds, which the workers claim.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.runs.keys().map(|k| (*k).to_owned()).collect();
        kinds.sort();
        kinds
    }

    /// Decodes the job's payload as its type and runs it.
    pub fn run(&self, job: Job) -> JobRun {
        match self.runs.get(job.kind.as_str()) {
            Some(run) => run(job),
            None => {
                let error = JobError::Permanent(format!("unknown job kind {}", job.kind));
                Box::pin(async move { Err(error) })
            }
        }
    }
}
