//! Highlighted text from Postgres's `ts_headline`, which wraps each match in two marker
//! characters; the markers are removed from the stored text before, so every one in the
//! output is ours. The result is runs of plain text (never HTML): the page escapes them.

use api::search::Fragment;

/// Opens a match in `ts_headline`'s output (a private-use character).
pub const START: char = '\u{E000}';
/// Closes a match.
pub const STOP: char = '\u{E001}';

/// `ts_headline`'s options: these markers, and for a body `fragments` passages.
pub fn options(fragments: bool) -> String {
    let marks = format!("StartSel=\"{START}\", StopSel=\"{STOP}\"");
    if fragments {
        format!("{marks}, MaxFragments=2, MinWords=6, MaxWords=18, FragmentDelimiter=\" … \"")
    } else {
        format!("{marks}, HighlightAll=true")
    }
}

/// The runs of `marked`, adjacent runs of the same kind joined and empty ones dropped.
pub fn fragments(marked: &str) -> Vec<Fragment> {
    let mut out: Vec<Fragment> = Vec::new();
    let mut matched = false;
    let mut text = String::new();
    let flush = |text: &mut String, matched: bool, out: &mut Vec<Fragment>| {
        if text.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(last) if last.matched == matched => last.text.push_str(text),
            _ => out.push(Fragment {
                text: text.clone(),
                matched,
            }),
        }
        text.clear();
    };
    for c in marked.chars() {
        match c {
            START => {
                flush(&mut text, matched, &mut out);
                matched = true;
            }
            STOP => {
                flush(&mut text, matched, &mut out);
                matched = false;
            }
            c => text.push(c),
        }
    }
    flush(&mut text, matched, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(text: &str, matched: bool) -> Fragment {
        Fragment {
            text: text.into(),
            matched,
        }
    }

    #[test]
    fn markers_become_matched_runs_and_markup_stays_text() {
        let marked = format!("The {START}contract{STOP} <b>&amp;</b> {START}deal{STOP}");
        assert_eq!(
            fragments(&marked),
            vec![
                f("The ", false),
                f("contract", true),
                f(" <b>&amp;</b> ", false),
                f("deal", true),
            ]
        );
    }

    #[test]
    fn adjacent_matches_join_and_empty_runs_vanish() {
        let marked = format!("{START}big{STOP}{START} deal{STOP}");
        assert_eq!(fragments(&marked), vec![f("big deal", true)]);
        assert_eq!(fragments(""), Vec::<Fragment>::new());
        assert_eq!(fragments("plain"), vec![f("plain", false)]);
    }
}
