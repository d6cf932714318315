//! Google Takeout (mbox) import, two ways in: `server import-mbox FILE --user EMAIL`
//! imports directly, and the Settings upload streams the file to the data folder and
//! queues an `mbox.import` job. Both end in the same domain pipeline, which skips mail
//! already synced from Gmail (same Message-ID).

use std::path::{Path, PathBuf};
use std::time::Instant;

use app::ssr::CurrentUser;
use app::{AppError, ErrorKind};
use axum::Extension;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::Db;
use domain::sync::jobs::ImportMbox;
use embedded_pg::{EmbeddedOptions, EmbeddedPostgres, cluster_running};
use tokio::io::AsyncWriteExt;

use crate::config::Config;
use crate::startup::{AppState, DATABASE_NAME};
use crate::streaming::{ChunkSink, Quota, read_small_field, stream_field};

pub const IMPORT_USAGE: &str = "usage: server import-mbox FILE --user EMAIL [--name NAME]";

/// `server import-mbox`: imports a file for an existing user and prints the counts.
pub async fn import_mbox_command(config: Config, args: &[String]) -> anyhow::Result<()> {
    let command = ImportCommand::parse(args)?;
    let (db, embedded) = open_database(
        &config,
        "upload the file in Settings -> Import mail, or stop the server and run this again",
    )
    .await?;
    let result = run_import(&db, &command, config.mbox_limits).await;
    db.close().await;
    if let Some(pg) = embedded {
        pg.stop().await?;
    }
    result
}

#[derive(Debug, PartialEq, Eq)]
struct ImportCommand {
    file: PathBuf,
    user: String,
    name: String,
}

impl ImportCommand {
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let (mut file, mut user, mut name) = (None, None, None);
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--user" => user = args.next().cloned(),
                "--name" => name = args.next().cloned(),
                flag if flag.starts_with("--") => {
                    anyhow::bail!("unknown option {flag}\n{IMPORT_USAGE}")
                }
                path if file.is_none() => file = Some(PathBuf::from(path)),
                extra => anyhow::bail!("unexpected argument {extra:?}\n{IMPORT_USAGE}"),
            }
        }
        let file = file.ok_or_else(|| anyhow::anyhow!("which file?\n{IMPORT_USAGE}"))?;
        let user =
            user.ok_or_else(|| anyhow::anyhow!("whose mail? give --user EMAIL\n{IMPORT_USAGE}"))?;
        let name = name.unwrap_or_else(|| account_name(file.file_name().and_then(|n| n.to_str())));
        Ok(Self {
            file,
            user: user.trim().to_lowercase(),
            name,
        })
    }
}

/// The configured database for a command-line tool: `DATABASE_URL`, or the embedded
/// cluster when the server is not running on it (else the error says `busy_hint`).
pub(crate) async fn open_database(
    config: &Config,
    busy_hint: &str,
) -> anyhow::Result<(Db, Option<EmbeddedPostgres>)> {
    if let Some(url) = &config.database_url {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        return Ok((db, None));
    }
    let data_dir = config.data_dir.join("postgres");
    if cluster_running(&data_dir) {
        anyhow::bail!(
            "Rapport is running on this data folder ({}); {busy_hint}",
            config.data_dir.display()
        );
    }
    let pg = EmbeddedPostgres::start(EmbeddedOptions {
        data_dir,
        ephemeral: false,
    })
    .await?;
    pg.ensure_database(DATABASE_NAME).await?;
    let db = Db::connect(&pg.url(DATABASE_NAME)).await?;
    db.migrate().await?;
    Ok((db, Some(pg)))
}

/// The one user `--user EMAIL` names, by sign-in address or linked Google account.
/// Refuses when several users match (one's sign-in address is another's linked
/// account, say) and names them, rather than importing mail into a guess.
pub async fn command_line_user(db: &Db, email: &str) -> anyhow::Result<domain::UserId> {
    let matches = db.users_by_email(email).await?;
    match matches.as_slice() {
        [] => anyhow::bail!("no Rapport user {email}; sign in once with that Google account first"),
        [(user, _)] => Ok(*user),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|(user, login)| format!("{login} (user {})", user.0))
                .collect();
            anyhow::bail!(
                "{email} names {} Rapport users: {}; refusing to guess whose mail this is",
                several.len(),
                names.join(", ")
            )
        }
    }
}

async fn run_import(
    db: &Db,
    command: &ImportCommand,
    limits: domain::mail::mbox::MboxLimits,
) -> anyhow::Result<()> {
    check_mbox_start(&command.file)?;
    let user = command_line_user(db, &command.user).await?;
    let started = Instant::now();
    let report = db
        .for_user(user)
        .sync()
        .import_mbox(&command.file, &command.name, limits)
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "imported {} into \"{}\" for {}: {} messages read, {} new, {} already imported, \
         {} already synced from Gmail, {} filtered (spam, drafts, trash), {} failed; \
         {:.1} s, {:.0} messages/s",
        command.file.display(),
        command.name,
        command.user,
        report.read,
        report.imported,
        report.updated,
        report.duplicates,
        report.filtered,
        report.failed,
        seconds,
        report.read as f64 / seconds.max(f64::EPSILON),
    );
    Ok(())
}

/// An mbox starts with a "From " separator line (after optional blank lines).
fn looks_like_mbox(start: &[u8]) -> bool {
    let text = start.trim_ascii_start();
    text.starts_with(b"From ") || (text.is_empty() && start.len() < 5)
}

fn check_mbox_start(path: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let mut start = [0_u8; 512];
    let mut file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let n = file.read(&mut start)?;
    if !looks_like_mbox(&start[..n]) {
        anyhow::bail!(
            "{} is not an mbox file: it should begin with a \"From \" line (Google Takeout's Mail export is one)",
            path.display()
        );
    }
    Ok(())
}

/// The account name for an uploaded file: its name without the extension, limited to
/// printable characters.
fn account_name(file_name: Option<&str>) -> String {
    let stem = file_name
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
        .map(|n| n.strip_suffix(".mbox").unwrap_or(n))
        .unwrap_or_default();
    let clean: String = stem.chars().filter(|c| !c.is_control()).take(80).collect();
    match clean.trim() {
        "" => "Imported mail".to_owned(),
        name => name.to_owned(),
    }
}

fn no_file() -> AppError {
    AppError::new(ErrorKind::BadRequest, "choose an .mbox file to upload")
}

fn too_large(limit: u64) -> AppError {
    AppError::new(
        ErrorKind::TooLarge,
        format!("the file is larger than the {limit} bytes allowed"),
    )
}

fn one_file() -> AppError {
    AppError::new(ErrorKind::TooLarge, "an upload may carry one mbox file")
}

fn not_mbox() -> AppError {
    AppError::new(
        ErrorKind::Invalid,
        "this is not an mbox file: it should begin with a \"From \" line",
    )
    .with_field("file")
}

/// `POST /settings/import-mbox` (multipart: `file`, optional `name`). A browser form is
/// sent back to Settings with the outcome; other clients get the status and JSON.
pub async fn upload_mbox(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let outcome = receive_upload(&state, &user, multipart).await;
    match (outcome, wants_html) {
        (Ok(_), true) => Redirect::to("/settings?import=queued#import").into_response(),
        (Ok(name), false) => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({ "queued": true, "name": name })),
        )
            .into_response(),
        (Err(error), true) => {
            // The page shows a fixed message for the code, never text from the URL.
            let error = error.reported();
            let code = match error.kind() {
                ErrorKind::BadRequest => api::notices::ImportError::NoFile,
                ErrorKind::TooLarge => api::notices::ImportError::TooLarge,
                ErrorKind::Invalid => api::notices::ImportError::NotMbox,
                _ => api::notices::ImportError::Unknown,
            };
            Redirect::to(&format!("/settings?import_error={}#import", code.code())).into_response()
        }
        (Err(error), false) => error.into_response(),
    }
}

async fn receive_upload(
    state: &AppState,
    user: &CurrentUser,
    mut multipart: Multipart,
) -> Result<String, AppError> {
    let _slot = state.uploads.slots.acquire(user.id.0)?;
    let mut quota = state.uploads.room(&state.db.for_user(user.id)).await?;
    let dir = state.imports_dir.clone();
    tokio::fs::create_dir_all(&dir).await?;
    let mut stored: Option<(PathBuf, String)> = None;
    let mut name: Option<String> = None;
    let result = async {
        while let Some(mut field) = multipart.next_field().await? {
            match field.name() {
                Some("file") if stored.is_some() => return Err(one_file()),
                Some("file") => {
                    let default_name = account_name(field.file_name());
                    let path = dir.join(format!("{}.mbox", uuid::Uuid::new_v4()));
                    // Recorded before writing, so a failed upload is cleaned up below.
                    stored = Some((path.clone(), default_name));
                    save_field(field, &path, state.max_mbox_bytes, &mut quota).await?;
                }
                Some("name") => {
                    let text = read_small_field(&mut field).await?;
                    name = Some(text).filter(|t| !t.trim().is_empty());
                }
                _ => {
                    read_small_field(&mut field).await?;
                }
            }
        }
        let (path, default_name) = stored.clone().ok_or_else(no_file)?;
        let name = name.map_or(default_name, |n| account_name(Some(&n)));
        let payload = ImportMbox {
            path,
            name,
            limits: state.mbox_limits,
        };
        state.db.for_user(user.id).jobs().enqueue(&payload).await?;
        Ok(payload.name)
    }
    .await;
    if result.is_err()
        && let Some((path, _)) = &stored
    {
        let _ = tokio::fs::remove_file(path).await;
    }
    result
}

/// Streams one part to `path`, never holding more than a chunk in memory, and stops as
/// soon as it passes `limit` bytes or turns out not to be an mbox.
async fn save_field(
    mut field: axum::extract::multipart::Field<'_>,
    path: &Path,
    limit: u64,
    quota: &mut Quota,
) -> Result<(), AppError> {
    let file = tokio::fs::File::create(path).await?;
    let mut sink = MboxSink {
        file,
        written: 0,
        head: Vec::new(),
        limit,
        quota,
    };
    stream_field(&mut field, &mut sink).await?;
    if sink.written == 0 {
        return Err(no_file());
    }
    if !looks_like_mbox(&sink.head) {
        return Err(not_mbox());
    }
    sink.file.flush().await?;
    sink.file.sync_all().await?;
    Ok(())
}

/// An mbox being written: refuses it once past the limit or when its start is not an
/// mbox's.
struct MboxSink<'a> {
    file: tokio::fs::File,
    written: u64,
    head: Vec<u8>,
    limit: u64,
    quota: &'a mut Quota,
}

impl ChunkSink for MboxSink<'_> {
    type Error = AppError;

    async fn write(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        self.written += chunk.len() as u64;
        if self.written > self.limit {
            return Err(too_large(self.limit));
        }
        self.quota.take(chunk.len() as u64)?;
        if self.head.len() < 512 {
            let take = chunk.len().min(512 - self.head.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() >= 5 && !looks_like_mbox(&self.head) {
                return Err(not_mbox());
            }
        }
        Ok(self.file.write_all(chunk).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_command_line_names_a_file_a_user_and_optionally_an_account() {
        let command = ImportCommand::parse(&args(&[
            "mail/All mail.mbox",
            "--user",
            " Alex@Example.com ",
        ]))
        .unwrap();
        assert_eq!(
            command,
            ImportCommand {
                file: PathBuf::from("mail/All mail.mbox"),
                user: "alex@example.com".into(),
                name: "All mail".into(),
            }
        );
        let named =
            ImportCommand::parse(&args(&["a.mbox", "--user", "a@b.co", "--name", "Old job"]));
        assert_eq!(named.unwrap().name, "Old job");
        for bad in [
            &["a.mbox"][..],
            &["--user", "a@b.co"],
            &["a", "b", "--user", "x@y.z"],
            &["a", "--users", "x"],
        ] {
            assert!(ImportCommand::parse(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mbox_files_start_with_a_from_line() {
        assert!(looks_like_mbox(
            b"From 1234@xxx Sat Jan 03 01:05:34 +0000 2026\r\nX-GM-THRID: 1"
        ));
        assert!(looks_like_mbox(
            b"\n\nFrom MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
        ));
        assert!(!looks_like_mbox(b"Received: from mx.example.com\n"));
        assert!(!looks_like_mbox(b"%PDF-1.7\n"));
        assert!(!looks_like_mbox(b"PK\x03\x04zipdata"));
    }

    #[test]
    fn account_names_come_from_the_file_name_without_path_or_controls() {
        assert_eq!(
            account_name(Some("All mail Including Spam and Trash.mbox")),
            "All mail Including Spam and Trash"
        );
        assert_eq!(account_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(account_name(Some("C:\\Users\\me\\old.mbox")), "old");
        assert_eq!(account_name(Some("bad\u{7}\nname.mbox")), "badname");
        assert_eq!(account_name(Some("   ")), "Imported mail");
        assert_eq!(account_name(None), "Imported mail");
        assert_eq!(account_name(Some(&"x".repeat(500))).chars().count(), 80);
    }
}
