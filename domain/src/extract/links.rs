//! Canonical forms of the profile links found in signatures, so the same profile
//! written three ways (`linkedin.com/in/jdoe/`, `https://www.LinkedIn.com/in/jdoe`,
//! `http://linkedin.com/in/jdoe?trk=x`) is stored once.

/// `https://www.linkedin.com/in/<handle>` (or `/company/<name>`), without query or
/// trailing slash. `None` when the URL is not a LinkedIn profile.
pub fn canonical_linkedin(raw: &str) -> Option<String> {
    let (host, path) = host_and_path(raw)?;
    if host != "linkedin.com" && !host.ends_with(".linkedin.com") {
        return None;
    }
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let kind = parts.next()?;
    let handle = parts.next()?;
    matches!(kind, "in" | "pub" | "company")
        .then(|| format!("https://www.linkedin.com/{kind}/{handle}"))
}

/// The X/Twitter handle (without `@`) from `@handle`, `twitter.com/handle` or
/// `x.com/handle`. `None` for anything else or an invalid handle.
pub fn twitter_handle(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let handle = if let Some(h) = raw.strip_prefix('@') {
        h.to_owned()
    } else {
        let (host, path) = host_and_path(raw)?;
        if !matches!(
            host.as_str(),
            "twitter.com" | "x.com" | "mobile.twitter.com"
        ) {
            return None;
        }
        path.split('/').find(|p| !p.is_empty())?.to_owned()
    };
    let valid = (1..=15).contains(&handle.len())
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(handle)
}

/// `https://x.com/<handle>`, the form stored in `contacts.links`.
pub fn twitter_url(handle: &str) -> String {
    format!("https://x.com/{handle}")
}

/// A website as `https://host[/path]`: scheme forced to https, host lower-cased, query,
/// fragment and trailing slash dropped. `None` when there is no plausible host.
pub fn canonical_website(raw: &str) -> Option<String> {
    let (host, path) = host_and_path(raw)?;
    let path = path.trim_end_matches('/');
    Some(if path.is_empty() {
        format!("https://{host}")
    } else {
        format!("https://{host}{path}")
    })
}

/// Lower-cased host and the path (starting with `/` or empty) of a URL with or without
/// a scheme.
fn host_and_path(raw: &str) -> Option<(String, String)> {
    let raw = raw.trim().trim_end_matches(['.', ',', ';', ')', '>']);
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .or_else(|| raw.strip_prefix("HTTPS://"))
        .or_else(|| raw.strip_prefix("HTTP://"))
        .unwrap_or(raw);
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = &rest[..end];
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = host.to_ascii_lowercase();
    let plausible = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    plausible.then(|| (host, path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linkedin_profiles_in_any_spelling_are_one_url() {
        for raw in [
            "linkedin.com/in/jdoe",
            "https://www.LinkedIn.com/in/jdoe/",
            "http://uk.linkedin.com/in/jdoe?trk=sig",
        ] {
            assert_eq!(
                canonical_linkedin(raw).as_deref(),
                Some("https://www.linkedin.com/in/jdoe"),
                "{raw}"
            );
        }
        assert_eq!(canonical_linkedin("https://linkedin.com/"), None);
        assert_eq!(canonical_linkedin("https://example.com/in/jdoe"), None);
    }

    #[test]
    fn twitter_handles_from_urls_and_at_forms() {
        assert_eq!(twitter_handle("@jane_doe").as_deref(), Some("jane_doe"));
        assert_eq!(
            twitter_handle("https://twitter.com/JaneDoe/").as_deref(),
            Some("JaneDoe")
        );
        assert_eq!(twitter_handle("x.com/jd").as_deref(), Some("jd"));
        assert_eq!(twitter_handle("https://example.com/jd"), None);
        assert_eq!(twitter_handle("@this_handle_is_far_too_long"), None);
    }

    #[test]
    fn websites_are_https_without_noise() {
        assert_eq!(
            canonical_website("www.Acme.co.uk/").as_deref(),
            Some("https://www.acme.co.uk")
        );
        assert_eq!(
            canonical_website("http://acme.com/team?ref=mail").as_deref(),
            Some("https://acme.com/team")
        );
        assert_eq!(canonical_website("not a url"), None);
    }
}
