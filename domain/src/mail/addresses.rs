//! Header addresses as participants: decoded display names (mail-parser decodes RFC 2047
//! words) and lowercased addresses, groups flattened.

use mail_parser::Address;

use super::ParseProblem;
use crate::EmailAddress;

/// One address of a From/To/Cc/Bcc/Reply-To header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The decoded display name, `None` when absent or empty.
    pub name: Option<String>,
    pub address: EmailAddress,
}

/// The mailboxes of one header. Entries that are not valid addresses (`undisclosed
/// recipients`, bare names, typos) are reported and skipped so they never become contacts.
pub(super) fn mailboxes(
    field: &'static str,
    value: Option<&Address<'_>>,
    problems: &mut Vec<ParseProblem>,
) -> Vec<Mailbox> {
    let Some(value) = value else {
        return Vec::new();
    };
    let mut out: Vec<Mailbox> = Vec::new();
    for addr in value.iter() {
        let Some(raw) = addr.address() else {
            // A group name without members, or a lone display name.
            if let Some(name) = addr.name().filter(|n| !n.trim().is_empty()) {
                problems.push(ParseProblem::InvalidAddress {
                    field,
                    value: name.trim().to_owned(),
                });
            }
            continue;
        };
        match EmailAddress::parse(raw) {
            Ok(address) => {
                if out.iter().all(|m| m.address != address) {
                    out.push(Mailbox {
                        name: display_name(addr.name(), &address),
                        address,
                    });
                }
            }
            Err(_) => problems.push(ParseProblem::InvalidAddress {
                field,
                value: raw.trim().chars().take(80).collect(),
            }),
        }
    }
    out
}

/// Trims the name and its stray quotes; drops names that are only the address again.
fn display_name(name: Option<&str>, address: &EmailAddress) -> Option<String> {
    let name = name?.trim().trim_matches(['"', '\'']).trim();
    let collapsed = name.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty() && !collapsed.eq_ignore_ascii_case(address.as_str()))
        .then_some(collapsed)
}
