//! Where figures go: `bench/results.json` (flat keys, merged with what other benchmarks
//! wrote) and `bench/RESULTS.md` (one section per benchmark, replaced on each run, with
//! the machine, date and commit it ran on).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct Results {
    dir: PathBuf,
}

impl Results {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Merges `figures` into results.json, keeping other benchmarks' keys.
    pub fn record(&self, figures: &BTreeMap<String, f64>) -> anyhow::Result<()> {
        let path = self.dir.join("results.json");
        let mut all: BTreeMap<String, serde_json::Value> = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e.into()),
        };
        for (key, value) in figures {
            let rounded = (value * 100.0).round() / 100.0;
            all.insert(key.clone(), serde_json::json!(rounded));
        }
        std::fs::create_dir_all(&self.dir)?;
        std::fs::write(&path, serde_json::to_string_pretty(&all)? + "\n")?;
        Ok(())
    }

    /// Replaces the section titled `title` in RESULTS.md (or appends it).
    pub fn write_section(&self, title: &str, body: &str) -> anyhow::Result<()> {
        let path = self.dir.join("RESULTS.md");
        let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            "# Benchmark results\n\nWritten by `make bench`; each section is replaced when its benchmark reruns.\n".to_owned()
        });
        let heading = format!("## {title}\n");
        // A blank line ends the section, before the next heading or the file's end.
        let section = format!("{heading}\n{}\n{}\n\n", provenance(), body.trim_end());
        let updated = match existing.find(&heading) {
            Some(start) => {
                let rest = &existing[start + heading.len()..];
                let end = rest
                    .find("\n## ")
                    .map_or(existing.len(), |i| start + heading.len() + i + 1);
                format!("{}{section}{}", &existing[..start], &existing[end..])
            }
            None => format!("{}\n\n{section}", existing.trim_end()),
        };
        std::fs::write(&path, updated.trim_end().to_owned() + "\n")?;
        Ok(())
    }
}

/// "Run 2026-11-22 09:41 UTC on <cpu> (2 cores, 24 GiB), commit abc1234."
fn provenance() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    format!(
        "Run {} on {cpu} ({cores} cores, {memory_gib:.0} GiB), commit {commit}.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    )
}

/// The bench folder of the repository (next to this crate's manifest).
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// A benchmark ran but one of its checks failed: the figures are still worth writing
/// down (main records them, then exits non-zero).
#[derive(Debug)]
pub struct ChecksFailed {
    pub figures: BTreeMap<String, f64>,
    pub markdown: String,
    pub problems: Vec<String>,
}

impl ChecksFailed {
    /// The figures and their section, or (when any check failed) this error, which
    /// carries them so they are written before the run fails.
    pub fn unless_empty(
        problems: Vec<String>,
        figures: BTreeMap<String, f64>,
        markdown: String,
    ) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
        if problems.is_empty() {
            return Ok((figures, markdown));
        }
        Err(Self {
            figures,
            markdown,
            problems,
        }
        .into())
    }
}

impl std::fmt::Display for ChecksFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} checks failed:", self.problems.len())?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ChecksFailed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_merge_and_sections_are_replaced_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let results = Results::new(dir.path());
        results
            .record(&BTreeMap::from([
                ("a.x".to_owned(), 1.234),
                ("b.y".to_owned(), 2.0),
            ]))
            .unwrap();
        results
            .record(&BTreeMap::from([("a.x".to_owned(), 5.0)]))
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("results.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(json, serde_json::json!({"a.x": 5.0, "b.y": 2.0}));

        results.write_section("Sync", "first").unwrap();
        results.write_section("Contacts", "other").unwrap();
        results.write_section("Sync", "second").unwrap();
        let md = std::fs::read_to_string(dir.path().join("RESULTS.md")).unwrap();
        assert_eq!(md.matches("## Sync").count(), 1);
        assert!(md.contains("second") && !md.contains("first"), "{md}");
        assert!(md.find("## Sync").unwrap() < md.find("## Contacts").unwrap());
        assert!(md.contains("other"));
        assert!(
            md.contains("second\n\n## Contacts"),
            "a blank line between sections: {md}"
        );
    }
}
