//! Runs Fake Google for demos and manual testing.
//!
//! ```text
//! fake-google [--port N] [--messages N] [--seed N] [--no-quota]
//!             [--token-ttl-secs N] [--error-rate F] [--latency-ms N]
//!             [--mbox PATH | --maildir PATH]
//! ```
//!
//! Prints the base URL on stdout and stops on Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fakes::google::{FakeGoogle, FakeGoogleConfig, MailboxSource};
use fakes::mailbox::MailboxSpec;

const USAGE: &str = "usage: fake-google [--port N] [--messages N] [--seed N] [--no-quota] [--token-ttl-secs N] [--error-rate F] [--latency-ms N] [--mbox PATH | --maildir PATH]";

fn parse_args(args: &[String]) -> Result<FakeGoogleConfig, String> {
    let mut config = FakeGoogleConfig::demo();
    let mut spec = MailboxSpec::demo(2000);
    let mut source: Option<MailboxSource> = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{name}: invalid number {v:?}"))
        }
        match flag.as_str() {
            "--port" => config.port = num("--port", value("--port")?)?,
            "--messages" => spec.messages = num("--messages", value("--messages")?)?,
            "--seed" => spec.seed = num("--seed", value("--seed")?)?,
            "--no-quota" => config.quota = false,
            "--token-ttl-secs" => {
                config.access_token_ttl =
                    Duration::from_secs(num("--token-ttl-secs", value("--token-ttl-secs")?)?)
            }
            "--error-rate" => {
                let rate: f64 = num("--error-rate", value("--error-rate")?)?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err("--error-rate must be within 0..=1".to_string());
                }
                config.faults.error_rate = rate;
            }
            "--latency-ms" => {
                config.faults.latency =
                    Duration::from_millis(num("--latency-ms", value("--latency-ms")?)?)
            }
            "--mbox" => source = Some(MailboxSource::Mbox(PathBuf::from(value("--mbox")?))),
            "--maildir" => {
                source = Some(MailboxSource::Maildir(PathBuf::from(value("--maildir")?)))
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    config.accounts[0].mailbox = source.unwrap_or(MailboxSource::Generated(spec));
    Ok(config)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut google = match FakeGoogle::start(config.clone()).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("fake-google: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", google.base_url());
    for a in &config.accounts {
        eprintln!("account: {} <{}>", a.name, a.email);
    }
    eprintln!(
        "client: {} / {}  (Ctrl-C to stop)",
        config.client_id, config.client_secret
    );
    tokio::select! {
        _ = shutdown_signal() => google.stop().await,
        _ = google.wait() => {}
    }
    ExitCode::SUCCESS
}
