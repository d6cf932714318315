//! Signature blocks. A person's block is a pure function of their fixed
//! profile and the send time (titles can change mid-history), so the same
//! person always signs the same way and ground truth can cite it exactly.

use super::companies::Company;
use super::people::Person;

/// Legal boilerplate that extractors must not mistake for contact data.
const DISCLAIMER: &str = "CONFIDENTIALITY NOTICE: This e-mail message, including any attachments, \
is for the sole use of the intended recipient(s) and may contain confidential and privileged \
information. Any unauthorized review, use, disclosure or distribution is prohibited. If you are \
not the intended recipient, please contact the sender by reply e-mail and destroy all copies of \
the original message.";

/// Lines of the signature block (without the sign-off), or `None` when the
/// person does not use one.
pub(crate) fn lines(person: &Person, companies: &[Company], at_ms: i64) -> Option<Vec<String>> {
    let style = person.signature.as_ref()?;
    let company = person.company.map(|c| &companies[c as usize]);
    let mut out = Vec::new();
    if !style.separator.is_empty() {
        out.push(style.separator.to_string());
    }
    let name = person.full_name();
    let title = person.title_at(at_ms).map(str::to_string);
    let company_name = company.map(|c| c.name.clone());
    let phone = person
        .phone
        .as_ref()
        .map(|p| format!("{}{}", style.phone_label, p.display));
    let mobile = person
        .mobile
        .as_ref()
        .map(|p| format!("{}{}", style.mobile_label, p.display));
    let website = person.website_host.as_ref().map(|h| {
        if style.website_full_url {
            format!("https://{h}")
        } else {
            h.clone()
        }
    });
    let linkedin = person
        .linkedin
        .as_ref()
        .map(|h| match style.linkedin_variant {
            0 => format!("https://www.linkedin.com/in/{h}"),
            1 => format!("linkedin.com/in/{h}"),
            _ => format!("LinkedIn: https://www.linkedin.com/in/{h}/"),
        });
    let twitter = person
        .twitter
        .as_ref()
        .map(|h| match style.twitter_variant {
            0 => format!("@{h}"),
            1 => format!("X: @{h}"),
            2 => format!("https://x.com/{h}"),
            _ => format!("twitter.com/{h}"),
        });
    if style.compact {
        let groups = [
            vec![Some(name), title, company_name],
            vec![phone, mobile],
            vec![website, linkedin, twitter],
        ];
        for group in groups {
            let items: Vec<String> = group.into_iter().flatten().collect();
            if !items.is_empty() {
                out.push(items.join(" | "));
            }
        }
    } else {
        let items = [
            Some(name),
            title,
            company_name,
            phone,
            mobile,
            website,
            linkedin,
            twitter,
        ];
        out.extend(items.into_iter().flatten());
    }
    if company.is_some_and(|c| c.disclaimer) {
        out.push(String::new());
        out.push(DISCLAIMER.to_string());
    }
    Some(out)
}
