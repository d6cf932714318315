//! Signature extraction against annotated mail (`X.txt` + `X.txt.ann` pairs in DIR).
//!
//! - `eval-signatures <DIR>`: score the committed extractor (its committed cell
//!   classifier weights) on DIR; the last line is one JSON object of per-field scores.
//! - `eval-signatures --cv <DIR>`: 5-fold cross-validation on DIR, folds grouped by
//!   mailbox (the file name before its first `_`, e.g. `jones-t`) so no fold is
//!   scored by weights trained on the same people's mail; prints each fold's
//!   precision/recall/F1 per field, then one JSON line with the per-fold figures,
//!   their mean and the scores pooled over the folds.
//! - `eval-signatures --train <DIR> <OUT>`: train the classifier on all of DIR and
//!   write its weights and thresholds to OUT (`make train-signatures` writes the
//!   committed file).
//! - `eval-signatures --check <DIR> <WEIGHTS>`: retrain on DIR and fail unless the
//!   result equals WEIGHTS byte for byte (`make check-signature-weights`).
//!
//! `SIGNATURE_ERRORS=1` prints every missed and wrong value to stderr;
//! `SIGNATURE_ERRORS=2` adds, per email with a mistake, each segment's block and
//! candidate cells with their role probabilities.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use domain::extract::signature::model::{COMMITTED, Model, Role, THRESHOLD};
use evals::signatures::{
    Annotation, FieldScore, examples, explain, finish, gold, mistakes, parse_header_block,
    predict_with, score_email,
};

const FOLDS: usize = 5;
const REGION: &str = "US";

struct Email {
    path: PathBuf,
    mailbox: String,
    body: String,
    headers: Vec<(String, String)>,
    gold: BTreeMap<&'static str, Vec<String>>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, dir, out) = match args.as_slice() {
        [dir] if !dir.starts_with("--") => ("score", dir, None),
        [flag, dir] if flag == "--cv" => ("cv", dir, None),
        [flag, dir, out] if flag == "--train" => ("train", dir, Some(out)),
        [flag, dir, out] if flag == "--check" => ("check", dir, Some(out)),
        _ => {
            eprintln!(
                "usage: eval-signatures <DIR> | --cv <DIR> | --train <DIR> <OUT weights.tsv> | --check <DIR> <weights.tsv>"
            );
            return ExitCode::from(2);
        }
    };
    let emails = match load(dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("eval-signatures: {e}");
            return ExitCode::from(1);
        }
    };
    match (mode, out) {
        ("train", Some(out)) => {
            let all: Vec<&Email> = emails.iter().collect();
            let model = fit(&all);
            if let Err(e) = std::fs::write(out, model.to_tsv()) {
                eprintln!("eval-signatures: cannot write {out}: {e}");
                return ExitCode::from(1);
            }
            println!("wrote {out} (trained on {} emails)", emails.len());
            let ex: Vec<Role> = emails
                .iter()
                .flat_map(|e| examples(&e.body, &e.headers, &e.gold, REGION))
                .map(|(_, r)| r)
                .collect();
            for r in Role::ALL {
                let n = ex.iter().filter(|x| **x == r).count();
                println!("{r:?}: {n} candidate cells");
            }
        }
        ("check", Some(committed)) => {
            let all: Vec<&Email> = emails.iter().collect();
            let retrained = fit(&all).to_tsv();
            match std::fs::read_to_string(committed) {
                Ok(c) if c == retrained => {
                    println!("{committed} is reproduced by retraining on {dir}")
                }
                Ok(_) => {
                    eprintln!(
                        "eval-signatures: retraining on {dir} does not reproduce {committed}"
                    );
                    return ExitCode::from(1);
                }
                Err(e) => {
                    eprintln!("eval-signatures: cannot read {committed}: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        ("cv", _) => cross_validate(dir, &emails),
        _ => {
            let scores = score(emails.iter(), &COMMITTED);
            let out = serde_json::json!({ "dir": dir, "emails": emails.len(), "fields": scores });
            println!("{out}");
        }
    }
    ExitCode::SUCCESS
}

fn train<'a>(emails: impl Iterator<Item = &'a Email>) -> Model {
    let ex: Vec<(Vec<String>, Role)> = emails
        .flat_map(|e| examples(&e.body, &e.headers, &e.gold, REGION))
        .collect();
    Model::train(&ex)
}

/// Thresholds tried, highest first so ties keep the stricter one.
const THRESHOLD_GRID: [f64; 8] = [0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15];

/// The classifier trained on `emails`, its threshold chosen by an inner
/// cross-validation on the same emails (folds by mailbox). Nothing outside
/// `emails` is looked at, so cross-validation can call it on its training
/// folds.
fn fit(emails: &[&Email]) -> Model {
    let fold_of = folds(emails);
    let inner: Vec<(Model, Vec<&Email>)> = (0..FOLDS)
        .map(|k| {
            let part = |held: bool| {
                emails
                    .iter()
                    .zip(&fold_of)
                    .filter(move |(_, f)| (**f == k) == held)
                    .map(|(e, _)| *e)
            };
            (train(part(false)), part(true).collect::<Vec<_>>())
        })
        .filter(|(_, test)| !test.is_empty())
        .collect();
    // One threshold for all three roles, the one with the best mean F1 of
    // name, title and company on the inner held-out folds: a per-role choice
    // fits three numbers to a few dozen values each and swings from fold to
    // fold.
    let mut best = (f64::NEG_INFINITY, THRESHOLD);
    for t in THRESHOLD_GRID {
        let mut scores = BTreeMap::new();
        for (model, test) in &inner {
            let model = model.clone().with_thresholds([t; 3]);
            for e in test {
                let pred = predict_with(&e.body, &e.headers, REGION, &model);
                score_email(&mut scores, &pred, &e.gold);
            }
        }
        finish(&mut scores);
        let mean_f1 = ["name", "title", "company"]
            .iter()
            .map(|f| scores.get(f).and_then(|s| s.f1).unwrap_or(0.0))
            .sum::<f64>()
            / 3.0;
        if mean_f1 > best.0 {
            best = (mean_f1, t);
        }
    }
    let thresholds = [best.1; 3];
    train(emails.iter().copied()).with_thresholds(thresholds)
}

fn score<'a>(
    emails: impl Iterator<Item = &'a Email>,
    model: &Model,
) -> BTreeMap<&'static str, FieldScore> {
    let mut scores = BTreeMap::new();
    let show = std::env::var_os("SIGNATURE_ERRORS").is_some();
    let verbose = std::env::var("SIGNATURE_ERRORS").is_ok_and(|v| v == "2");
    for e in emails {
        let pred = predict_with(&e.body, &e.headers, REGION, model);
        if show {
            let wrong = mistakes(&pred, &e.gold);
            for (field, kind, value) in &wrong {
                eprintln!("{}\t{field}\t{kind}\t{value:?}", e.path.display());
            }
            if verbose && !wrong.is_empty() {
                eprint!("{}", explain(&e.body, &e.headers, REGION, model));
            }
        }
        score_email(&mut scores, &pred, &e.gold);
    }
    finish(&mut scores);
    scores
}

/// Mailboxes dealt to folds largest first, each to the fold with the fewest
/// emails so far (ties to the lower fold): balanced and deterministic.
fn folds(emails: &[&Email]) -> Vec<usize> {
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for e in emails {
        *sizes.entry(&e.mailbox).or_default() += 1;
    }
    let mut order: Vec<(&str, usize)> = sizes.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut load = [0usize; FOLDS];
    let mut fold_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (mailbox, n) in order {
        let k = (0..FOLDS).min_by_key(|&k| (load[k], k)).unwrap_or(0);
        load[k] += n;
        fold_of.insert(mailbox, k);
    }
    emails.iter().map(|e| fold_of[e.mailbox.as_str()]).collect()
}

fn cross_validate(dir: &str, emails: &[Email]) {
    let all: Vec<&Email> = emails.iter().collect();
    let fold_of = folds(&all);
    let mut pooled: BTreeMap<&'static str, FieldScore> = BTreeMap::new();
    let mut per_fold = Vec::new();
    let shown = ["phone", "title", "company", "name"];
    for k in 0..FOLDS {
        let training: Vec<&Email> = emails
            .iter()
            .zip(&fold_of)
            .filter(|(_, f)| **f != k)
            .map(|(e, _)| e)
            .collect();
        let model = fit(&training);
        let test: Vec<&Email> = emails
            .iter()
            .zip(&fold_of)
            .filter(|(_, f)| **f == k)
            .map(|(e, _)| e)
            .collect();
        let scores = score(test.iter().copied(), &model);
        println!(
            "{}",
            scores_line(
                &format!("fold {k} ({:>3} emails):", test.len()),
                &shown,
                &scores
            )
        );
        for (f, s) in &scores {
            let p = pooled.entry(f).or_default();
            p.tp += s.tp;
            p.fp += s.fp;
            p.fn_ += s.fn_;
            p.gold += s.gold;
            p.predicted += s.predicted;
        }
        per_fold.push(scores);
    }
    finish(&mut pooled);
    let mean: BTreeMap<&str, Option<f64>> = shown
        .iter()
        .map(|f| {
            let v: Vec<f64> = per_fold.iter().filter_map(|s| s[f].f1).collect();
            (
                *f,
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64),
            )
        })
        .collect();
    let mut line = "mean of folds F1:".to_string();
    for f in shown {
        line.push_str(&format!("  {f} {}", fmt(mean[f])));
    }
    println!("{line}");
    println!("{}", scores_line("pooled over folds:", &shown, &pooled));
    let folds_f1: Vec<BTreeMap<&str, Option<f64>>> = per_fold
        .iter()
        .map(|s| shown.iter().map(|f| (*f, s[f].f1)).collect())
        .collect();
    let out = serde_json::json!({
        "dir": dir,
        "mode": "cv",
        "folds": FOLDS,
        "emails": emails.len(),
        "fold_f1": folds_f1,
        "mean_f1": mean,
        "fields": pooled,
    });
    println!("{out}");
}

/// `label` then each shown field's precision, recall and F1.
fn scores_line(label: &str, shown: &[&str], scores: &BTreeMap<&str, FieldScore>) -> String {
    let mut line = label.to_owned();
    for f in shown {
        let s = &scores[f];
        line.push_str(&format!(
            "  {f} P {} R {} F1 {}",
            fmt(s.precision),
            fmt(s.recall),
            fmt(s.f1)
        ));
    }
    line
}

fn fmt(v: Option<f64>) -> String {
    v.map_or_else(|| "  - ".into(), |x| format!("{x:.2}"))
}

fn load(dir: &str) -> Result<Vec<Email>, String> {
    let mut pairs: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {dir}: {e}"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ann") && p.with_extension("").is_file())
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        return Err(format!("no X.txt + X.txt.ann pairs found in {dir}"));
    }
    let mut out = Vec::new();
    for ann_path in pairs {
        match load_pair(&ann_path) {
            Ok(e) => out.push(e),
            Err(e) => eprintln!("eval-signatures: skipping {}: {e}", ann_path.display()),
        }
    }
    Ok(out)
}

fn load_pair(ann_path: &Path) -> Result<Email, String> {
    let ann: Annotation =
        serde_json::from_str(&std::fs::read_to_string(ann_path).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let raw = std::fs::read_to_string(ann_path.with_extension("")).map_err(|e| e.to_string())?;
    let mut headers = parse_header_block(&raw);
    if let Some(meta) = &ann.meta {
        for (k, v) in &meta.header {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)) {
                headers.push((k.clone(), v.clone()));
            }
        }
    }
    let file = ann_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mailbox = file.split('_').next().unwrap_or_default().to_string();
    Ok(Email {
        path: ann_path.to_path_buf(),
        mailbox,
        gold: gold(&ann),
        body: ann.text,
        headers,
    })
}
