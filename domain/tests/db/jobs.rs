use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use domain::jobs::{
    BackgroundJob, Backoff, CHANNEL, Failed, Job, JobError, JobId, JobQueue, JobRegistry, JobState,
    LeasedTable, QueueError, WorkListener, Worker, WorkerId, WorkerOptions,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{fresh_db, user};

fn kinds(kind: &str) -> Vec<String> {
    vec![kind.to_owned()]
}

/// Declares a job type for queue tests: its kind, attempts and unique key; running it
/// does nothing.
macro_rules! test_job {
    ($name:ident, $kind:literal $(, max = $max:literal)? $(, key = $key:literal)?) => {
        #[derive(Debug, Default, Serialize, Deserialize)]
        struct $name {
            #[serde(default)]
            n: i32,
        }

        impl BackgroundJob for $name {
            const KIND: &'static str = $kind;
            type Context = ();
            $(fn max_attempts(&self) -> i32 { $max })?
            $(fn unique_key(&self) -> Option<String> { Some($key.to_owned()) })?
            async fn run(&self, _: &(), _: &Job) -> Result<(), JobError> {
                Ok(())
            }
        }
    };
}

test_job!(Raw, "raw");
test_job!(Slow, "slow");
test_job!(Once, "once", max = 1);
test_job!(Flaky, "flaky", max = 3);
test_job!(Bad, "bad");
test_job!(KeyedSync, "sync", key = "sync:acct");
test_job!(Beat, "beat");
test_job!(Wake, "wake");
test_job!(OtherKind, "other-kind");

/// Makes a queued job due now, standing in for the passage of its backoff delay.
async fn make_due(queue: &JobQueue, id: JobId) {
    sqlx::query("update jobs set run_at = now() where id = $1")
        .bind(id.0)
        .execute(queue.pool())
        .await
        .unwrap();
}

#[derive(Serialize, Deserialize)]
struct Count {
    n: i32,
}

impl BackgroundJob for Count {
    const KIND: &'static str = "count";
    type Context = Mutex<HashMap<JobId, u32>>;

    async fn run(&self, runs: &Self::Context, job: &Job) -> Result<(), JobError> {
        *runs.lock().unwrap().entry(job.id).or_default() += 1;
        tokio::task::yield_now().await;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_run_every_job_exactly_once() {
    let db = fresh_db().await;
    let queue = db.jobs();
    let mut ids = Vec::new();
    for i in 0..200 {
        let job = queue.enqueue(None, &Count { n: i }).await.unwrap();
        ids.push(job.job.id);
    }
    let runs = Arc::new(Mutex::new(HashMap::new()));
    let stop = CancellationToken::new();
    let options = WorkerOptions {
        lease: Duration::from_secs(30),
        heartbeat: Duration::from_secs(5),
        idle_wait: Duration::from_millis(200),
    };
    let workers: Vec<_> = (0..2)
        .map(|n| {
            let worker = Worker::new(
                queue.clone(),
                WorkerId::new(format!("w{n}")),
                JobRegistry::new().register::<Count>(Arc::clone(&runs)),
                options,
            );
            tokio::spawn(worker.run(stop.clone()))
        })
        .collect();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done: i64 = sqlx::query_scalar("select count(*) from jobs where state = 'succeeded'")
            .fetch_one(queue.pool())
            .await
            .unwrap();
        if done == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {done} jobs done"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    for worker in workers {
        worker.await.unwrap().unwrap();
    }
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 200);
    assert!(ids.iter().all(|id| runs[id] == 1), "a job ran twice");
    let owners: Vec<String> =
        sqlx::query_scalar("select distinct lease_owner from jobs where lease_owner is not null")
            .fetch_all(queue.pool())
            .await
            .unwrap();
    assert!(owners.is_empty(), "finished jobs hold no lease");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claimers_never_share_a_job() {
    let db = fresh_db().await;
    let queue = db.jobs();
    for _ in 0..200 {
        queue.enqueue(None, &Raw::default()).await.unwrap();
    }
    let claimer = |name: &'static str| {
        let queue = queue.clone();
        tokio::spawn(async move {
            let me = WorkerId::new(name);
            let mut claimed = Vec::new();
            while let Some(job) = queue
                .claim_next(&me, &kinds("raw"), Duration::from_secs(30))
                .await
                .unwrap()
            {
                claimed.push(job.id);
                queue.complete(job.id, &me).await.unwrap();
            }
            claimed
        })
    };
    let (a, b) = (claimer("a"), claimer("b"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let mut all: Vec<JobId> = a.iter().chain(&b).copied().collect();
    all.sort_by_key(|id| id.0);
    all.dedup();
    assert_eq!(a.len() + b.len(), 200);
    assert_eq!(all.len(), 200, "no job was claimed twice");
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_counted() {
    let db = fresh_db().await;
    let queue = db.jobs();
    let job = queue.enqueue(None, &Slow::default()).await.unwrap().job;
    let crashed = WorkerId::new("crashed");
    let claimed = queue
        .claim_next(&crashed, &kinds("slow"), Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claimed.attempts, claimed.state), (1, JobState::Running));
    assert_eq!(
        queue.release_expired().await.unwrap(),
        0,
        "lease still valid"
    );

    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(queue.release_expired().await.unwrap(), 1);
    let back = queue.get(job.id).await.unwrap().unwrap();
    assert_eq!(back.state, JobState::Queued);
    assert_eq!(back.attempts, 1, "the lost run counts as an attempt");
    assert!(back.last_error.unwrap().contains("lease expired"));
    assert_eq!(back.lease_owner, None);

    let rescuer = WorkerId::new("rescuer");
    let again = queue
        .claim_next(&rescuer, &kinds("slow"), Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (job.id, 2));
    assert!(matches!(
        queue.complete(job.id, &crashed).await,
        Err(QueueError::LeaseLost(_))
    ));
    queue.complete(job.id, &rescuer).await.unwrap();
}

#[tokio::test]
async fn the_last_expired_lease_buries_the_job() {
    let db = fresh_db().await;
    let queue = db.jobs();
    let job = queue.enqueue(None, &Once::default()).await.unwrap().job;
    let w = WorkerId::new("w");
    queue
        .claim_next(&w, &kinds("once"), Duration::from_millis(50))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    queue.release_expired().await.unwrap();
    assert_eq!(
        queue.get(job.id).await.unwrap().unwrap().state,
        JobState::Dead
    );
}

#[tokio::test]
async fn failures_back_off_exponentially_then_the_job_dies() {
    let db = fresh_db().await;
    let queue = db.jobs().with_backoff(Backoff {
        base: Duration::from_secs(4),
        max: Duration::from_secs(60),
    });
    let job = queue.enqueue(None, &Flaky::default()).await.unwrap().job;
    let w = WorkerId::new("w");
    let lease = Duration::from_secs(30);
    for (attempt, scheduled) in [(1, 4.0), (2, 8.0)] {
        let claimed = queue
            .claim_next(&w, &kinds("flaky"), lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.attempts, attempt);
        let before = Utc::now();
        let state = queue
            .fail(&claimed, &w, &format!("boom {attempt}"), false)
            .await
            .unwrap();
        let after = Utc::now();
        assert_eq!(state, Failed::Retrying);
        let queued = queue.get(job.id).await.unwrap().unwrap();
        let earliest = before + chrono::Duration::milliseconds((scheduled * 500.0) as i64);
        let latest = after + chrono::Duration::milliseconds((scheduled * 1000.0) as i64);
        assert!(
            queued.run_at >= earliest && queued.run_at <= latest,
            "attempt {attempt}: retry at {} not within [{earliest}, {latest}]",
            queued.run_at
        );
        assert_eq!(
            queued.last_error.as_deref(),
            Some(&*format!("boom {attempt}"))
        );
        assert!(
            queue
                .claim_next(&w, &kinds("flaky"), lease)
                .await
                .unwrap()
                .is_none(),
            "not due before its backoff"
        );
        make_due(&queue, job.id).await;
    }
    let last = queue
        .claim_next(&w, &kinds("flaky"), lease)
        .await
        .unwrap()
        .unwrap();
    let state = queue.fail(&last, &w, "boom 3", false).await.unwrap();
    assert_eq!(state, Failed::Dead);
    let dead = queue.get(job.id).await.unwrap().unwrap();
    assert_eq!(dead.last_error.as_deref(), Some("boom 3"));
    assert_eq!(dead.attempts, 3);
}

#[tokio::test]
async fn a_permanent_error_buries_the_job_at_once() {
    let db = fresh_db().await;
    let queue = db.jobs();
    queue.enqueue(None, &Bad::default()).await.unwrap();
    let w = WorkerId::new("w");
    let job = queue
        .claim_next(&w, &kinds("bad"), Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let state = queue.fail(&job, &w, "no such account", true).await.unwrap();
    assert_eq!(state, Failed::Dead);
    assert_eq!(job.attempts, 1);
}

#[tokio::test]
async fn a_live_unique_key_dedupes_enqueues() {
    let db = fresh_db().await;
    let owner = user(&db, "owner@example.com").await;
    let scope = db.for_user(owner);
    let first = scope.jobs().enqueue(&KeyedSync { n: 1 }).await.unwrap();
    let second = scope.jobs().enqueue(&KeyedSync { n: 2 }).await.unwrap();
    assert!(first.created && !second.created);
    assert_eq!(first.job.id, second.job.id);
    assert_eq!(second.job.payload, json!({"n": 1}));
    assert_eq!(first.job.user, Some(owner));

    let queue = db.jobs();
    let w = WorkerId::new("w");
    let running = queue
        .claim_next(&w, &kinds("sync"), Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let while_running = queue.enqueue(None, &KeyedSync::default()).await.unwrap();
    assert!(!while_running.created, "a running job is live too");
    queue.complete(running.id, &w).await.unwrap();

    let after = queue.enqueue(None, &KeyedSync::default()).await.unwrap();
    assert!(after.created, "a finished job no longer holds the key");
    assert_ne!(after.job.id, first.job.id);
    assert_eq!(after.job.user, None, "system jobs have no user");
}

#[tokio::test]
async fn heartbeats_extend_a_lease_and_fail_once_it_is_lost() {
    let db = fresh_db().await;
    let queue = db.jobs();
    queue.enqueue(None, &Beat::default()).await.unwrap();
    let w = WorkerId::new("w");
    let job = queue
        .claim_next(&w, &kinds("beat"), Duration::from_millis(300))
        .await
        .unwrap()
        .unwrap();
    let extended = queue
        .heartbeat(job.id, &w, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(extended > job.lease_expires_at.unwrap());
    assert!(matches!(
        queue
            .heartbeat(job.id, &WorkerId::new("intruder"), Duration::from_secs(30))
            .await,
        Err(QueueError::LeaseLost(_))
    ));

    queue
        .heartbeat(job.id, &w, Duration::from_millis(50))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        matches!(
            queue.heartbeat(job.id, &w, Duration::from_secs(30)).await,
            Err(QueueError::LeaseLost(_))
        ),
        "an expired lease cannot be renewed"
    );
    queue.release_expired().await.unwrap();
    let other = WorkerId::new("other");
    queue
        .claim_next(&other, &kinds("beat"), Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        queue.heartbeat(job.id, &w, Duration::from_secs(30)).await,
        Err(QueueError::LeaseLost(_))
    ));
    assert!(matches!(
        queue.fail(&job, &w, "late", false).await,
        Err(QueueError::LeaseLost(_))
    ));
}

#[tokio::test]
async fn an_enqueue_wakes_a_waiting_listener() {
    let db = fresh_db().await;
    let queue = db.jobs();
    let mut listener = WorkListener::connect(queue.pool(), CHANNEL).await.unwrap();
    let waiting = tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        let woke = listener
            .wait_for_work(&kinds("wake"), Duration::from_secs(20))
            .await
            .unwrap();
        (woke, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    queue.enqueue(None, &OtherKind::default()).await.unwrap();
    queue.enqueue(None, &Wake::default()).await.unwrap();
    let (woke, waited) = waiting.await.unwrap();
    assert!(woke);
    assert!(waited < Duration::from_secs(10), "woke after {waited:?}");

    let mut idle = WorkListener::connect(queue.pool(), CHANNEL).await.unwrap();
    assert!(
        !idle
            .wait_for_work(&kinds("wake"), Duration::from_millis(100))
            .await
            .unwrap(),
        "times out without work"
    );
}

#[derive(Serialize, Deserialize)]
struct Fails {
    mode: String,
}

impl BackgroundJob for Fails {
    const KIND: &'static str = "fails";
    type Context = ();

    async fn run(&self, _: &(), _: &Job) -> Result<(), JobError> {
        match self.mode.as_str() {
            "panic" => panic!("handler bug"),
            "permanent" => Err(JobError::Permanent("cannot ever work".into())),
            _ => Err(JobError::Retryable("try later".into())),
        }
    }
}

#[tokio::test]
async fn the_worker_records_handler_failures_and_panics() {
    let db = fresh_db().await;
    let queue = db.jobs();
    let mut ids = HashMap::new();
    for mode in ["panic", "permanent", "retry"] {
        let job = queue
            .enqueue(
                None,
                &Fails {
                    mode: mode.to_owned(),
                },
            )
            .await
            .unwrap();
        ids.insert(mode, job.job.id);
    }
    let worker = Worker::new(
        queue.clone(),
        WorkerId::new("w"),
        JobRegistry::new().register::<Fails>(Arc::new(())),
        WorkerOptions::default(),
    );
    for _ in 0..3 {
        assert!(worker.run_one().await.unwrap());
    }
    assert!(!worker.run_one().await.unwrap(), "retries are not due yet");
    let state = |mode| {
        let queue = queue.clone();
        let id = ids[mode];
        async move { queue.get(id).await.unwrap().unwrap() }
    };
    let panicked = state("panic").await;
    assert_eq!(panicked.state, JobState::Queued);
    assert!(panicked.last_error.unwrap().contains("panicked"));
    assert_eq!(state("permanent").await.state, JobState::Dead);
    assert_eq!(state("retry").await.state, JobState::Queued);
}

/// The run loop sleeps up to `idle_wait` when idle, yet a `NOTIFY` wakes it for new work
/// at once and cancelling stops it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_worker_wakes_for_new_work_and_stops_promptly() {
    let db = fresh_db().await;
    let queue = db.jobs();
    let runs = Arc::new(Mutex::new(HashMap::new()));
    let worker = Worker::new(
        queue.clone(),
        WorkerId::new("idle"),
        JobRegistry::new().register::<Count>(Arc::clone(&runs)),
        WorkerOptions {
            idle_wait: Duration::from_secs(60),
            ..WorkerOptions::default()
        },
    );
    let stop = CancellationToken::new();
    let running = tokio::spawn(worker.run(stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let job = queue.enqueue(None, &Count { n: 1 }).await.unwrap().job;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while queue.get(job.id).await.unwrap().unwrap().state != JobState::Succeeded {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not woken by the enqueue"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("stops within seconds, not after idle_wait")
        .unwrap()
        .unwrap();
}

#[derive(Serialize, Deserialize)]
struct Hangs {}

impl BackgroundJob for Hangs {
    const KIND: &'static str = "hangs";
    type Context = ();

    async fn run(&self, _: &(), _: &Job) -> Result<(), JobError> {
        tokio::time::sleep(Duration::from_secs(600)).await;
        Ok(())
    }
}

/// A worker whose lease passed to someone else abandons the job (its handler is
/// aborted) and records nothing.
#[tokio::test]
async fn a_lost_lease_aborts_the_handler() {
    let db = fresh_db().await;
    let queue = db.jobs();
    let job = queue.enqueue(None, &Hangs {}).await.unwrap().job;
    let worker = Worker::new(
        queue.clone(),
        WorkerId::new("w"),
        JobRegistry::new().register::<Hangs>(Arc::new(())),
        WorkerOptions {
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_millis(100),
            idle_wait: Duration::from_secs(1),
        },
    );
    let thief = {
        let queue = queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            sqlx::query("update jobs set lease_owner = 'thief' where id = $1")
                .bind(job.id.0)
                .execute(queue.pool())
                .await
                .unwrap();
        })
    };
    let ran = tokio::time::timeout(Duration::from_secs(10), worker.run_one())
        .await
        .expect("the handler was abandoned")
        .unwrap();
    assert!(ran);
    thief.await.unwrap();
    let stolen = queue.get(job.id).await.unwrap().unwrap();
    assert_eq!(
        (stolen.state, stolen.lease_owner.as_deref()),
        (JobState::Running, Some("thief"))
    );
}
