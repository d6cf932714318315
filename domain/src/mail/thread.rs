//! Which messages form one conversation. Pure: the reading query fetches candidates
//! (same provider thread id, a shared Message-ID, or the same subject) and
//! [`thread_members`] decides. The rules, strongest first, for any two messages:
//! 1. both carry a provider thread id (Gmail's): same thread exactly when they are equal;
//! 2. either names another message (`References`/`In-Reply-To`): same thread when one
//!    names the other or both descend from the same root;
//! 3. neither does: same thread when their [`thread_subject`]s and participant sets are
//!    equal (clients that drop `References` still keep "Re: subject" and the people).
//!
//! A thread is every message reachable from the opened one through these links.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use uuid::Uuid;

/// What threading needs to know about one stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCandidate {
    pub id: Uuid,
    /// The provider's conversation id (Gmail thread id).
    pub provider_thread: Option<String>,
    pub message_id: Option<String>,
    pub references: Vec<String>,
    pub in_reply_to: Vec<String>,
    pub subject: Option<String>,
    /// Lowercased addresses from From, To and Cc.
    pub participants: BTreeSet<String>,
}

impl ThreadCandidate {
    fn names_others(&self) -> bool {
        !self.references.is_empty() || !self.in_reply_to.is_empty()
    }

    fn names(&self, message_id: &str) -> bool {
        self.references.iter().any(|r| r == message_id)
            || self.in_reply_to.iter().any(|r| r == message_id)
    }

    /// The conversation's first message: the first `References` id, else the parent,
    /// else the message itself.
    fn root(&self) -> Option<&str> {
        self.references
            .first()
            .or(self.in_reply_to.first())
            .or(self.message_id.as_ref())
            .map(String::as_str)
    }
}

/// Whether `a` and `b` belong to one conversation (see the module rules).
pub fn same_thread(a: &ThreadCandidate, b: &ThreadCandidate) -> bool {
    if let (Some(x), Some(y)) = (&a.provider_thread, &b.provider_thread) {
        return x == y;
    }
    if a.names_others() || b.names_others() {
        let named = |from: &ThreadCandidate, to: &ThreadCandidate| {
            to.message_id.as_deref().is_some_and(|id| from.names(id))
        };
        return named(a, b) || named(b, a) || (a.root().is_some() && a.root() == b.root());
    }
    let subject = thread_subject(a.subject.as_deref().unwrap_or_default());
    subject.is_some()
        && subject == thread_subject(b.subject.as_deref().unwrap_or_default())
        && !a.participants.is_empty()
        && a.participants == b.participants
}

/// The ids of `anchor`'s conversation among `candidates`, in the candidates' order;
/// empty when `anchor` is not among them.
pub fn thread_members(anchor: Uuid, candidates: &[ThreadCandidate]) -> Vec<Uuid> {
    let Some(start) = candidates.iter().position(|c| c.id == anchor) else {
        return Vec::new();
    };
    let mut reached = vec![false; candidates.len()];
    reached[start] = true;
    let mut queue = vec![start];
    while let Some(i) = queue.pop() {
        for (j, other) in candidates.iter().enumerate() {
            if !reached[j] && same_thread(&candidates[i], other) {
                reached[j] = true;
                queue.push(j);
            }
        }
    }
    candidates
        .iter()
        .zip(reached)
        .filter(|(_, r)| *r)
        .map(|(c, _)| c.id)
        .collect()
}

/// Reply and forward prefixes as mail clients write them (English, German, Nordic,
/// Dutch, Italian, French), possibly repeated and numbered (`Re[2]:`).
static PREFIXES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(\s*(re|fwd?|aw|wg|sv|vs|antw|rif|tr|r)\s*(\[\d+\])?\s*:\s*)+")
        .expect("valid regex")
});

/// The subject a conversation's messages share; `None` when nothing is left. The SQL
/// function `mail_thread_subject` mirrors this to find candidates by index.
pub fn thread_subject(subject: &str) -> Option<String> {
    let stripped = PREFIXES.replace(subject, "");
    let words: Vec<&str> = stripped.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" ").to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: u128) -> ThreadCandidate {
        ThreadCandidate {
            id: Uuid::from_u128(n),
            provider_thread: None,
            message_id: Some(format!("m{n}@x")),
            references: Vec::new(),
            in_reply_to: Vec::new(),
            subject: Some("Lunch".to_owned()),
            participants: ["a@x".to_owned(), "b@x".to_owned()].into(),
        }
    }

    fn ids(ns: &[u128]) -> Vec<Uuid> {
        ns.iter().map(|n| Uuid::from_u128(*n)).collect()
    }

    #[test]
    fn subjects_lose_reply_and_forward_prefixes() {
        assert_eq!(
            thread_subject("Re: RE: Fwd:  Lunch  plans").as_deref(),
            Some("lunch plans")
        );
        assert_eq!(
            thread_subject("AW: WG: Angebot").as_deref(),
            Some("angebot")
        );
        assert_eq!(thread_subject("Re[2]: SV: Tr: x").as_deref(), Some("x"));
        assert_eq!(
            thread_subject("Regarding the deal").as_deref(),
            Some("regarding the deal")
        );
        assert_eq!(thread_subject("Re: "), None);
        assert_eq!(thread_subject(""), None);
    }

    #[test]
    fn provider_thread_ids_decide_when_both_have_one() {
        let mut a = message(1);
        let mut b = message(2);
        b.references = vec!["m1@x".to_owned()];
        a.provider_thread = Some("t1".to_owned());
        b.provider_thread = Some("t2".to_owned());
        assert!(!same_thread(&a, &b), "different Gmail threads stay apart");
        b.provider_thread = Some("t1".to_owned());
        b.references.clear();
        b.subject = Some("Something else".to_owned());
        assert!(same_thread(&a, &b), "one Gmail thread stays together");
    }

    #[test]
    fn reference_chains_link_parents_children_and_siblings() {
        let root = message(1);
        let mut reply = message(2);
        reply.references = vec!["m1@x".to_owned()];
        reply.subject = Some("Re: Lunch".to_owned());
        let mut sibling = message(3);
        sibling.in_reply_to = vec!["m1@x".to_owned()];
        sibling.subject = Some("Different".to_owned());
        let mut deep = message(4);
        deep.references = vec!["m1@x".to_owned(), "m2@x".to_owned()];
        let mut other = message(5);
        other.references = vec!["elsewhere@x".to_owned()];
        let all = [root, reply, sibling, deep, other];
        assert_eq!(thread_members(Uuid::from_u128(4), &all), ids(&[1, 2, 3, 4]));
        assert_eq!(thread_members(Uuid::from_u128(5), &all), ids(&[5]));
    }

    #[test]
    fn without_ids_subject_and_participants_decide() {
        let a = message(1);
        let mut b = message(2);
        b.subject = Some("RE: lunch".to_owned());
        let mut other_people = message(3);
        other_people.participants = ["a@x".to_owned(), "c@x".to_owned()].into();
        let mut other_subject = message(4);
        other_subject.subject = Some("Dinner".to_owned());
        let mut replying_elsewhere = message(5);
        replying_elsewhere.in_reply_to = vec!["unknown@x".to_owned()];
        let all = [a, b, other_people, other_subject, replying_elsewhere];
        assert_eq!(thread_members(Uuid::from_u128(1), &all), ids(&[1, 2]));
    }

    #[test]
    fn an_unknown_anchor_has_no_thread() {
        assert!(thread_members(Uuid::from_u128(9), &[message(1)]).is_empty());
    }
}
