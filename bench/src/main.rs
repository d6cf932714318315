//! `make bench`: measures Rapport against fakes on 127.0.0.1 and a durable embedded
//! PostgreSQL, then records the figures in bench/RESULTS.md and bench/results.json.
//!
//! ```text
//! bench sync [--sizes 1000,10000] [--mbox 100000] [--out DIR]
//! ```

mod process;
mod results;
mod sync;

use std::sync::atomic::{AtomicUsize, Ordering};

use domain::Db;
use domain::db::embedded::{EmbeddedOptions, EmbeddedPostgres};

use results::Results;

const USAGE: &str = "usage: bench sync [--sizes 1000,10000] [--mbox 100000] [--out DIR]";

struct Options {
    sizes: Vec<usize>,
    mbox: usize,
    out: std::path::PathBuf,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut options = Options {
        sizes: vec![1_000, 10_000],
        mbox: 100_000,
        out: results::default_dir(),
    };
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        Some("sync") => {}
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
            "--out" => options.out = value.into(),
            other => anyhow::bail!("unknown option {other}\n{USAGE}"),
        }
    }
    Ok(options)
}

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
    let pg = EmbeddedPostgres::start(EmbeddedOptions {
        data_dir: data.path().join("postgres"),
        ephemeral: false,
    })
    .await?;
    let databases = AtomicUsize::new(0);
    let new_db = async || {
        let name = format!("bench_{}", databases.fetch_add(1, Ordering::SeqCst));
        pg.ensure_database(&name).await?;
        let url = pg.url(&name);
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        db.pool().close().await;
        anyhow::Ok(url)
    };
    let outcome = sync::run(new_db, &options.sizes, options.mbox).await;
    pg.stop().await?;
    let (figures, markdown) = outcome?;

    let results = Results::new(&options.out);
    results.record(&figures)?;
    results.write_section("Gmail sync and Takeout import", &markdown)?;
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(())
}
