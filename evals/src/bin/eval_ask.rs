//! `make eval-ask [FILE=questions.jsonl]`: the offline Ask engine's accuracy. Seeds the
//! demo's synthetic mailbox (3,000 messages, seed 42) into a throwaway PostgreSQL
//! through the real ingest path, builds contacts and stats with the real processors,
//! asks every question of the file (`{"question": …, "expected": …}` per line, format in
//! `evals::ask_grade`; optional `"intent"`, a label for the figures, and `"context"`,
//! the earlier questions of the conversation, asked first) as of the mailbox's last
//! day, and prints one line of figures per intent, then
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
    /// What the question asks, for the per-intent figures ("other" when absent).
    #[serde(default)]
    intent: Option<String>,
    /// Earlier questions of the same conversation, oldest first.
    #[serde(default)]
    context: Vec<String>,
}

/// Verdicts counted.
#[derive(Default)]
struct Tally {
    correct: usize,
    refused: usize,
    wrong: usize,
}

impl Tally {
    fn add(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Correct => self.correct += 1,
            Verdict::Refused => self.refused += 1,
            Verdict::Wrong => self.wrong += 1,
        }
    }

    fn total(&self) -> usize {
        self.correct + self.refused + self.wrong
    }

    fn accuracy(&self) -> f64 {
        if self.total() == 0 {
            0.0
        } else {
            self.correct as f64 / self.total() as f64
        }
    }

    fn figures(&self) -> serde_json::Value {
        serde_json::json!({
            "total": self.total(),
            "correct": self.correct,
            "refused": self.refused,
            "wrong": self.wrong,
            "accuracy": (self.accuracy() * 10_000.0).round() / 10_000.0,
        })
    }
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

    let mut all = Tally::default();
    let mut by_intent: BTreeMap<&str, Tally> = BTreeMap::new();
    for line in &lines {
        let earlier: Vec<&str> = line.context.iter().map(String::as_str).collect();
        let answer = offline::answer_after(scope, &earlier, &line.question, spec.end)
            .await
            .expect("answer");
        let verdict = grade(&line.expected, &answer);
        all.add(verdict);
        by_intent
            .entry(line.intent.as_deref().unwrap_or("other"))
            .or_default()
            .add(verdict);
        if verbose || verdict == Verdict::Wrong {
            eprintln!(
                "[{verdict:?}] {}{}\n  expected {}\n  answered {}\n  value {}",
                line.context
                    .iter()
                    .map(|q| format!("{q} → "))
                    .collect::<String>(),
                line.question,
                line.expected,
                answer.text.replace('\n', "\n           "),
                serde_json::to_string(&answer.value).unwrap_or_default()
            );
        }
    }
    for (intent, tally) in &by_intent {
        let mut figures = tally.figures();
        figures["intent"] = serde_json::json!(intent);
        println!("{figures}");
    }
    println!("{}", all.figures());
    let accuracy = all.accuracy();
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
    // The server's processing hook refreshes stats as contacts are touched; here they
    // are computed once, as of the mailbox's last day.
    domain::contacts::stats::recompute_all_as_of(eval.db.for_user(user), spec.end)
        .await
        .expect("contact stats");
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
