//! `eval-signatures <DIR>`: score signature extraction on every `X.txt` +
//! `X.txt.ann` pair in DIR and print one JSON object of per-field scores.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use evals::signatures::{
    Annotation, FieldScore, finish, gold, parse_header_block, predict, score_email,
};

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: eval-signatures <DIR>");
        return ExitCode::from(2);
    };
    let mut pairs: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ann") && p.with_extension("").is_file())
            .collect(),
        Err(e) => {
            eprintln!("eval-signatures: cannot read {dir}: {e}");
            return ExitCode::from(2);
        }
    };
    pairs.sort();
    if pairs.is_empty() {
        eprintln!("eval-signatures: no X.txt + X.txt.ann pairs found in {dir}");
        return ExitCode::from(1);
    }
    let mut scores: BTreeMap<&'static str, FieldScore> = BTreeMap::new();
    let mut emails = 0usize;
    for ann_path in &pairs {
        match score_pair(ann_path, &mut scores) {
            Ok(()) => emails += 1,
            Err(e) => eprintln!("eval-signatures: skipping {}: {e}", ann_path.display()),
        }
    }
    finish(&mut scores);
    let out = serde_json::json!({ "dir": dir, "emails": emails, "fields": scores });
    println!("{out}");
    ExitCode::SUCCESS
}

fn score_pair(
    ann_path: &Path,
    scores: &mut BTreeMap<&'static str, FieldScore>,
) -> Result<(), String> {
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
    let pred = predict(&ann.text, &headers, "US");
    score_email(scores, &pred, &gold(&ann));
    Ok(())
}
