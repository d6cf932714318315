//! The learned part of signature extraction: a multinomial logistic regression
//! that tells, for each text cell of a signature block, whether it is the
//! person's name, job title, company or something else (address, department
//! code, pleasantry).
//!
//! Features are general (position in the block, shape, lexicon hits,
//! agreement with the sender's name and domain, what the neighbouring lines
//! hold) rather than words, so the few hundred annotated emails it is
//! trained on do not teach it particular names or companies. Training is
//! deterministic (full-batch gradient descent from zero) and weights are written
//! rounded, so retraining on the same data reproduces `weights.tsv` byte for
//! byte (`make train-signatures DIR=<annotated dir>`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// What a cell of a signature block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Name,
    Title,
    Company,
    Other,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Name, Role::Title, Role::Company, Role::Other];

    fn index(self) -> usize {
        self as usize
    }
}

/// Per-feature weights, one per [`Role`].
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    weights: BTreeMap<String, [f64; 4]>,
    /// Least probability for a cell to be taken as a name, title or company.
    thresholds: [f64; 3],
}

/// The weights trained on the annotated train split, committed with the code.
pub static COMMITTED: LazyLock<Model> = LazyLock::new(|| {
    Model::parse(include_str!("weights.tsv")).expect("committed signature weights parse")
});

/// Default least probability for a cell to be taken as a name, title or
/// company (`Other` wins most cells, so the arg-max alone would miss too
/// many); training tunes one per role (see `eval-signatures`) and writes it to
/// `weights.tsv` on the line keyed [`THRESHOLD_KEY`].
pub const THRESHOLD: f64 = 0.35;

/// First cell of the `weights.tsv` line holding the name, title and company
/// thresholds (not a feature name: features never start with `@`).
const THRESHOLD_KEY: &str = "@threshold";

/// Gradient steps, step size and L2 strength of [`Model::train`]: enough steps
/// for the loss to settle on a few thousand cells.
const ITERATIONS: usize = 1500;
const LEARNING_RATE: f64 = 4.0;
const L2: f64 = 0.003;

impl Model {
    /// Least probability for a cell to be taken in `role` (never for `Other`).
    pub fn threshold(&self, role: Role) -> f64 {
        self.thresholds
            .get(role.index())
            .copied()
            .unwrap_or(f64::INFINITY)
    }

    /// The same weights with these name, title and company thresholds
    /// (rounded as `weights.tsv` writes them).
    pub fn with_thresholds(mut self, thresholds: [f64; 3]) -> Model {
        self.thresholds = thresholds.map(round);
        self
    }

    /// Score of each role for a cell with these features.
    pub fn scores(&self, features: &[String]) -> [f64; 4] {
        let mut s = [0.0; 4];
        for f in features {
            if let Some(w) = self.weights.get(f) {
                for (acc, x) in s.iter_mut().zip(w) {
                    *acc += x;
                }
            }
        }
        s
    }

    /// Probability of each role for a cell with these features.
    pub fn probabilities(&self, features: &[String]) -> [f64; 4] {
        softmax(&self.scores(features))
    }

    /// The highest-scoring role (ties go to the earlier role in [`Role::ALL`]).
    pub fn predict(&self, features: &[String]) -> Role {
        best(&self.scores(features))
    }

    /// Multinomial logistic regression with an L2 penalty, fitted by
    /// full-batch gradient descent from zero weights: no randomness and no
    /// dependence on example order, so the same examples always give the
    /// same model. The penalty keeps weights small where the few hundred
    /// annotated blocks disagree with each other.
    pub fn train(examples: &[(Vec<String>, Role)]) -> Model {
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (features, _) in examples {
            for f in features {
                let n = index.len();
                index.entry(f.as_str()).or_insert(n);
            }
        }
        let rows: Vec<(Vec<usize>, usize)> = examples
            .iter()
            .map(|(features, role)| {
                let mut ids: Vec<usize> = features.iter().map(|f| index[f.as_str()]).collect();
                ids.sort_unstable();
                ids.dedup();
                (ids, role.index())
            })
            .collect();
        let mut w = vec![[0.0f64; 4]; index.len()];
        let n = rows.len().max(1) as f64;
        for _ in 0..ITERATIONS {
            let mut grad = vec![[0.0f64; 4]; index.len()];
            for (ids, gold) in &rows {
                let mut z = [0.0; 4];
                for &i in ids {
                    for (acc, x) in z.iter_mut().zip(&w[i]) {
                        *acc += x;
                    }
                }
                let p = softmax(&z);
                for &i in ids {
                    for r in 0..4 {
                        let target = if r == *gold { 1.0 } else { 0.0 };
                        grad[i][r] += (p[r] - target) / n;
                    }
                }
            }
            for (wi, gi) in w.iter_mut().zip(&grad) {
                for r in 0..4 {
                    wi[r] -= LEARNING_RATE * (gi[r] + L2 * wi[r]);
                }
            }
        }
        let weights = index
            .into_iter()
            .map(|(f, i)| (f.to_string(), w[i].map(round)))
            .filter(|(_, w)| w.iter().any(|v| *v != 0.0))
            .collect();
        Model {
            weights,
            thresholds: [THRESHOLD; 3],
        }
    }

    /// One line per feature: `feature<TAB>name<TAB>title<TAB>company<TAB>other`.
    pub fn to_tsv(&self) -> String {
        let mut out = String::from("# feature\tname\ttitle\tcompany\tother\n");
        out.push_str(THRESHOLD_KEY);
        for v in self.thresholds {
            out.push_str(&format!("\t{v:.3}"));
        }
        out.push('\n');
        for (f, w) in &self.weights {
            out.push_str(f);
            for v in w {
                out.push('\t');
                out.push_str(&format!("{v:.3}"));
            }
            out.push('\n');
        }
        out
    }

    pub fn parse(tsv: &str) -> Result<Model, String> {
        let mut weights = BTreeMap::new();
        let mut thresholds = [THRESHOLD; 3];
        for (n, line) in tsv.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split('\t');
            let f = parts.next().unwrap_or_default().to_string();
            if f == THRESHOLD_KEY {
                for slot in &mut thresholds {
                    *slot = parts
                        .next()
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| format!("line {}: expected 3 thresholds", n + 1))?;
                }
                continue;
            }
            let mut w = [0.0; 4];
            for slot in &mut w {
                *slot = parts
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("line {}: expected 4 weights", n + 1))?;
            }
            weights.insert(f, w);
        }
        Ok(Model {
            weights,
            thresholds,
        })
    }
}

pub(crate) fn best(s: &[f64; 4]) -> Role {
    let mut r = Role::Other;
    let mut top = s[Role::Other.index()];
    for role in [Role::Name, Role::Title, Role::Company] {
        if s[role.index()] > top {
            top = s[role.index()];
            r = role;
        }
    }
    r
}

/// Rounded to the precision written to `weights.tsv`, so a trained model and
/// the same model read back from its file score identically.
fn round(v: f64) -> f64 {
    let r = (v * 1000.0).round() / 1000.0;
    if r == 0.0 { 0.0 } else { r }
}

fn softmax(z: &[f64; 4]) -> [f64; 4] {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e = z.map(|v| (v - max).exp());
    let sum: f64 = e.iter().sum();
    e.map(|v| v / sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::signature::{SenderHint, candidate_cells};

    /// Hand-written blocks, each cell labelled by the text it equals.
    fn synthetic() -> Vec<(Vec<String>, Role)> {
        let blocks = [
            (
                "Thanks,\nDana Whitfield\nSenior Counsel\nNorthwind Logistics, Inc.\nPhone: (214) 555-0147\n",
                "Dana Whitfield",
                "dana@northwind.com",
            ),
            (
                "See below.\n\nOmar Haddad\nProcurement Manager\nUmber Foods Ltd\nTel: +44 20 7946 0321\n1 High Street\n",
                "Haddad, Omar",
                "omar.haddad@umberfoods.co.uk",
            ),
            (
                "Regards,\nLi Wei\nAnalyst\nPeak Capital Partners\n(415) 555-0199\n",
                "Li Wei",
                "li.wei@peakcap.com",
            ),
        ];
        let label = |t: &str| match t {
            "Dana Whitfield" | "Omar Haddad" | "Li Wei" => Role::Name,
            "Senior Counsel" | "Procurement Manager" | "Analyst" => Role::Title,
            "Northwind Logistics, Inc." | "Umber Foods Ltd" | "Peak Capital Partners" => {
                Role::Company
            }
            _ => Role::Other,
        };
        blocks
            .iter()
            .flat_map(|(text, name, email)| {
                let hint = SenderHint {
                    name: Some(name),
                    email: Some(email),
                    default_region: Some("US"),
                };
                candidate_cells(text, &hint)
                    .into_iter()
                    .map(|c| (c.features, label(&c.text)))
            })
            .collect()
    }

    #[test]
    fn training_is_deterministic_and_its_file_reads_back_the_same_model() {
        let ex = synthetic();
        assert!(ex.iter().any(|(_, r)| *r == Role::Other), "{ex:?}");
        let a = Model::train(&ex);
        let b = Model::train(&ex);
        assert_eq!(a.to_tsv(), b.to_tsv());
        assert_eq!(Model::parse(&a.to_tsv()).unwrap(), a);
        // Tuned thresholds are part of the file too.
        let tuned = a.clone().with_thresholds([0.2, 0.25, 0.15]);
        let back = Model::parse(&tuned.to_tsv()).unwrap();
        assert_eq!(back, tuned);
        assert_eq!(back.threshold(Role::Title), 0.25);
        assert_eq!(back.threshold(Role::Other), f64::INFINITY);
        // It learned the training set.
        for (features, role) in &ex {
            assert_eq!(a.predict(features), *role, "{features:?}");
        }
    }

    #[test]
    fn committed_weights_load() {
        assert!(COMMITTED.weights.len() > 20);
        assert!(COMMITTED.weights.contains_key("person"));
    }

    #[test]
    fn malformed_weights_are_an_error() {
        assert!(Model::parse("bias\t1\t2\n").is_err());
        assert!(Model::parse("@threshold\t0.2\t0.3\n").is_err());
    }
}
