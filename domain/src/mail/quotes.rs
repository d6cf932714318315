//! Finding the quoted parts of a plain-text body, so the reader sees what is new and
//! can expand the rest: `>` lines (with the "On ... wrote:" line that introduces them),
//! and Outlook's trailing original message ("-----Original Message-----", or a rule of
//! underscores followed by `From:`), which quotes without `>`. Forwarded messages are
//! not quotes: the forwarded text is what the sender wanted read.

use std::sync::LazyLock;

use api::mail::TextBlock;
use regex::Regex;

/// The line that introduces a quote, in the forms mail clients write in English,
/// German and French ("On ... wrote:", "Am ... schrieb ...:", "Le ... a écrit :").
static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(on\b.*\bwrote|am\b.*\bschrieb.*|le\b.*\ba écrit\s*)\s*:\s*$")
        .expect("valid regex")
});

/// Splits `text` into what the author wrote and what they quoted, in order. Blank lines
/// between two quoted runs stay inside one quote.
pub fn split_quotes(text: &str) -> Vec<TextBlock> {
    let lines: Vec<&str> = text.lines().collect();
    let (body, outlook) = match outlook_original(&lines) {
        Some(at) => (&lines[..at], Some(&lines[at..])),
        None => (&lines[..], None),
    };
    let quoted: Vec<bool> = quoted_lines(body);
    let mut blocks: Vec<TextBlock> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let mut run_quoted = false;
    for (line, is_quoted) in body.iter().zip(quoted) {
        if is_quoted != run_quoted && !run.is_empty() {
            push(&mut blocks, run_quoted, &run);
            run.clear();
        }
        run_quoted = is_quoted;
        run.push(line);
    }
    push(&mut blocks, run_quoted, &run);
    if let Some(original) = outlook {
        push(&mut blocks, true, original);
    }
    blocks
}

fn push(blocks: &mut Vec<TextBlock>, quoted: bool, lines: &[&str]) {
    let text = lines.join("\n").trim_matches('\n').trim_end().to_owned();
    if text.trim().is_empty() {
        return;
    }
    blocks.push(if quoted {
        TextBlock::Quoted(text)
    } else {
        TextBlock::Said(text)
    });
}

fn is_quote_line(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Which lines belong to a quote: `>` lines, blank lines between them, and an
/// attribution line (possibly wrapped over two lines) right before a quote.
fn quoted_lines(lines: &[&str]) -> Vec<bool> {
    let mut quoted: Vec<bool> = lines.iter().map(|l| is_quote_line(l)).collect();
    let next_content = |from: usize| (from..lines.len()).find(|&j| !lines[j].trim().is_empty());
    for i in 0..lines.len() {
        if quoted[i] || !lines[i].trim().is_empty() {
            continue;
        }
        // A blank line inside a quote.
        let before = (0..i).rev().find(|&j| !lines[j].trim().is_empty());
        if let (Some(b), Some(a)) = (before, next_content(i)) {
            quoted[i] = quoted[b] && quoted[a];
        }
    }
    for i in 0..lines.len() {
        let opens_quote = next_content(i + 1).is_some_and(|n| is_quote_line(lines[n]));
        if quoted[i] || !opens_quote {
            continue;
        }
        if ATTRIBUTION.is_match(lines[i]) {
            quoted[i] = true;
        } else if i > 0 && ATTRIBUTION.is_match(&format!("{} {}", lines[i - 1], lines[i])) {
            quoted[i - 1] = true;
            quoted[i] = true;
        }
    }
    for i in 0..lines.len() {
        // Blank lines between an attribution and its quote.
        if !quoted[i] && lines[i].trim().is_empty() && i > 0 && quoted[i - 1] {
            quoted[i] = next_content(i).is_some_and(|n| quoted[n]);
        }
    }
    quoted
}

/// Where Outlook's quoted original message starts, when it follows what was written.
fn outlook_original(lines: &[&str]) -> Option<usize> {
    (1..lines.len()).find(|&i| {
        let line = lines[i].trim();
        let next_is_from = lines
            .get(i + 1)
            .is_some_and(|n| n.trim_start().starts_with("From:"));
        let original = line
            .trim_matches('-')
            .trim()
            .eq_ignore_ascii_case("original message")
            && line.starts_with("---");
        let rule = line.len() >= 10 && line.chars().all(|c| c == '_') && next_is_from;
        original || rule
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TextBlock::{Quoted, Said};

    fn said(s: &str) -> TextBlock {
        Said(s.to_owned())
    }

    fn quoted(s: &str) -> TextBlock {
        Quoted(s.to_owned())
    }

    #[test]
    fn text_without_quotes_is_one_block() {
        assert_eq!(
            split_quotes("Hi,\n\nsee you > then.\n"),
            vec![said("Hi,\n\nsee you > then.")]
        );
        assert!(split_quotes("").is_empty());
    }

    #[test]
    fn gmail_replies_quote_with_an_attribution() {
        let text = "Sounds good.\n\nOn Mon, Mar 3, 2025 at 9:14 AM Ann <ann@x.example> wrote:\n\n> Lunch?\n>\n> Ann\n";
        assert_eq!(
            split_quotes(text),
            vec![
                said("Sounds good."),
                quoted(
                    "On Mon, Mar 3, 2025 at 9:14 AM Ann <ann@x.example> wrote:\n\n> Lunch?\n>\n> Ann"
                ),
            ]
        );
    }

    #[test]
    fn wrapped_attributions_and_interleaved_answers() {
        let text = "Answers inline.\nOn Tue, 4 Mar 2025, Bob Smith\n<bob@x.example> wrote:\n> one?\nyes\n\n> two?\n\n> still two\nno";
        assert_eq!(
            split_quotes(text),
            vec![
                said("Answers inline."),
                quoted("On Tue, 4 Mar 2025, Bob Smith\n<bob@x.example> wrote:\n> one?"),
                said("yes"),
                quoted("> two?\n\n> still two"),
                said("no"),
            ]
        );
    }

    #[test]
    fn apple_mail_quotes_the_attribution_too() {
        let text = "Done.\n\n> On Mar 3, 2025, at 09:14, Ann <ann@x.example> wrote:\n> \n> Lunch?";
        assert_eq!(
            split_quotes(text),
            vec![
                said("Done."),
                quoted("> On Mar 3, 2025, at 09:14, Ann <ann@x.example> wrote:\n> \n> Lunch?")
            ]
        );
    }

    #[test]
    fn other_languages_attribute_too() {
        let text = "Ja.\n\nAm 3. März 2025 um 09:14 schrieb Ann <ann@x.example>:\n> Mittag?";
        assert_eq!(
            split_quotes(text)[1],
            quoted("Am 3. März 2025 um 09:14 schrieb Ann <ann@x.example>:\n> Mittag?")
        );
    }

    #[test]
    fn outlook_originals_are_quoted_to_the_end() {
        for head in [
            "-----Original Message-----",
            "________________________________",
        ] {
            let text = format!(
                "Thanks!\n\n{head}\nFrom: Ann <ann@x.example>\nSent: Monday\nSubject: Lunch\n\nLunch?"
            );
            assert_eq!(
                split_quotes(&text),
                vec![
                    said("Thanks!"),
                    quoted(&format!(
                        "{head}\nFrom: Ann <ann@x.example>\nSent: Monday\nSubject: Lunch\n\nLunch?"
                    ))
                ],
                "{head}"
            );
        }
    }

    #[test]
    fn forwards_and_lone_attributions_stay_visible() {
        let forward =
            "FYI\n\n---------- Forwarded message ---------\nFrom: Ann <ann@x.example>\n\nLunch?";
        assert_eq!(split_quotes(forward), vec![said(forward)]);
        let lone = "On Monday, she wrote:\nnothing quoted";
        assert_eq!(split_quotes(lone), vec![said(lone)]);
    }
}
