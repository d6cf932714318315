//! Background work: job workers that run Gmail syncs and mbox imports, activity
//! processors that build contacts from stored mail, a summariser that writes AI
//! summaries of processed activities when a model is configured (`OPENAI_*`), and the
//! schedulers that queue an incremental sync for every active Gmail account and a poll
//! for every synced CalDAV calendar. Runs inside
//! the server by default, or alone with `server worker`; any number of processes may
//! share one database (jobs are claimed with leases).

use std::sync::Arc;
use std::time::Duration;

use domain::Db;
use domain::accounts::GoogleTokens;
use domain::ask::model::ModelConfig;
use domain::caldav::HttpCalDav;
use domain::caldav::jobs::{CalDavContext, PollCalendar, enqueue_calendar_polls};
use domain::calendar::write_back::WriteBackEvent;
use domain::crypto::SecretBox;
use domain::enrichment::{EnrichContact, EnrichmentConfig, enqueue_due};
use domain::gmail::{HttpGmail, Limiters, QuotaConfig};
use domain::google::GoogleOAuth;
use domain::jmap::{
    HttpJmap, JmapPollJob, JmapSync, JmapSyncOptions, PollsJmap, enqueue_jmap_polls,
};
use domain::jobs::{BackgroundJob, JobRegistry, Worker, WorkerId, WorkerOptions, enqueue_every};
use domain::meta::{
    HttpGraph, MetaOptions, MetaPollJob, MetaReplyJob, MetaService, enqueue_meta_polls,
};
use domain::processing::{Processor, ProcessorOptions, RefreshContactsTouched};
use domain::summaries::{Summariser, SummariserOptions};
use domain::sync::jobs::{enqueue_incremental_syncs, register_sync_jobs};
use domain::sync::{GmailSync, SyncOptions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSettings {
    /// Concurrent job workers in this process, and as many activity processors; 0 runs
    /// none.
    pub workers: usize,
    /// How often active accounts get an incremental sync.
    pub sync_every: Duration,
    /// How often each synced calendar of an active CalDAV account is polled.
    pub calendar_every: Duration,
    /// How often Fastmail / JMAP accounts are polled for new mail.
    pub jmap_every: Duration,
    /// How long a job stays claimed by a worker that stopped heartbeating (crashed)
    /// before another worker takes it over.
    pub lease: Duration,
    /// How long an activity processor's claim lasts (renewed while it works).
    pub processing_lease: Duration,
    /// Test only (`RAPPORT_TEST_PROCESSING_PAUSE_MS`): how long each activity's
    /// transaction stays open before it commits, so a test can kill a worker mid-batch.
    pub processing_pause: Duration,
}

impl WorkerSettings {
    fn worker_options(&self) -> WorkerOptions {
        WorkerOptions {
            lease: self.lease,
            heartbeat: self.lease / 4,
            idle_wait: self.lease.min(Duration::from_secs(60)) / 2,
        }
    }
}

/// The language models background work uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct Models<'a> {
    /// Summaries and transcriptions (`OPENAI_*`).
    pub ask: Option<&'a ModelConfig>,
    /// The Messenger / Instagram sales agent: the same model, or demo mode's simulated
    /// one.
    pub sales_agent: Option<&'a ModelConfig>,
}

pub struct BackgroundWork {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl BackgroundWork {
    pub fn start(
        db: &Db,
        google: &GoogleOAuth,
        secrets: &SecretBox,
        settings: WorkerSettings,
        models: Models<'_>,
        recordings: (
            &domain::files::FileStore,
            &crate::recordings::RecordingSettings,
        ),
        enrichment: &EnrichmentConfig,
    ) -> Self {
        let model = models.ask;
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        if settings.workers == 0 {
            return Self { stop, tasks };
        }
        let tokens = Arc::new(GoogleTokens::new(
            db.clone(),
            google.clone(),
            secrets.clone(),
        ));
        let api = HttpGmail::new(
            HttpGmail::<GoogleTokens>::default_client(),
            &google.endpoints().gmail_api,
            tokens,
        );
        // One limiter per Gmail account, shared by every worker of this process.
        let limiters = Arc::new(Limiters::new(QuotaConfig::default()));
        let sync = Arc::new(GmailSync::new(
            db.clone(),
            Arc::new(api),
            limiters,
            SyncOptions::default(),
        ));
        let jmap: Arc<dyn PollsJmap> = Arc::new(JmapSync::new(
            db.clone(),
            Arc::new(HttpJmap::default()),
            secrets.clone(),
            JmapSyncOptions::default(),
        ));
        // Every job type the workers run; a new one is one more line here.
        let calendars = Arc::new(CalDavContext {
            db: db.clone(),
            secrets: secrets.clone(),
            http: HttpCalDav::default_client(),
        });
        let jobs = register_sync_jobs(JobRegistry::new(), sync)
            .register::<PollCalendar>(calendars.clone())
            .register::<WriteBackEvent>(calendars)
            .register::<JmapPollJob>(jmap)
            .register::<EnrichContact>(Arc::new(enrichment.enricher(db)));
        let meta_options = MetaOptions::default();
        let meta_every = meta_options.poll_every;
        let meta = Arc::new(MetaService::new(
            db.clone(),
            HttpGraph::default(),
            secrets.clone(),
            models.sales_agent.cloned(),
            meta_options,
        ));
        let jobs = jobs
            .register::<MetaPollJob>(meta.clone())
            .register::<MetaReplyJob>(meta);
        let (files, recording_settings) = recordings;
        let jobs = crate::recordings::register_recording_jobs(
            jobs,
            db,
            files,
            secrets,
            recording_settings,
            model,
        );
        for _ in 0..settings.workers {
            let worker = Worker::new(
                db.jobs(),
                WorkerId::generate(),
                jobs.clone(),
                settings.worker_options(),
            );
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(error) = worker.run(stop).await {
                    tracing::error!(%error, "a job worker stopped");
                }
            }));
        }
        // Processors wake on NOTIFY rapport_activities (new mail, re-processing) and
        // poll as a fallback; they share the table with any other process's.
        for _ in 0..settings.workers {
            let options = ProcessorOptions {
                lease: settings.processing_lease,
                pause_before_commit: settings.processing_pause,
                ..ProcessorOptions::default()
            };
            let processor = Processor::new(db, WorkerId::generate(), options);
            let hook = RefreshContactsTouched::new(db);
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(error) = processor.run(stop, hook).await {
                    tracing::error!(%error, "an activity processor stopped");
                }
            }));
        }
        // One summariser per process: its model calls run a few at a time, and the
        // provider's rate limit, not this machine, bounds how fast summaries can go.
        if let Some(model) = model.cloned() {
            tracing::info!(model = %model.model, "activity summaries enabled");
            let summariser = Summariser::new(
                db,
                model,
                WorkerId::generate(),
                SummariserOptions::default(),
            );
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(error) = summariser.run(stop).await {
                    tracing::error!(%error, "the activity summariser stopped");
                }
            }));
        }
        tasks.push(tokio::spawn(enqueue_every(
            db.clone(),
            settings.sync_every,
            stop.clone(),
            "gmail.sync",
            |db| async move { enqueue_incremental_syncs(&db).await },
        )));
        tasks.push(tokio::spawn(enqueue_every(
            db.clone(),
            settings.calendar_every,
            stop.clone(),
            "caldav.poll",
            |db| async move { enqueue_calendar_polls(&db).await },
        )));
        tasks.push(tokio::spawn(enqueue_every(
            db.clone(),
            settings.jmap_every,
            stop.clone(),
            "jmap.poll",
            |db| async move { enqueue_jmap_polls(&db).await },
        )));
        tasks.push(tokio::spawn(enqueue_every(
            db.clone(),
            meta_every,
            stop.clone(),
            "meta.poll",
            |db| async move { enqueue_meta_polls(&db).await },
        )));
        tasks.push(tokio::spawn(enqueue_every(
            db.clone(),
            enrichment.sweep_every,
            stop.clone(),
            EnrichContact::KIND,
            |db| async move { enqueue_due(&db).await },
        )));
        // Statistics for the planner as bulk imports grow the tables (see the module).
        tasks.push(tokio::spawn(enqueue_every(
            db.clone(),
            domain::db::statistics::CHECK_EVERY,
            stop.clone(),
            "analyze",
            |db| async move {
                let analyzed = domain::db::statistics::analyze_changed_tables(&db).await;
                analyzed.map(|tables| tables.len() as u64)
            },
        )));
        tracing::info!(workers = settings.workers, "background workers started");
        Self { stop, tasks }
    }

    /// Lets running jobs finish, then returns.
    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
