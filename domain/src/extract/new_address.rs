//! "My new email is …": a person saying, in their own words, that their email address
//! changed. This is the strongest evidence two addresses are one person, so processing
//! merges on it (see `processing::duplicates`); the phrases are therefore narrow: they
//! speak of an *email* address (a postal "new address" is not one) or ask the reader to
//! update their records.

/// What a message announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAddressNotice {
    /// The other address the message names (lower-cased), when it names one: the new
    /// address when written from the old, or the old one when written from the new.
    pub mentioned: Option<String>,
}

/// Phrases that speak of an email address changing; enough on their own.
const EMAIL_CHANGED: &[&str] = &[
    "my new email",
    "my new e-mail",
    "my new mail address",
    "my new work email",
    "my new personal email",
    "my email address has changed",
    "my e-mail address has changed",
    "my email has changed",
    "my email address is changing",
    "changed my email",
    "i have a new email",
    "i've got a new email",
    "i have moved to a new email",
    "switching to a new email",
    "use this address from now on",
    "use this email from now on",
    "please use this address instead",
    "please use this email instead",
    "this is my new address",
    "this is my new email",
];

/// Asking the reader to update what they have on file: counts together with an
/// address named nearby, or (without one) as a signal the caller must confirm with
/// the person's full name.
const UPDATE_RECORDS: &[&str] = &[
    "please update your records",
    "please update your contact",
    "please update your address book",
    "please update my contact",
    "please update my email",
    "update your address book",
];

/// `my new address is jane@newco.com` names the address, so "new address" counts
/// when an email address follows it in the same sentence.
const NEW_ADDRESS: &str = "new address";

/// Finds a new-address notice in the sender's own text (quoted replies removed by
/// the caller). `sender` is the address the message came from; the mentioned address
/// is never the sender's.
pub fn new_address_notice(own_text: &str, sender: &str) -> Option<NewAddressNotice> {
    let sender = sender.trim().to_lowercase();
    // Nearly all mail says none of this: one pass over the text to leave early.
    let lower = own_text.to_lowercase();
    if !["email", "e-mail", "address", "records", "mail address"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return None;
    }
    let paragraphs = paragraphs(own_text);
    for (i, paragraph) in paragraphs.iter().enumerate() {
        let lower = normalize(paragraph);
        let strong = EMAIL_CHANGED.iter().find_map(|p| lower.find(p));
        let records = UPDATE_RECORDS.iter().find_map(|p| lower.find(p));
        let named = lower.find(NEW_ADDRESS);
        let Some(at) = strong.or(records).or(named) else {
            continue;
        };
        // The address usually follows the phrase, in the paragraph or the next one.
        let mentioned = addresses(&lower[at..])
            .chain(addresses(&lower[..at]))
            .chain(
                paragraphs
                    .get(i + 1)
                    .map(|next| addresses(&normalize(next)).collect::<Vec<_>>())
                    .unwrap_or_default(),
            )
            .find(|a| *a != sender);
        if strong.is_some() || records.is_some() || mentioned.is_some() {
            return Some(NewAddressNotice { mentioned });
        }
    }
    None
}

fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(line.trim());
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn normalize(text: &str) -> String {
    text.to_lowercase()
        .replace(['\u{2019}', '\u{2018}'], "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Email addresses in `text`, in order: tokens with one `@` and a dot after it,
/// stripped of brackets, `mailto:` and trailing punctuation.
fn addresses(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '[' | ']' | '"' | ',')
    })
    .map(|t| t.trim_start_matches("mailto:"))
    .map(|t| t.trim_matches(|c: char| matches!(c, '.' | ';' | ':' | '!' | '?' | '\'')))
    .filter(|t| {
        t.split_once('@').is_some_and(|(local, host)| {
            !local.is_empty()
                && host.contains('.')
                && !host.contains('@')
                && !host.starts_with('.')
                && host
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        })
    })
    .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mentioned(text: &str, sender: &str) -> Option<Option<String>> {
        new_address_notice(text, sender).map(|n| n.mentioned)
    }

    #[test]
    fn names_the_new_address_when_written_from_the_old() {
        let text = "Hi all,\n\nI'm leaving Acme on Friday. My new email is\njane.roe@newco.io - please use it from Monday.\n\nJane";
        assert_eq!(
            mentioned(text, "jane@acme.com"),
            Some(Some("jane.roe@newco.io".to_owned()))
        );
    }

    #[test]
    fn an_update_request_from_the_new_address_needs_no_mention() {
        let text =
            "Hello,\n\nThis is my new email - please update your records.\n\nBest,\nJane Roe";
        assert_eq!(mentioned(text, "jane.roe@gmail.com"), Some(None));
    }

    #[test]
    fn the_senders_own_address_is_not_the_mention() {
        let text = "Please update your address book: <jane.roe@gmail.com> replaces jane@acme.com.";
        assert_eq!(
            mentioned(text, "jane.roe@gmail.com"),
            Some(Some("jane@acme.com".to_owned()))
        );
    }

    #[test]
    fn an_address_in_the_next_paragraph_counts() {
        let text = "Quick note: I have a new email address.\n\nmailto:j.roe@proton.me\n";
        assert_eq!(
            mentioned(text, "jane@acme.com"),
            Some(Some("j.roe@proton.me".to_owned()))
        );
    }

    #[test]
    fn a_postal_new_address_is_not_an_email_change() {
        let text = "We moved! Our new address is 12 Main Street, Springfield.\n\nCome visit.";
        assert_eq!(mentioned(text, "jane@acme.com"), None);
    }

    #[test]
    fn a_new_address_followed_by_an_email_counts() {
        let text = "My new address is jroe@newco.io, the old one closes next week.";
        assert_eq!(
            mentioned(text, "jane@acme.com"),
            Some(Some("jroe@newco.io".to_owned()))
        );
    }

    #[test]
    fn ordinary_mail_is_not_a_notice() {
        for text in [
            "Thanks, see you Tuesday.\n\nJane",
            "Can you send the new email template to bob@acme.com?",
            "Address the records to finance.",
        ] {
            assert_eq!(mentioned(text, "jane@acme.com"), None, "{text}");
        }
    }
}
