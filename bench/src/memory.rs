//! `bench memory`: the server's resident memory while it takes huge uploads. The real
//! `server serve` runs as a child process (one worker inside, so the import runs in the
//! measured process) and its VmRSS is sampled every 250 ms:
//!
//! (a) a single-message mbox of `--mbox-gib` GiB (a From_ line, headers, then body lines),
//!     streamed to `POST /settings/import-mbox` and imported to the end; the message is
//!     past `RAPPORT_MBOX_MAX_MESSAGE_BYTES`, so the ledger must say filtered,
//!     `message-too-large`;
//! (b) a multipart upload whose non-file `name` part is `--name-gib` GiB, which must be
//!     refused with 413 without being buffered. It runs first, from idle: memory the
//!     import frees may stay with the allocator for a while.
//!
//! Either rising more than `--rss-budget-mib` (200) above idle fails the run.
//!
//! Bodies are generated on the fly and written over a plain TCP connection (HTTP/1.1
//! with a Content-Length), so this process never holds them, and a refusal is seen as
//! soon as the server answers, while the body is still being sent.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::child::{RssSampler, ServerProcess, free_port, idle_rss_mib};
use crate::client::{User, fake_google, server_env, settle, wait_for_import};
use crate::results::ChecksFailed;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const OWNER: &str = "memory.bench@example.com";

pub struct Scale {
    pub mbox_gib: f64,
    pub name_gib: f64,
    /// Largest RSS rise above idle allowed during either upload.
    pub rss_budget_mib: f64,
}

pub async fn run(
    database_url: &str,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let google = fake_google(&[("Memory Bench", OWNER, 100, 7)]).await?;
    let data = tempfile::tempdir()?;
    let port = free_port()?;
    let address = format!("http://127.0.0.1:{port}");
    let mbox_bytes = (scale.mbox_gib * GIB) as u64;
    let mut env = server_env(database_url, data.path(), google.base_url(), port);
    env.extend(
        [
            ("RAPPORT_WORKERS", "1".to_owned()),
            ("RAPPORT_SYNC_INTERVAL_SECS", "3600".to_owned()),
            // Room for the file: these limits are not what is measured.
            (
                "RAPPORT_MAX_MBOX_BYTES",
                (mbox_bytes + (1 << 30)).max(8 << 30).to_string(),
            ),
            (
                "RAPPORT_STORAGE_QUOTA_BYTES",
                (2 * mbox_bytes + (1 << 30)).max(5 << 30).to_string(),
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let mut server = ServerProcess::start("serve", "server", &env, data.path())?;
    server
        .wait_healthy(&address, Duration::from_secs(60))
        .await?;
    let pid = server.pid();
    let sampler = RssSampler::start(pid, Duration::from_millis(250));
    let sql = PgPool::connect(database_url).await?;

    let user = User::sign_in(&address, OWNER).await?;
    settle(&sql, Duration::from_secs(120)).await?;
    let idle = idle_rss_mib(pid, 12).await;
    eprintln!("memory: idle RSS {idle:.1} MiB");

    let boundary = "rapport-bench-boundary-7d1e";
    // (b) first, from idle (the import leaves memory the allocator may keep a while):
    // a `name` part of name_gib GiB, refused (413) as it streams.
    sampler.reset();
    let name_bytes = (scale.name_gib * GIB) as u64;
    let started = Instant::now();
    let refused = raw_upload(
        &user,
        "/settings/import-mbox",
        boundary,
        Body {
            prefix: format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
            )
            .into_bytes(),
            repeat: vec![b'a'; 64 * 1024],
            count: name_bytes.div_ceil(64 * 1024),
            suffix: format!("\r\n--{boundary}--\r\n").into_bytes(),
        },
    )
    .await?;
    let name_seconds = started.elapsed().as_secs_f64();
    let name_peak = sampler.stats().max_mib;
    anyhow::ensure!(
        refused.status == 413,
        "the {:.1} GiB name part answered {} after {} bytes: {}",
        scale.name_gib,
        refused.status,
        refused.sent,
        refused.answer
    );
    eprintln!(
        "memory: {:.1} GiB name part refused (413) after {} bytes sent in {name_seconds:.2} s, peak {name_peak:.1} MiB",
        scale.name_gib, refused.sent
    );
    // (a) The huge single-message mbox: upload, then the import job to its end.
    sampler.reset();
    let prefix = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.mbox\"\r\n\
         Content-Type: application/mbox\r\n\r\n\
         From bench@example.com Thu Jan 02 03:04:05 +0000 2025\n\
         From: Big Sender <big@example.com>\nTo: {OWNER}\nSubject: one huge message\n\
         Message-ID: <huge-message@bench.example>\nDate: Thu, 2 Jan 2025 03:04:05 +0000\n\n"
    );
    let line = format!("{}\n", "x".repeat(63));
    let started = Instant::now();
    let upload = raw_upload(
        &user,
        "/settings/import-mbox",
        boundary,
        Body {
            prefix: prefix.into_bytes(),
            repeat: line.repeat(1024).into_bytes(),
            count: mbox_bytes.div_ceil(64 * 1024),
            suffix: format!("\n\r\n--{boundary}--\r\n").into_bytes(),
        },
    )
    .await?;
    let upload_seconds = started.elapsed().as_secs_f64();
    let upload_peak = sampler.stats().max_mib;
    anyhow::ensure!(
        upload.status == 202,
        "the mbox upload answered {}: {}",
        upload.status,
        upload.answer
    );
    eprintln!(
        "memory: {:.2} GiB mbox uploaded in {upload_seconds:.1} s, peak {upload_peak:.1} MiB",
        upload.sent as f64 / GIB
    );
    let import_started = Instant::now();
    wait_for_import(&sql, &mut server, Duration::from_secs(3600)).await?;
    let import_seconds = import_started.elapsed().as_secs_f64();
    let mbox_peak = sampler.stats().max_mib;
    let ledger: Vec<(String, Option<String>)> = sqlx::query_as(
        "select l.outcome, l.rule from sync_ledger l join accounts a on a.id = l.account_id
         where a.provider = 'mbox'",
    )
    .fetch_all(&sql)
    .await?;
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from activities ac join accounts a on a.id = ac.account_id
         where a.provider = 'mbox'",
    )
    .fetch_one(&sql)
    .await?;
    anyhow::ensure!(
        ledger == [("filtered".to_owned(), Some("message-too-large".to_owned()))] && stored == 0,
        "the huge message should be filtered as message-too-large and not stored; ledger {ledger:?}, {stored} stored"
    );
    eprintln!(
        "memory: imported (filtered message-too-large) in {import_seconds:.1} s, peak {mbox_peak:.1} MiB"
    );

    server.ensure_running()?;
    sampler.stop();
    server.stop(Duration::from_secs(20)).await?;
    sql.close().await;

    let mbox_label = label(scale.mbox_gib);
    let name_label = label(scale.name_gib);
    let figures = BTreeMap::from([
        ("memory_idle_rss_mib".to_owned(), idle),
        (
            format!("memory_mbox_{mbox_label}gib_rss_peak_above_idle_mib"),
            mbox_peak - idle,
        ),
        (
            format!("memory_mbox_{mbox_label}gib_upload_seconds"),
            upload_seconds,
        ),
        (
            format!("memory_mbox_{mbox_label}gib_import_seconds"),
            import_seconds,
        ),
        (
            format!("memory_name_part_{name_label}gib_rss_peak_above_idle_mib"),
            name_peak - idle,
        ),
        (
            format!("memory_name_part_{name_label}gib_refusal_seconds"),
            name_seconds,
        ),
        (
            format!("memory_name_part_{name_label}gib_bytes_sent_before_refusal"),
            refused.sent as f64,
        ),
    ]);
    let markdown = format!(
        "The real `server serve` (release build, one worker inside it, so the import runs in \
         the measured process) as a child process; its VmRSS sampled every 250 ms. Idle: after \
         sign-in and the first sync of a 100-message mailbox settled.\n\n\
         | upload | size | answer | time | RSS peak | above idle |\n|---|---:|---|---:|---:|---:|\n\
         | idle | | | | {idle:.0} MiB | |\n\
         | single-message mbox, upload (`POST /settings/import-mbox`) | {mbox_gib:.2} GiB | 202 | {upload_seconds:.1} s | {upload_peak:.0} MiB | {:.0} MiB |\n\
         | same, upload + import to its end (ledger: filtered, `message-too-large`) | | | {:.1} s | {mbox_peak:.0} MiB | {:.0} MiB |\n\
         | multipart `name` part (refused while streaming; {sent} bytes sent before the answer) | {name_gib:.2} GiB | 413 | {name_seconds:.2} s | {name_peak:.0} MiB | {:.0} MiB |\n\n\
         The import's peak is set by the per-message cap, not by the file: the mbox reader \
         keeps a message of up to `RAPPORT_MBOX_MAX_MESSAGE_BYTES` (50 MiB, in a buffer that \
         grows by doubling) before it knows to skip it, then reads the rest through. The \
         `name` part is refused after its first KiB; what was sent before the answer is what \
         the sockets buffered.\n",
        upload_peak - idle,
        upload_seconds + import_seconds,
        mbox_peak - idle,
        name_peak - idle,
        mbox_gib = upload.sent as f64 / GIB,
        name_gib = scale.name_gib,
        sent = refused.sent,
    );
    let problems: Vec<String> = [
        ("the mbox upload and import", mbox_peak - idle),
        ("the name part", name_peak - idle),
    ]
    .into_iter()
    .filter(|(_, rise)| *rise > scale.rss_budget_mib)
    .map(|(what, rise)| {
        format!(
            "RSS rose {rise:.0} MiB above idle during {what} (budget {} MiB)",
            scale.rss_budget_mib
        )
    })
    .collect();
    ChecksFailed::unless_empty(problems, figures, markdown)
}

/// `7` for 7 GiB, `0_25` for a quarter.
fn label(gib: f64) -> String {
    let text = format!("{gib}");
    text.replace('.', "_")
}

/// A request body made on the fly: `prefix`, `count` times `repeat`, then `suffix`.
struct Body {
    prefix: Vec<u8>,
    repeat: Vec<u8>,
    count: u64,
    suffix: Vec<u8>,
}

impl Body {
    fn len(&self) -> u64 {
        self.prefix.len() as u64 + self.repeat.len() as u64 * self.count + self.suffix.len() as u64
    }
}

struct Answer {
    status: u16,
    /// Body bytes written before the server answered (or the whole body).
    sent: u64,
    answer: String,
}

/// POSTs `body` as multipart over a plain connection, stopping as soon as the server
/// answers (a refusal mid-body) or the connection closes; a closed connection after an
/// answer still counts as that answer.
async fn raw_upload(user: &User, path: &str, boundary: &str, body: Body) -> anyhow::Result<Answer> {
    let host = user.address.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&host).await?;
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nCookie: {cookie}\r\n\
         Accept: application/json\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n",
        origin = user.address,
        cookie = user.cookie_header(),
        len = body.len(),
    );
    let answered = tokio_util::sync::CancellationToken::new();
    let read = {
        let answered = answered.clone();
        tokio::spawn(async move {
            let mut response = Vec::new();
            let mut buf = [0_u8; 8192];
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        response.extend_from_slice(&buf[..n]);
                        // A final answer (not 100 Continue) has arrived: stop sending.
                        if response.windows(4).any(|w| w == b"\r\n\r\n")
                            && !response.starts_with(b"HTTP/1.1 100")
                        {
                            answered.cancel();
                        }
                        if response.len() > 64 * 1024 {
                            break;
                        }
                    }
                }
            }
            answered.cancel();
            response
        })
    };
    let mut sent = 0_u64;
    let write = async {
        writer.write_all(head.as_bytes()).await?;
        writer.write_all(&body.prefix).await?;
        sent += body.prefix.len() as u64;
        for _ in 0..body.count {
            if answered.is_cancelled() {
                return Ok(());
            }
            writer.write_all(&body.repeat).await?;
            sent += body.repeat.len() as u64;
        }
        writer.write_all(&body.suffix).await?;
        sent += body.suffix.len() as u64;
        writer.flush().await?;
        std::io::Result::Ok(())
    };
    // A write error (the server closed the connection after refusing) is not the
    // outcome: the answer read so far is.
    let write_error = write.await.err();
    let response = tokio::time::timeout(Duration::from_secs(600), read).await??;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    if status == 0 {
        anyhow::bail!(
            "no answer to POST {path} after {sent} body bytes (write error: {write_error:?})"
        );
    }
    let answer = text
        .split_once("\r\n\r\n")
        .map_or(text.clone(), |(_, body)| body.to_owned());
    Ok(Answer {
        status,
        sent,
        answer,
    })
}
