//! Which contact a name typed in a question means: by address, full name, the words of
//! a partial name, or, failing those, the same words with a small typo ("Isac",
//! "Dvorak" for "Dvořák"). Pure: the engine passes every contact it has.
//!
//! A wrong person is worse than no answer, so every tier answers only when exactly one
//! person fits; several fits are returned for the engine to ask which one.

use super::answer::{Person, name_key, people_of};
use super::tools::ContactHit;

/// What a typed name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    One(Person),
    /// Several people fit equally well: ask which one.
    Several(Vec<Person>),
    /// No one fits; the nearest names, if any are close, to suggest.
    Nobody {
        nearest: Vec<Person>,
    },
}

/// Typos tolerated in one word of `len` characters: none in short words (where one
/// letter changes the name: "Ana", "Eva"), one from 4, two from 8.
fn tolerance(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and
/// swaps of neighbours each cost one ("Isac"/"Isaac", "Tobais"/"Tobias").
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The cost of reading every word of `wanted` as a different word of `name` (both
/// [`name_key`]s), or `None` when some word is too far from all of them.
fn fuzzy_cost(wanted: &[&str], name: &[&str]) -> Option<usize> {
    let mut used = vec![false; name.len()];
    let mut total = 0;
    for w in wanted {
        let best = name
            .iter()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .map(|(i, n)| (edit_distance(w, n), i))
            .filter(|(d, i)| *d <= tolerance(w.chars().count().min(name[*i].chars().count())))
            .min()?;
        used[best.1] = true;
        total += best.0;
    }
    Some(total)
}

/// The person `typed` means among `contacts`.
pub fn resolve(typed: &str, contacts: &[ContactHit]) -> Resolved {
    if let Some(found) = resolve_exact(typed, contacts) {
        return found;
    }
    let wanted = name_key(typed);
    let words: Vec<&str> = wanted.split(' ').filter(|w| !w.is_empty()).collect();
    let keyed = keyed(contacts);
    // Typos: the people at the smallest total distance, if any is within tolerance.
    let costs: Vec<(usize, &ContactHit)> = keyed
        .iter()
        .filter_map(|(c, key)| {
            let name: Vec<&str> = key.split(' ').collect();
            fuzzy_cost(&words, &name).map(|cost| (cost, *c))
        })
        .collect();
    if !words.is_empty()
        && let Some(best) = costs.iter().map(|(cost, _)| *cost).min()
    {
        let found: Vec<ContactHit> = costs
            .iter()
            .filter(|(cost, _)| *cost == best)
            .map(|(_, c)| (*c).clone())
            .collect();
        return one_or_several(people_of(&found));
    }
    Resolved::Nobody {
        nearest: nearest(&words, &keyed),
    }
}

/// The person `typed` means by an address, the full name, or every word of a partial
/// name, typos not forgiven; `None` when no contact fits that way.
fn resolve_exact(typed: &str, contacts: &[ContactHit]) -> Option<Resolved> {
    let wanted = name_key(typed);
    let words: Vec<&str> = wanted.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return None;
    }
    let keyed = keyed(contacts);
    let pick = |keep: &dyn Fn(&str, &ContactHit) -> bool| -> Vec<ContactHit> {
        keyed
            .iter()
            .filter(|(c, key)| keep(key, c))
            .map(|(c, _)| (*c).clone())
            .collect()
    };
    let tiers = [
        pick(&|_, c| c.emails.iter().any(|e| name_key(e) == wanted)),
        pick(&|key, _| key == wanted),
        pick(&|key, _| {
            let name: Vec<&str> = key.split(' ').collect();
            words.iter().all(|w| name.contains(w))
        }),
    ];
    tiers
        .into_iter()
        .find(|t| !t.is_empty())
        .map(|found| one_or_several(people_of(&found)))
}

/// Each contact with its name's [`name_key`].
fn keyed(contacts: &[ContactHit]) -> Vec<(&ContactHit, String)> {
    contacts
        .iter()
        .map(|c| (c, c.name.as_deref().map(name_key).unwrap_or_default()))
        .collect()
}

fn one_or_several(mut people: Vec<Person>) -> Resolved {
    if people.len() == 1 {
        Resolved::One(people.remove(0))
    } else {
        Resolved::Several(people)
    }
}

/// Up to three people whose name words are closest to `words` (within three edits a
/// word), to suggest after a name that matched no one.
fn nearest(words: &[&str], keyed: &[(&ContactHit, String)]) -> Vec<Person> {
    let mut scored: Vec<(usize, &ContactHit)> = keyed
        .iter()
        .filter_map(|(c, key)| {
            let name: Vec<&str> = key.split(' ').collect();
            let cost: Option<usize> = words
                .iter()
                .map(|w| name.iter().map(|n| edit_distance(w, n)).min())
                .try_fold(0, |sum, d| d.filter(|d| *d <= 3).map(|d| sum + d));
            cost.map(|cost| (cost, *c))
        })
        .collect();
    scored.sort_by_key(|(cost, _)| *cost);
    let hits: Vec<ContactHit> = scored.iter().map(|(_, c)| (*c).clone()).collect();
    let mut people = people_of(&hits);
    people.truncate(3);
    people
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(name: &str, email: &str) -> ContactHit {
        ContactHit::bare(Some(name), email)
    }

    fn contacts() -> Vec<ContactHit> {
        vec![
            hit("Zoë Patel", "zoe@t.ai"),
            hit("Tobias Patel", "tobias@s.de"),
            hit("Beatrix Núñez", "bn@u.io"),
            hit("Clara Dvořák", "clara@k.com"),
            hit("Rowan Dvořák", "rowan@k.com"),
            hit("Isaac Castellano", "isaac@p.me"),
            hit("Isak Berg", "isak@b.se"),
            hit("Ana Lima", "ana@l.br"),
            hit("Eva Lima", "eva@l.br"),
        ]
    }

    fn name_of(typed: &str) -> String {
        match resolve(typed, &contacts()) {
            Resolved::One(p) => p.label(),
            other => panic!("{typed}: {other:?}"),
        }
    }

    #[test]
    fn distance_counts_edits_and_swaps() {
        assert_eq!(edit_distance("isac", "isaac"), 1);
        assert_eq!(edit_distance("tobais", "tobias"), 1);
        assert_eq!(edit_distance("dvorak", "dvorak"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn accents_case_and_partial_names() {
        assert_eq!(name_of("zoe"), "Zoë Patel");
        assert_eq!(name_of("NUNEZ"), "Beatrix Núñez");
        assert_eq!(name_of("clara dvorak"), "Clara Dvořák");
        assert_eq!(name_of("bn@u.io"), "Beatrix Núñez");
        assert!(matches!(resolve("dvorak", &contacts()), Resolved::Several(p) if p.len() == 2));
    }

    #[test]
    fn small_typos_scaled_by_length() {
        assert_eq!(name_of("Tobais"), "Tobias Patel");
        assert_eq!(name_of("Beatrix Nunes"), "Beatrix Núñez");
        assert_eq!(name_of("isaac castelano"), "Isaac Castellano");
        // "Isac" is one edit from both Isaac and Isak: ask, do not guess.
        assert!(matches!(resolve("Isac", &contacts()), Resolved::Several(p) if p.len() == 2));
        // Short names take no typo: "Ena" is neither Ana nor Eva.
        assert!(matches!(
            resolve("Ena", &contacts()),
            Resolved::Nobody { .. }
        ));
    }

    #[test]
    fn nobody_comes_with_the_nearest_names() {
        let Resolved::Nobody { nearest } = resolve("Tobiaz Patelle", &contacts()) else {
            panic!("matched")
        };
        assert_eq!(nearest[0].label(), "Tobias Patel");
        assert!(matches!(
            resolve("Zebulon Quartermaine", &contacts()),
            Resolved::Nobody { nearest } if nearest.is_empty()
        ));
    }
}
