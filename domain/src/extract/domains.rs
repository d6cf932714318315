//! Domain facts needed to turn an email address into a company guess:
//! registrable domain (public suffix list embedded by the `psl` crate, so
//! nothing is fetched at run time), free-mail detection, ccTLD region and a
//! last-resort company name from the domain label.

/// The registrable domain of a company address, e.g. `acme.co.uk` for
/// `jane@mail.acme.co.uk`. Never built for free-mail providers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompanyDomain(String);

impl CompanyDomain {
    /// `None` for free-mail, unknown suffixes and malformed hosts.
    pub fn from_email(addr: &str) -> Option<Self> {
        let host = host_of(addr)?;
        if is_free_mail(&host) {
            return None;
        }
        registrable_domain(&host).map(CompanyDomain)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Human guess of the company name (see [`company_name_from_domain`]).
    pub fn company_name(&self) -> Option<String> {
        company_name_from_domain(&self.0)
    }
}

/// Lower-cased host part of an address (accepts a bare host too).
pub fn host_of(addr: &str) -> Option<String> {
    let host = addr.rsplit_once('@').map_or(addr, |(_, h)| h);
    let host = host
        .trim()
        .trim_end_matches('>')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.contains('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    valid.then_some(host)
}

/// Registrable domain ("eTLD+1") of a host using the embedded public suffix
/// list; `None` when the host is itself a public suffix or has no known one.
pub fn registrable_domain(host: &str) -> Option<String> {
    let host = host_of(host)?;
    let suffix = psl::suffix(host.as_bytes())?;
    if !suffix.is_known() {
        return None;
    }
    psl::domain_str(&host).map(str::to_string)
}

/// Consumer mailbox providers: a domain here says nothing about employer.
/// Matched on the registrable domain, so subdomains are covered too.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "outlook.de",
    "outlook.fr",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "hotmail.it",
    "hotmail.es",
    "live.com",
    "live.co.uk",
    "live.fr",
    "live.de",
    "msn.com",
    "passport.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.de",
    "yahoo.es",
    "yahoo.it",
    "yahoo.ca",
    "yahoo.com.au",
    "yahoo.com.br",
    "yahoo.co.in",
    "yahoo.co.jp",
    "yahoo.com.mx",
    "ymail.com",
    "rocketmail.com",
    "aol.com",
    "aim.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "gmx.at",
    "gmx.ch",
    "web.de",
    "t-online.de",
    "freenet.de",
    "yandex.ru",
    "yandex.com",
    "ya.ru",
    "mail.ru",
    "bk.ru",
    "inbox.ru",
    "list.ru",
    "rambler.ru",
    "qq.com",
    "163.com",
    "126.com",
    "yeah.net",
    "sina.com",
    "sohu.com",
    "zoho.com",
    "zohomail.com",
    "fastmail.com",
    "fastmail.fm",
    "hey.com",
    "tutanota.com",
    "tuta.io",
    "mailbox.org",
    "posteo.de",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
    "libero.it",
    "virgilio.it",
    "tiscali.it",
    "btinternet.com",
    "sky.com",
    "virginmedia.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "bellsouth.net",
    "cox.net",
    "charter.net",
    "earthlink.net",
    "juno.com",
    "optonline.net",
    "rediffmail.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
    "bigpond.com",
    "optusnet.com.au",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "onet.pl",
    "mail.com",
    "email.com",
    "usa.com",
    "gmx.us",
    "hushmail.com",
];

/// True for consumer mailbox providers (any subdomain of one counts).
pub fn is_free_mail(addr_or_host: &str) -> bool {
    let Some(host) = host_of(addr_or_host) else {
        return false;
    };
    let reg = psl::domain_str(&host).unwrap_or(&host).to_string();
    FREE_MAIL.contains(&reg.as_str()) || FREE_MAIL.contains(&host.as_str())
}

/// ISO 3166 region from a country-code TLD (`.co.uk` -> GB). Generic TLDs
/// (`.com`, `.org`) return `None` because they carry no location.
pub fn region_from_tld(addr_or_host: &str) -> Option<&'static str> {
    let host = host_of(addr_or_host)?;
    let tld = host.rsplit('.').next()?;
    let region = match tld {
        "uk" => "GB",
        "us" => "US",
        "de" => "DE",
        "fr" => "FR",
        "in" => "IN",
        "au" => "AU",
        "br" => "BR",
        "ca" => "CA",
        "ie" => "IE",
        "nl" => "NL",
        "be" => "BE",
        "ch" => "CH",
        "at" => "AT",
        "es" => "ES",
        "it" => "IT",
        "pt" => "PT",
        "se" => "SE",
        "no" => "NO",
        "dk" => "DK",
        "fi" => "FI",
        "pl" => "PL",
        "cz" => "CZ",
        "jp" => "JP",
        "cn" => "CN",
        "kr" => "KR",
        "sg" => "SG",
        "nz" => "NZ",
        "mx" => "MX",
        "ar" => "AR",
        "za" => "ZA",
        "il" => "IL",
        "ru" => "RU",
        _ => return None,
    };
    Some(region)
}

/// Words that are part of the host naming scheme, not the company name.
const HOST_NOISE: &[&str] = &["mail", "email", "smtp", "mx", "www", "corp", "inc", "group"];

/// Guess a display company name from a registrable domain:
/// `acme-corp.co.uk` -> "Acme Corp", `globex.com` -> "Globex". Used only as
/// a fallback when no organisation line was found, so it stays simple.
pub fn company_name_from_domain(domain: &str) -> Option<String> {
    let reg = registrable_domain(domain)?;
    let label = reg.split('.').next()?;
    let words: Vec<String> = label
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        })
        .collect();
    let meaningful = words
        .iter()
        .any(|w| !HOST_NOISE.contains(&w.to_lowercase().as_str()));
    (meaningful && !words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_multi_level() {
        assert_eq!(
            registrable_domain("mail.acme.co.uk").as_deref(),
            Some("acme.co.uk")
        );
        assert_eq!(
            registrable_domain("eu.mx.globex.com.au").as_deref(),
            Some("globex.com.au")
        );
        assert_eq!(registrable_domain("acme.com").as_deref(), Some("acme.com"));
        assert_eq!(registrable_domain("co.uk"), None);
        assert_eq!(registrable_domain("localhost"), None);
    }

    #[test]
    fn company_domain_skips_free_mail() {
        assert_eq!(CompanyDomain::from_email("jane@gmail.com"), None);
        assert_eq!(CompanyDomain::from_email("jane@yahoo.co.uk"), None);
        assert_eq!(CompanyDomain::from_email("j@mail.yandex.ru"), None);
        let d = CompanyDomain::from_email("Jane@Sales.Acme-Corp.co.uk").unwrap();
        assert_eq!(d.as_str(), "acme-corp.co.uk");
        assert_eq!(d.company_name().as_deref(), Some("Acme Corp"));
    }

    #[test]
    fn free_mail_list() {
        for a in [
            "a@hotmail.com",
            "a@icloud.com",
            "a@proton.me",
            "a@web.de",
            "a@qq.com",
            "a@hey.com",
        ] {
            assert!(is_free_mail(a), "{a}");
        }
        assert!(!is_free_mail("a@acme.com"));
    }

    #[test]
    fn tld_regions() {
        assert_eq!(region_from_tld("a@b.co.uk"), Some("GB"));
        assert_eq!(region_from_tld("a@firma.de"), Some("DE"));
        assert_eq!(region_from_tld("a@b.com.br"), Some("BR"));
        assert_eq!(region_from_tld("a@b.com"), None);
    }

    #[test]
    fn company_name_fallback() {
        assert_eq!(
            company_name_from_domain("globex.com").as_deref(),
            Some("Globex")
        );
        assert_eq!(
            company_name_from_domain("mail.initech.de").as_deref(),
            Some("Initech")
        );
    }
}
