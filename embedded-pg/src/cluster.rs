//! A PostgreSQL cluster that Rapport runs itself from the installed server binaries, so
//! `make run` needs no database setup. The cluster lives in a data folder, listens on
//! 127.0.0.1 on a free port with a generated password, and is stopped when the owner
//! stops it, drops it, or dies: a small watchdog process stops the cluster as soon as
//! the process that started it is gone (even after SIGKILL), so no postgres is orphaned.
//!
//! Postgres refuses to run as root; as root, the cluster and its tools run as the
//! `postgres` system user and the data folder is handed to that user.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use rand::Rng;
use rand::distr::Alphanumeric;
use tokio::process::Command;

const SUPERUSER: &str = "rapport";
const PASSWORD_FILE: &str = "rapport-password";
const LOG_FILE: &str = "server.log";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "no PostgreSQL server binaries found (looked at $RAPPORT_PG_BIN, `pg_config --bindir`, \
         /usr/lib/postgresql/*/bin); install Debian's `postgresql` package or set DATABASE_URL"
    )]
    BinariesNotFound,
    #[error("running as root needs the `postgres` system user to run the cluster: {0}")]
    NoPostgresUser(String),
    #[error("{action} failed: {detail}")]
    Command { action: String, detail: String },
    #[error(
        "cluster in {dir} exists but its password file is missing; remove the folder to start afresh"
    )]
    MissingPassword { dir: PathBuf },
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EmbeddedPgError + '_ {
    move |source| EmbeddedPgError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// The cluster folder (PGDATA). Created if missing; reused if it holds a cluster.
    pub data_dir: PathBuf,
    /// Trade durability for speed (fsync off): for throwaway test clusters only.
    pub ephemeral: bool,
}

/// Which OS user runs postgres: ourselves, or `postgres` when we are root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
    switch: bool,
}

#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    password: String,
    run_as: RunAs,
    ephemeral: bool,
    watchdog: Option<std::process::Child>,
    stopped: bool,
}

/// Whether a postgres process is alive for the cluster in `data_dir` (its
/// `postmaster.pid` names a running process): a second program must not adopt a cluster
/// that a running server owns, since it would stop it on exit.
pub fn cluster_running(data_dir: &Path) -> bool {
    std::fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()
        .and_then(|pid_file| pid_file.lines().next()?.trim().parse::<u32>().ok())
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

impl EmbeddedPostgres {
    pub async fn start(options: EmbeddedOptions) -> Result<Self, EmbeddedPgError> {
        let bin_dir = find_bin_dir().await?;
        let run_as = run_as().await?;
        let data_dir = absolute(&options.data_dir)?;
        std::fs::create_dir_all(&data_dir).map_err(io_err(&data_dir))?;
        hand_over(&data_dir, run_as)?;

        let password = if data_dir.join("PG_VERSION").exists() {
            std::fs::read_to_string(data_dir.join(PASSWORD_FILE))
                .map(|p| p.trim().to_owned())
                .map_err(|_| EmbeddedPgError::MissingPassword {
                    dir: data_dir.clone(),
                })?
        } else {
            init_cluster(&bin_dir, &data_dir, run_as, options.ephemeral).await?
        };

        let mut pg = Self {
            bin_dir,
            data_dir,
            port: 0,
            password,
            run_as,
            ephemeral: options.ephemeral,
            watchdog: None,
            stopped: false,
        };
        pg.port = match pg.running_port() {
            Some(port) if pg.pg_ctl(&["status"]).await.is_ok() => {
                tracing::warn!(
                    port,
                    "adopting a cluster left running by an earlier process"
                );
                port
            }
            _ => pg.start_server().await?,
        };
        pg.watchdog = Some(pg.spawn_watchdog()?);
        tracing::info!(data_dir = %pg.data_dir.display(), port = pg.port, "embedded postgres is up");
        Ok(pg)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A connection URL for `database` (which must exist; see [`Self::ensure_database`]).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    pub async fn ensure_database(&self, name: &str) -> Result<(), EmbeddedPgError> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            let quoted = name.replace('"', "\"\"");
            sqlx::query(&format!("create database \"{quoted}\""))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok(())
    }

    /// Fast shutdown (disconnects clients, checkpoints) and waits for it.
    pub async fn stop(mut self) -> Result<(), EmbeddedPgError> {
        self.stopped = true;
        let result = self
            .pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"])
            .await
            .map(|_| ());
        self.stop_watchdog();
        if self.ephemeral {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
        tracing::info!(data_dir = %self.data_dir.display(), "embedded postgres stopped");
        result
    }

    fn stop_watchdog(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }

    fn running_port(&self) -> Option<u16> {
        // postmaster.pid: line 4 is the port.
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    async fn start_server(&self) -> Result<u16, EmbeddedPgError> {
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            let options = format!("-p {port}");
            let log = self.data_dir.join(LOG_FILE);
            let log = log.to_string_lossy();
            match self
                .pg_ctl(&["start", "-w", "-t", "60", "-l", &log, "-o", &options])
                .await
            {
                Ok(_) => return Ok(port),
                Err(e) => last_error = Some(e),
            }
        }
        let log_tail = std::fs::read_to_string(self.data_dir.join(LOG_FILE)).unwrap_or_default();
        let tail: Vec<&str> = log_tail.lines().rev().take(5).collect();
        Err(match last_error {
            Some(EmbeddedPgError::Command { action, detail }) => EmbeddedPgError::Command {
                action,
                detail: format!(
                    "{detail}\nserver log:\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ),
            },
            Some(other) => other,
            None => unreachable!("three attempts were made"),
        })
    }

    async fn pg_ctl(&self, args: &[&str]) -> Result<String, EmbeddedPgError> {
        let data_dir = self.data_dir.to_string_lossy().into_owned();
        let mut full = vec!["-D", data_dir.as_str()];
        full.extend_from_slice(args);
        run(
            &self.bin_dir.join("pg_ctl"),
            &full,
            self.run_as,
            &format!("pg_ctl {}", args[0]),
        )
        .await
    }

    /// A shell loop, running as the cluster's OS user, that stops the cluster once the
    /// process that started it has exited (and, for ephemeral clusters, removes it).
    fn spawn_watchdog(&self) -> Result<std::process::Child, EmbeddedPgError> {
        use std::os::unix::process::CommandExt;
        let script = r#"
            while [ -d "/proc/$OWNER_PID" ]; do sleep 1; done
            "$PG_CTL" -D "$PGDATA_DIR" stop -m fast -w -t 60 >/dev/null 2>&1
            if [ "$EPHEMERAL" = 1 ]; then rm -rf "$PGDATA_DIR"; fi
        "#;
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .env("OWNER_PID", std::process::id().to_string())
            .env("PG_CTL", self.bin_dir.join("pg_ctl"))
            .env("PGDATA_DIR", &self.data_dir)
            .env("EPHEMERAL", if self.ephemeral { "1" } else { "0" })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Own process group: a Ctrl-C in the terminal must not kill the watchdog
            // before the server has stopped postgres itself.
            .process_group(0);
        if self.run_as.switch {
            cmd.uid(self.run_as.uid).gid(self.run_as.gid);
        }
        cmd.spawn().map_err(io_err(Path::new("sh")))
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        // Not stopped explicitly (a test ended, an error unwound): stop synchronously.
        let mut cmd = std::process::Command::new(self.bin_dir.join("pg_ctl"));
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args(["stop", "-m", "fast", "-w"]);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        if self.run_as.switch {
            use std::os::unix::process::CommandExt;
            cmd.uid(self.run_as.uid).gid(self.run_as.gid);
        }
        let _ = cmd.status();
        self.stop_watchdog();
        if self.ephemeral {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

async fn init_cluster(
    bin_dir: &Path,
    data_dir: &Path,
    run_as: RunAs,
    ephemeral: bool,
) -> Result<String, EmbeddedPgError> {
    let password: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    // initdb reads the superuser password from a file the cluster's OS user can read.
    let nonce: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(12)
        .map(char::from)
        .collect();
    let pwfile = std::env::temp_dir().join(format!("rapport-initdb-{nonce}"));
    std::fs::write(&pwfile, &password).map_err(io_err(&pwfile))?;
    std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o600))
        .map_err(io_err(&pwfile))?;
    if run_as.switch {
        std::os::unix::fs::chown(&pwfile, Some(run_as.uid), Some(run_as.gid))
            .map_err(io_err(&pwfile))?;
    }
    let data = data_dir.to_string_lossy();
    let pwfile_arg = format!("--pwfile={}", pwfile.display());
    let result = run(
        &bin_dir.join("initdb"),
        &[
            "-D",
            &data,
            "-U",
            SUPERUSER,
            &pwfile_arg,
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            // Byte-order collation (fast, predictable), but Unicode-aware case mapping,
            // so lower() and ILIKE fold "Åsa" and "ŁUKASZ" like their ASCII neighbours.
            "--locale=C",
            "--lc-ctype=C.UTF-8",
            "--no-instructions",
        ],
        run_as,
        "initdb",
    )
    .await;
    let _ = std::fs::remove_file(&pwfile);
    result?;

    let mut settings = String::from(
        "\n# Rapport embedded cluster\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n",
    );
    if ephemeral {
        settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
    }
    let conf = data_dir.join("postgresql.conf");
    let mut contents = std::fs::read_to_string(&conf).map_err(io_err(&conf))?;
    contents.push_str(&settings);
    std::fs::write(&conf, contents).map_err(io_err(&conf))?;

    let password_path = data_dir.join(PASSWORD_FILE);
    std::fs::write(&password_path, &password).map_err(io_err(&password_path))?;
    std::fs::set_permissions(&password_path, std::fs::Permissions::from_mode(0o600))
        .map_err(io_err(&password_path))?;
    hand_over(data_dir, run_as)?;
    Ok(password)
}

async fn run(
    program: &Path,
    args: &[&str],
    run_as: RunAs,
    action: &str,
) -> Result<String, EmbeddedPgError> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // pg_ctl start leaves postgres running: it must not share our process group, or a
    // terminal Ctrl-C would kill it before we stop it cleanly.
    cmd.process_group(0);
    if run_as.switch {
        cmd.uid(run_as.uid).gid(run_as.gid);
    }
    let output = cmd.output().await.map_err(io_err(program))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(EmbeddedPgError::Command {
            action: action.to_owned(),
            detail: format!("{} {}", stderr.trim(), stdout.trim())
                .trim()
                .to_owned(),
        })
    }
}

async fn find_bin_dir() -> Result<PathBuf, EmbeddedPgError> {
    let has_server = |dir: &Path| dir.join("postgres").is_file() && dir.join("initdb").is_file();
    if let Some(dir) = std::env::var_os("RAPPORT_PG_BIN").map(PathBuf::from) {
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(EmbeddedPgError::BinariesNotFound)
        };
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output().await {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Ok(dir);
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    candidates.sort();
    candidates
        .pop()
        .map(|(_, dir)| dir)
        .ok_or(EmbeddedPgError::BinariesNotFound)
}

async fn run_as() -> Result<RunAs, EmbeddedPgError> {
    let me = std::fs::metadata("/proc/self").map_err(io_err(Path::new("/proc/self")))?;
    if me.uid() != 0 {
        return Ok(RunAs {
            uid: me.uid(),
            gid: me.gid(),
            switch: false,
        });
    }
    let id = |flag: &'static str| async move {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .await
            .map_err(|e| EmbeddedPgError::NoPostgresUser(e.to_string()))?;
        if !out.status.success() {
            return Err(EmbeddedPgError::NoPostgresUser(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .map_err(|e| EmbeddedPgError::NoPostgresUser(e.to_string()))
    };
    Ok(RunAs {
        uid: id("-u").await?,
        gid: id("-g").await?,
        switch: true,
    })
}

/// Gives the cluster folder to the OS user that runs postgres, 0700 as postgres demands.
fn hand_over(dir: &Path, run_as: RunAs) -> Result<(), EmbeddedPgError> {
    fn walk(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
        let meta = std::fs::symlink_metadata(path)?;
        if meta.uid() != uid || meta.gid() != gid {
            std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
        }
        if meta.is_dir() {
            for entry in std::fs::read_dir(path)? {
                walk(&entry?.path(), uid, gid)?;
            }
        }
        Ok(())
    }
    if run_as.switch {
        walk(dir, run_as.uid, run_as.gid).map_err(io_err(dir))?;
        ensure_reachable(dir, run_as)?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_err(dir))
}

/// The `postgres` user must be able to walk down to the folder; say so plainly if not.
fn ensure_reachable(dir: &Path, run_as: RunAs) -> Result<(), EmbeddedPgError> {
    for ancestor in dir.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.permissions().mode();
        let can_enter = mode & 0o001 != 0
            || (meta.uid() == run_as.uid && mode & 0o100 != 0)
            || (meta.gid() == run_as.gid && mode & 0o010 != 0);
        if !can_enter {
            return Err(EmbeddedPgError::Command {
                action: "preparing the data folder".into(),
                detail: format!(
                    "the `postgres` user cannot enter {} (mode {:o}); choose a data folder it can reach \
                     with RAPPORT_DATA_DIR, or run as an ordinary user",
                    ancestor.display(),
                    mode & 0o777
                ),
            });
        }
    }
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, EmbeddedPgError> {
    std::path::absolute(path).map_err(io_err(path))
}

fn free_port() -> Result<u16, EmbeddedPgError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(io_err(Path::new("127.0.0.1:0")))?;
    Ok(listener
        .local_addr()
        .map_err(io_err(Path::new("127.0.0.1:0")))?
        .port())
}
