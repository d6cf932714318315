//! `make eval-ask [FILE=questions.jsonl]`: the offline Ask engine's accuracy. Seeds the
//! demo's synthetic mailbox (3,000 messages, seed 42) into a throwaway PostgreSQL
//! through the real ingest path, builds contacts and stats with the real processors,
//! asks every question of the file (`{"question": …, "expected": …}` per line, format in
//! `evals::ask_grade`) as of the mailbox's last day, and prints
//! `{"total", "correct", "refused", "wrong", "accuracy"}`. With the committed question
//! set it also records `ask.offline.accuracy` in bench/results.json.
//!
//! `cargo run --release -p evals --bin eval-ask -- [--file F.jsonl] [--verbose]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use domain::UserId;
use domain::ask::offline;
use domain::jobs::WorkerId;
use domain::processing::{Processor, ProcessorOptions};
use evals::ask_grade::{Verdict, grade};
use evals::seeded::EvalDb;
use fakes::mailbox::{Mailbox, MailboxSpec};
use serde::Deserialize;

/// The demo's mailbox size (`RAPPORT_DEMO_MESSAGES` default).
const MESSAGES: usize = 3_000;

#[derive(Deserialize)]
struct Line {
    question: String,
    expected: serde_json::Value,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut file: Option<PathBuf> = None;
    let mut verbose = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--file" => file = args.next().filter(|f| !f.is_empty()).map(PathBuf::from),
            "--verbose" => verbose = true,
            other => {
                eprintln!(
                    "unknown argument {other:?}; usage: eval-ask [--file F.jsonl] [--verbose]"
                );
                std::process::exit(2);
            }
        }
    }
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("ask.jsonl");
    let path = file.clone().unwrap_or_else(|| committed.clone());
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let lines: Vec<Line> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| {
                panic!("{}:{}: not a question line: {e}", path.display(), n + 1)
            })
        })
        .collect();

    let spec = MailboxSpec::demo(MESSAGES);
    let eval = EvalDb::fresh().await;
    let user = seed(&eval, &spec).await;
    let scope = eval.db.for_user(user);

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for line in &lines {
        let answer = offline::answer(scope, &line.question, spec.end)
            .await
            .expect("answer");
        let verdict = grade(&line.expected, &answer);
        let key = match verdict {
            Verdict::Correct => "correct",
            Verdict::Refused => "refused",
            Verdict::Wrong => "wrong",
        };
        *counts.entry(key).or_default() += 1;
        if verbose || verdict == Verdict::Wrong {
            eprintln!(
                "[{key}] {}\n  expected {}\n  answered {}\n  value {}",
                line.question,
                line.expected,
                answer.text.replace('\n', "\n           "),
                serde_json::to_string(&answer.value).unwrap_or_default()
            );
        }
    }
    let total = lines.len();
    let correct = counts.get("correct").copied().unwrap_or(0);
    let accuracy = if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    };
    let report = serde_json::json!({
        "total": total,
        "correct": correct,
        "refused": counts.get("refused").copied().unwrap_or(0),
        "wrong": counts.get("wrong").copied().unwrap_or(0),
        "accuracy": (accuracy * 10_000.0).round() / 10_000.0,
    });
    println!("{report}");
    if path == committed {
        record(accuracy);
    }
}

/// The demo mailbox stored and processed for a new user, as `make eval` does it.
async fn seed(eval: &EvalDb, spec: &MailboxSpec) -> UserId {
    let (user, account) = eval.owner(&spec.owner_email).await;
    eval.store(user, account, &Mailbox::generate(spec)).await;
    let processor = Processor::new(
        &eval.db,
        WorkerId::new("eval-ask"),
        ProcessorOptions::default(),
    );
    let outcome = processor.drain().await.expect("process activities");
    assert_eq!(
        outcome.failed + outcome.dead,
        0,
        "processing failures: {outcome:?}"
    );
    user
}

/// Merges `ask.offline.accuracy` (a fraction, like the printed one) into bench/results.json, keeping other keys.
fn record(accuracy: f64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/results.json");
    let mut all: BTreeMap<String, serde_json::Value> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    all.insert(
        "ask.offline.accuracy".into(),
        serde_json::json!((accuracy * 10_000.0).round() / 10_000.0),
    );
    let text = serde_json::to_string_pretty(&all).expect("serializes") + "\n";
    std::fs::write(&path, text).expect("write bench/results.json");
}
