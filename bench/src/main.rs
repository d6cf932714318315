//! `make bench`: measures Rapport against fakes on 127.0.0.1 and a durable embedded
//! PostgreSQL, then records the figures in bench/RESULTS.md and bench/results.json.
//!
//! ```text
//! bench sync [--sizes 1000,10000] [--mbox 100000] [--out DIR]
//! bench contacts [--contacts 100000] [--activities 1000000] [--requests 2000]
//!                [--concurrency 4] [--out DIR]
//! bench thread [--messages 100] [--requests 200] [--out DIR]
//! bench inbox [--activities 1000000] [--requests 2000] [--concurrency 2] [--out DIR]
//! bench ingest [--seconds 20] [--connections 8] [--messages 20000] [--batch 2000] [--out DIR]
//! bench soak [--seconds 600] [--rss-budget-mib 200] [--out DIR]
//! bench memory [--mbox-gib 7] [--name-gib 20] [--rss-budget-mib 200] [--out DIR]
//! bench caldav [--events 200] [--polls 500] [--out DIR]
//! bench jmap [--messages 10000] [--out DIR]
//! bench search [--messages 100000] [--runs 50] [--out DIR]
//! bench onboarding [--messages 10000] [--out DIR]
//! ```

mod caldav;
mod child;
mod client;
mod contacts;
mod inbox;
mod ingest;
mod jmap;
mod memory;
mod onboarding;
mod process;
mod results;
mod search;
mod serve;
mod soak;
mod statements;
mod sync;
mod thread;
mod wrk;

use std::sync::atomic::{AtomicUsize, Ordering};

use domain::Db;
use embedded_pg::{EmbeddedOptions, EmbeddedPostgres};

use results::Results;

const USAGE: &str = "usage: bench sync [--sizes 1000,10000] [--mbox 100000] [--out DIR]
       bench contacts [--contacts 100000] [--activities 1000000] [--requests 2000] [--concurrency 4] [--out DIR]
       bench thread [--messages 100] [--requests 200] [--out DIR]
       bench inbox [--activities 1000000] [--requests 2000] [--concurrency 2] [--out DIR]
       bench ingest [--seconds 20] [--connections 8] [--messages 20000] [--batch 2000] [--out DIR]
       bench soak [--seconds 600] [--rss-budget-mib 200] [--out DIR]
       bench memory [--mbox-gib 7] [--name-gib 20] [--rss-budget-mib 200] [--out DIR]
       bench caldav [--events 200] [--polls 500] [--out DIR]
       bench jmap [--messages 10000] [--out DIR]
       bench search [--messages 100000] [--runs 50] [--out DIR]
       bench onboarding [--messages 10000] [--out DIR]";

#[derive(PartialEq, Eq)]
enum Benchmark {
    Sync,
    Contacts,
    Thread,
    Inbox,
    Ingest,
    Soak,
    Memory,
    CalDav,
    Jmap,
    Search,
    Onboarding,
}

struct Options {
    benchmark: Benchmark,
    sizes: Vec<usize>,
    mbox: usize,
    contacts: contacts::Scale,
    thread: thread::Scale,
    inbox: inbox::Scale,
    ingest: ingest::Scale,
    soak: soak::Scale,
    memory: memory::Scale,
    caldav: caldav::Scale,
    jmap: jmap::Scale,
    search: search::Scale,
    onboarding: onboarding::Scale,
    out: std::path::PathBuf,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut options = Options {
        benchmark: Benchmark::Sync,
        contacts: contacts::Scale {
            contacts: 100_000,
            activities: 1_000_000,
            requests: 2_000,
            concurrency: 4,
        },
        thread: thread::Scale {
            messages: 100,
            requests: 200,
        },
        inbox: inbox::Scale {
            contacts: 100_000,
            activities: 1_000_000,
            requests: 2_000,
            concurrency: 2,
        },
        ingest: ingest::Scale {
            seconds: 20,
            connections: 8,
            messages: 20_000,
            batch: domain::processing::ProcessorOptions::default().batch,
        },
        soak: soak::Scale {
            seconds: 600,
            rss_budget_mib: 200.0,
        },
        memory: memory::Scale {
            mbox_gib: 7.0,
            name_gib: 20.0,
            rss_budget_mib: 200.0,
        },
        caldav: caldav::Scale {
            events: 200,
            polls: 500,
        },
        jmap: jmap::Scale { messages: 10_000 },
        search: search::Scale {
            messages: 100_000,
            runs: 50,
        },
        onboarding: onboarding::Scale { messages: 10_000 },
        sizes: vec![1_000, 10_000],
        mbox: 100_000,
        out: results::default_dir(),
    };
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        Some("sync") => {}
        Some("contacts") => options.benchmark = Benchmark::Contacts,
        Some("thread") => options.benchmark = Benchmark::Thread,
        Some("inbox") => options.benchmark = Benchmark::Inbox,
        Some("ingest") => options.benchmark = Benchmark::Ingest,
        Some("soak") => options.benchmark = Benchmark::Soak,
        Some("memory") => options.benchmark = Benchmark::Memory,
        Some("caldav") => options.benchmark = Benchmark::CalDav,
        Some("jmap") => options.benchmark = Benchmark::Jmap,
        Some("search") => options.benchmark = Benchmark::Search,
        Some("onboarding") => options.benchmark = Benchmark::Onboarding,
        _ => anyhow::bail!(USAGE),
    }
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--sizes" => {
                options.sizes = value
                    .split(',')
                    .map(|n| n.trim().parse())
                    .collect::<Result<_, _>>()?
            }
            "--mbox" => options.mbox = value.parse()?,
            "--contacts" => options.contacts.contacts = value.parse()?,
            "--activities" => {
                options.contacts.activities = value.parse()?;
                options.inbox.activities = value.parse()?;
            }
            "--requests" => {
                options.contacts.requests = value.parse()?;
                options.thread.requests = value.parse()?;
                options.inbox.requests = value.parse()?;
            }
            "--concurrency" => {
                options.contacts.concurrency = value.parse()?;
                options.inbox.concurrency = value.parse()?;
            }
            // How long wrk posts (ingest) or the load runs (soak).
            "--seconds" => {
                options.ingest.seconds = value.parse()?;
                options.soak.seconds = value.parse()?;
            }
            "--rss-budget-mib" => {
                options.soak.rss_budget_mib = value.parse()?;
                options.memory.rss_budget_mib = value.parse()?;
            }
            "--mbox-gib" => options.memory.mbox_gib = value.parse()?,
            "--name-gib" => options.memory.name_gib = value.parse()?,
            "--connections" => options.ingest.connections = value.parse()?,
            // Activities per processing claim (the processors' default unless given).
            "--batch" => options.ingest.batch = value.parse()?,
            // Messages ingest posts, the length of the benchmarked thread, the
            // messages seeded into Cyrus, searched, or in the new user's mailbox.
            "--messages" => {
                options.ingest.messages = value.parse()?;
                options.thread.messages = value.parse()?;
                options.jmap.messages = value.parse()?;
                options.search.messages = value.parse()?;
                options.onboarding.messages = value.parse()?;
            }
            "--runs" => options.search.runs = value.parse()?,
            "--events" => options.caldav.events = value.parse()?,
            "--polls" => options.caldav.polls = value.parse()?,
            "--out" => options.out = value.into(),
            other => anyhow::bail!("unknown option {other}\n{USAGE}"),
        }
    }
    Ok(options)
}

// The server runs in this process; it allocates as the `server` binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = parse(&args)?;

    // Durable (fsync on), like `make run`, so the figures are what users get.
    let data = tempfile::tempdir()?;
    let cluster = EmbeddedOptions {
        data_dir: data.path().join("postgres"),
        ephemeral: false,
    };
    let pg = EmbeddedPostgres::start(cluster.clone()).await?;
    let pg = statements::prepare(pg, cluster).await?;
    let databases = AtomicUsize::new(0);
    let new_db = async || {
        let name = format!("bench_{}", databases.fetch_add(1, Ordering::SeqCst));
        pg.ensure_database(&name).await?;
        let url = pg.url(&name);
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        db.close().await;
        statements::install(&url).await?;
        anyhow::Ok(url)
    };
    let (outcome, title) = match options.benchmark {
        Benchmark::Sync => (
            sync::run(new_db, &options.sizes, options.mbox).await,
            "Gmail sync and Takeout import",
        ),
        Benchmark::Contacts => {
            let outcome = match new_db().await {
                Ok(url) => contacts::run(&url, &options.contacts).await,
                Err(e) => Err(e),
            };
            (outcome, "Contacts list and contact page")
        }
        Benchmark::Thread => {
            let outcome = match new_db().await {
                Ok(url) => thread::run(&url, &options.thread).await,
                Err(e) => Err(e),
            };
            (outcome, "Reading a 100-message thread")
        }
        Benchmark::Inbox => {
            let outcome = match new_db().await {
                Ok(url) => inbox::run(&url, &options.inbox).await,
                Err(e) => Err(e),
            };
            (outcome, "Inbox pages at 1M activities")
        }
        Benchmark::Ingest => (
            ingest::run(new_db, &options.ingest).await,
            "Webhook ingest and activity processing",
        ),
        Benchmark::Soak => {
            let outcome = match new_db().await {
                Ok(url) => soak::run(&url, &options.soak).await,
                Err(e) => Err(e),
            };
            (
                outcome,
                "Soak: two users, everything at once, worker killed twice",
            )
        }
        Benchmark::Memory => {
            let outcome = match new_db().await {
                Ok(url) => memory::run(&url, &options.memory).await,
                Err(e) => Err(e),
            };
            (outcome, "Server memory under huge uploads")
        }
        Benchmark::CalDav => {
            let outcome = match new_db().await {
                Ok(url) => caldav::run(&url, &options.caldav).await,
                Err(e) => Err(e),
            };
            (outcome, "CalDAV poll of an unchanged calendar")
        }
        Benchmark::Jmap => {
            let outcome = match new_db().await {
                Ok(url) => jmap::run(&url, &options.jmap).await,
                Err(e) => Err(e),
            };
            (outcome, "Fastmail / JMAP first sync against Cyrus")
        }
        Benchmark::Search => {
            let outcome = match new_db().await {
                Ok(url) => search::run(&url, &options.search).await,
                Err(e) => Err(e),
            };
            (outcome, "Takeout import and mail search against notmuch")
        }
        Benchmark::Onboarding => {
            let outcome = match new_db().await {
                Ok(url) => onboarding::run(&url, &options.onboarding).await,
                Err(e) => Err(e),
            };
            (outcome, "First contacts after sign-in")
        }
    };
    pg.stop().await?;
    let (figures, markdown) = match outcome {
        // A run whose checks failed still records what it measured, then fails.
        Err(error) if error.is::<results::ChecksFailed>() => {
            let failed = error
                .downcast_ref::<results::ChecksFailed>()
                .expect("checked");
            let results = Results::new(&options.out);
            results.record(&failed.figures)?;
            results.write_section(title, &failed.markdown)?;
            return Err(error);
        }
        outcome => outcome?,
    };

    let results = Results::new(&options.out);
    results.record(&figures)?;
    results.write_section(title, &markdown)?;
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(())
}
