//! This process's CPU time and peak memory, read from /proc (Linux).

use std::time::Duration;

/// User + system CPU time used by this process so far.
pub fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ')'.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

/// The machine's busy CPU time from now on, to divide among what a measurement did.
pub struct MachineBusy(Duration);

impl MachineBusy {
    pub fn start() -> Self {
        Self(machine_busy())
    }

    /// Busy CPU time since [`MachineBusy::start`].
    pub fn elapsed(&self) -> Duration {
        machine_busy().saturating_sub(self.0)
    }
}

/// `busy` in milliseconds per one of `count` things done.
pub fn ms_each(busy: Duration, count: usize) -> f64 {
    busy.as_secs_f64() * 1000.0 / count.max(1) as f64
}

/// CPU time the whole machine has spent busy so far (every process and the kernel; not
/// idle, not waiting for the disk), summed over its cores.
fn machine_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    // "cpu  user nice system idle iowait irq softirq steal ...": all but idle and iowait.
    let ticks: u64 = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .map_or(0, |line| {
            line.split_whitespace()
                .skip(1)
                .take(8)
                .enumerate()
                .filter(|(i, _)| *i != 3 && *i != 4)
                .filter_map(|(_, v)| v.parse::<u64>().ok())
                .sum()
        });
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Peak resident memory since start or the last [`reset_peak_memory`], in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Starts a new peak-memory window (Linux: writing 5 to clear_refs resets VmHWM).
pub fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
