//! The real `server` binary as a child process (`serve` or `worker`), and its resident
//! memory sampled from /proc/<pid>/status (VmRSS), for the benchmarks that measure the
//! server's own memory rather than this process's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// The release `server` binary next to this one (target/release/server).
pub fn server_exe() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?.with_file_name("server");
    anyhow::ensure!(
        exe.exists(),
        "{} is missing: build it with `cargo build --release -p server`",
        exe.display()
    );
    Ok(exe)
}

/// A free port on 127.0.0.1 (bound, then released for the child to take).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// One `server` child process; SIGKILLed when dropped.
pub struct ServerProcess {
    child: Child,
    pub name: String,
    pub log: PathBuf,
}

impl ServerProcess {
    /// Starts `server <command>` with exactly `env` (plus PATH and HOME), logging to
    /// `<log_dir>/<name>.log`.
    pub fn start(
        command: &str,
        name: &str,
        env: &HashMap<String, String>,
        log_dir: &Path,
    ) -> anyhow::Result<Self> {
        let log = log_dir.join(format!("{name}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let mut cmd = Command::new(server_exe()?);
        cmd.arg(command)
            .env_clear()
            .envs(std::env::vars().filter(|(k, _)| k == "PATH" || k == "HOME"))
            .envs(env)
            // No .env of the working folder may change the settings.
            .current_dir(log_dir)
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .kill_on_drop(true);
        let child = cmd.spawn()?;
        Ok(Self {
            child,
            name: name.to_owned(),
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// SIGKILL, and reap it.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// SIGTERM, then waits up to `grace` for a clean exit (else SIGKILL).
    pub async fn stop(mut self, grace: Duration) -> anyhow::Result<()> {
        let pid = self.pid();
        if pid != 0 {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }

    /// Fails if the process has exited (with its log's tail).
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            anyhow::bail!(
                "{} exited ({status}); its log ({}) ends:\n{}",
                self.name,
                self.log.display(),
                log_tail(&self.log)
            );
        }
        Ok(())
    }

    /// Waits (bounded) until `GET {address}/healthz` answers 200.
    pub async fn wait_healthy(&mut self, address: &str, timeout: Duration) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            self.ensure_running()?;
            if let Ok(r) = client.get(format!("{address}/healthz")).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < timeout,
                "{} did not answer /healthz within {timeout:?}; log:\n{}",
                self.name,
                log_tail(&self.log)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Resident memory of `pid` now, in MiB (None once it is gone).
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
}

/// Samples the RSS of one process (whose pid may change: a restarted worker) at a fixed
/// period until stopped; keeps the maximum, the last value and the count of samples.
#[derive(Clone)]
pub struct RssSampler {
    pid: Arc<AtomicU32>,
    stats: Arc<Mutex<RssStats>>,
    stop: CancellationToken,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RssStats {
    pub max_mib: f64,
    pub last_mib: f64,
    pub samples: u64,
}

impl RssSampler {
    pub fn start(pid: u32, period: Duration) -> Self {
        let sampler = Self {
            pid: Arc::new(AtomicU32::new(pid)),
            stats: Arc::default(),
            stop: CancellationToken::new(),
        };
        let s = sampler.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = s.stop.cancelled() => break,
                    _ = tick.tick() => s.sample(),
                }
            }
        });
        sampler
    }

    fn sample(&self) {
        if let Some(mib) = rss_mib(self.pid.load(Ordering::SeqCst)) {
            let mut stats = self.stats.lock().expect("rss stats");
            stats.max_mib = stats.max_mib.max(mib);
            stats.last_mib = mib;
            stats.samples += 1;
        }
    }

    /// Follows another process from now on (the restarted worker).
    pub fn follow(&self, pid: u32) {
        self.pid.store(pid, Ordering::SeqCst);
    }

    /// Starts a new window: the maximum so far is forgotten.
    pub fn reset(&self) {
        *self.stats.lock().expect("rss stats") = RssStats::default();
        self.sample();
    }

    pub fn stats(&self) -> RssStats {
        self.sample();
        *self.stats.lock().expect("rss stats")
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// The idle RSS of `pid`: the median of `n` samples a quarter second apart.
pub async fn idle_rss_mib(pid: u32, n: usize) -> f64 {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        if let Some(mib) = rss_mib(pid) {
            samples.push(mib);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(0.0)
}
