//! `wrk`, the load generator of the HTTP benchmarks: a C client in its own process,
//! so the figures are the server's and PostgreSQL's, not a Rust client's sharing their
//! two cores; and its report read back.

use std::path::Path;
use std::time::Duration;

/// One `wrk` run: `connections` open connections on two threads for `seconds`, each
/// request made by the Lua `script`.
pub struct Load<'a> {
    pub url: &'a str,
    pub script: &'a Path,
    pub connections: usize,
    pub seconds: u64,
}

/// What a run measured: wrk's report and the machine's busy CPU time while it ran.
pub struct Measured {
    pub report: WrkReport,
    pub busy: Duration,
}

impl Load<'_> {
    pub async fn run(&self) -> anyhow::Result<Measured> {
        let busy = crate::process::MachineBusy::start();
        let output = tokio::process::Command::new("wrk")
            .args(["-t2", &format!("-c{}", self.connections)])
            .arg(format!("-d{}s", self.seconds))
            .args(["--timeout", "10s", "--latency", "-s"])
            .arg(self.script)
            .arg(self.url)
            .output()
            .await
            .map_err(|e| anyhow::anyhow!("running wrk ({e}); `make bench` installs it with apt"))?;
        let busy = busy.elapsed();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        anyhow::ensure!(output.status.success(), "wrk failed: {text}");
        eprintln!("{text}");
        Ok(Measured {
            report: WrkReport::parse(&text)?,
            busy,
        })
    }
}

#[derive(Debug, PartialEq)]
pub struct WrkReport {
    pub requests: u64,
    pub failed: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl WrkReport {
    /// Reads wrk 4's text report ("N requests in 20.00s", "Non-2xx or 3xx responses: N",
    /// the thread stats' latency line and the `--latency` percentile lines).
    fn parse(report: &str) -> anyhow::Result<Self> {
        let mut parsed = WrkReport {
            requests: 0,
            failed: 0,
            seconds: 0.0,
            p50_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
        };
        for line in report.lines().map(str::trim) {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [n, "requests", "in", time, ..] => {
                    parsed.requests = n.parse()?;
                    parsed.seconds = duration_ms(time.trim_end_matches(','))? / 1000.0;
                }
                ["Non-2xx", "or", "3xx", "responses:", n] => parsed.failed += n.parse::<u64>()?,
                ["Socket", "errors:", ..] => {
                    let errors: u64 = words
                        .iter()
                        .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                        .sum();
                    parsed.failed += errors;
                }
                ["Latency", _average, _deviation, max, ..] => parsed.max_ms = duration_ms(max)?,
                ["50%", time] => parsed.p50_ms = duration_ms(time)?,
                ["99%", time] => parsed.p99_ms = duration_ms(time)?,
                _ => {}
            }
        }
        anyhow::ensure!(
            parsed.requests > 0 && parsed.seconds > 0.0 && parsed.p99_ms > 0.0,
            "could not read wrk's report:\n{report}"
        );
        Ok(parsed)
    }
}

/// wrk's durations: `850.00us`, `12.34ms`, `1.20s`, `2.00m`.
fn duration_ms(text: &str) -> anyhow::Result<f64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| anyhow::anyhow!("no unit in {text:?}"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse()?;
    Ok(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        other => anyhow::bail!("unknown unit {other:?} in {text:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 10s test @ http://127.0.0.1:40000/ingest/x
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    2.20ms  40.00ms   80.00%
    Req/Sec     1.00k   100.00     1.20k    70.00%
  Latency Distribution
     50%    3.50ms
     75%    4.80ms
     90%    6.90ms
     99%   12.34ms
  19876 requests in 10.01s, 4.00MB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:   1985.61
Transfer/sec:    409.00KB
";

    #[test]
    fn reads_wrk_reports() {
        assert_eq!(
            WrkReport::parse(REPORT).unwrap(),
            WrkReport {
                requests: 19876,
                failed: 5,
                seconds: 10.01,
                p50_ms: 3.5,
                p99_ms: 12.34,
                max_ms: 40.0,
            }
        );
        assert!(WrkReport::parse("wrk: connection refused").is_err());
    }

    #[test]
    fn reads_wrk_durations() {
        assert_eq!(duration_ms("850.00us").unwrap(), 0.85);
        assert_eq!(duration_ms("1.20s").unwrap(), 1200.0);
        assert!(duration_ms("12").is_err());
    }
}
