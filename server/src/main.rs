use server::Application;
use server::config::Config;

const USAGE: &str = "usage: server [serve|worker|import-mbox|export-events|agent]\n\n  serve          run the web server with its background workers (default)\n  worker         run background workers only, against a server's DATABASE_URL and Google settings\n  import-mbox    FILE --user EMAIL [--name NAME]: import a Google Takeout mbox file\n  export-events  --user EMAIL [--since DATE]: write the user's events to stdout as JSON Lines\n  agent          --base-url URL --token TOKEN --contact EMAIL: summarise a contact's completed activities into a note through the Notes API\n\nSettings come from the environment and .env; see .env.example.";

// glibc's malloc was a fifth of the server's CPU time rendering pages (perf: malloc,
// free, consolidation); mimalloc's per-thread pages cost a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A missing .env is normal; a malformed one is reported by the config errors below.
    let _ = dotenvy::dotenv();
    let command = std::env::args().nth(1);
    match command.as_deref() {
        None | Some("serve") => exit_code(serve().await),
        Some("worker") => exit_code(worker().await),
        Some("import-mbox") => exit_code(import_mbox().await),
        Some("export-events") => exit_code(export_events().await),
        Some("agent") => exit_code(agent().await),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            std::process::ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            std::process::ExitCode::from(2)
        }
    }
}

fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("rapport: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn worker() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    server::telemetry::init(config.log_format);
    server::run_workers(config, shutdown_signal()).await
}

async fn import_mbox() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    server::telemetry::init(config.log_format);
    let args: Vec<String> = std::env::args().skip(2).collect();
    server::import::import_mbox_command(config, &args).await
}

/// Logs stay off: stdout carries the events.
async fn export_events() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let args: Vec<String> = std::env::args().skip(2).collect();
    server::events::export_events_command(config, &args).await
}

/// Runs the example agent once and says what it did.
async fn agent() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let options =
        server::agent::AgentOptions::parse(&args, std::env::var("RAPPORT_API_TOKEN").ok())?;
    match server::agent::run(&options).await? {
        server::agent::AgentOutcome::Wrote(note) => {
            println!(
                "wrote note {} on contact {}:\n{}",
                note.id, note.contact_id, note.body
            );
        }
        server::agent::AgentOutcome::NothingToSummarise => {
            println!("no completed activities yet: nothing to summarise");
        }
    }
    Ok(())
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    server::telemetry::init(config.log_format);
    let app = Application::build(config).await?;
    app.run_until_stopped(shutdown_signal()).await
}

/// Ctrl-C or SIGTERM: stop accepting, finish requests, stop the database.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
