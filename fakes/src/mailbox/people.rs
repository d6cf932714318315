//! Contacts: identity, addresses, mail client habits and signature contents.
//!
//! Everything a person will ever show in mail is fixed here, once, so that
//! the same person writes with a consistent signature across threads and the
//! ground truth can be derived without rendering any message.

use std::collections::BTreeSet;

use rand::Rng;

use super::companies::Company;
use super::names::{FIRST_NAMES, LAST_NAMES, slug};
use super::phone::{self, Country, Phone, Zone};
use super::rng::{Gen, chance, pick, weighted};

/// How the person's client renders their display name in From/To headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DisplayStyle {
    /// `José Müller <jose@…>`
    Normal,
    /// `"Müller, José" <jose@…>`, common in Outlook/Exchange directories.
    LastFirst,
    /// `jose@…` with no display name at all.
    Bare,
}

/// Mail client, which decides quoting style, Message-ID shape and User-Agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Client {
    Gmail,
    Outlook,
    AppleMail,
    Thunderbird,
}

/// RFC 2047 encoding the person's client uses for non-ASCII names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WordEncoding {
    Base64,
    QuotedPrintable,
}

/// Fixed presentation choices for a person's signature block.
#[derive(Clone, Debug)]
pub(crate) struct SigStyle {
    /// `"-- "`, `"--"`, `"—"` or nothing before the block.
    pub(crate) separator: &'static str,
    /// Pipe-separated compact lines instead of one item per line.
    pub(crate) compact: bool,
    pub(crate) phone_label: &'static str,
    pub(crate) mobile_label: &'static str,
    pub(crate) linkedin_variant: u8,
    pub(crate) twitter_variant: u8,
    pub(crate) website_full_url: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub(crate) first: String,
    pub(crate) last: String,
    pub(crate) display: DisplayStyle,
    pub(crate) encoding: WordEncoding,
    pub(crate) zone: Zone,
    /// Index 0 is the primary address; index 1, if any, is a personal one.
    pub(crate) emails: Vec<String>,
    pub(crate) company: Option<u32>,
    pub(crate) title: Option<String>,
    /// Title shown before the given history-relative time (a promotion).
    pub(crate) previous_title: Option<(String, i64)>,
    pub(crate) phone: Option<Phone>,
    pub(crate) mobile: Option<Phone>,
    pub(crate) linkedin: Option<String>,
    pub(crate) twitter: Option<String>,
    /// Host shown in the signature, e.g. `www.kestrel.de`.
    pub(crate) website_host: Option<String>,
    pub(crate) signature: Option<SigStyle>,
    pub(crate) client: Client,
    /// Sometimes replies from a phone: "Sent from my iPhone" and no signature.
    pub(crate) mobile_replies: bool,
    pub(crate) language: Language,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Language {
    English,
    German,
}

impl Person {
    pub(crate) fn full_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }

    /// Title as shown in a signature written at `at_ms`.
    pub(crate) fn title_at(&self, at_ms: i64) -> Option<&str> {
        match &self.previous_title {
            Some((old, changed)) if at_ms < *changed => Some(old),
            _ => self.title.as_deref(),
        }
    }

    pub(crate) fn linkedin_url(&self) -> Option<String> {
        self.linkedin
            .as_ref()
            .map(|h| format!("https://www.linkedin.com/in/{h}"))
    }

    pub(crate) fn website_url(&self) -> Option<String> {
        self.website_host.as_ref().map(|h| format!("https://{h}"))
    }
}

const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
];

const INDEPENDENT_TITLES: &[&str] = &[
    "Independent Consultant",
    "Freelance Designer",
    "Photographer",
    "Fractional CFO",
    "Executive Coach",
    "Angel Investor",
    "Technical Writer",
];

const TITLES: &[&str] = &[
    "Head of Partnerships",
    "VP Engineering",
    "Senior Product Manager",
    "Account Executive",
    "Chief Operating Officer",
    "Founder & CEO",
    "Procurement Lead",
    "Talent Acquisition Partner",
    "Solutions Architect",
    "Marketing Director",
    "Customer Success Manager",
    "Legal Counsel",
    "Finance Manager",
    "Staff Software Engineer",
    "Design Lead",
    "Operations Manager",
    "Research Scientist",
    "Business Development Manager",
    "CTO",
    "Office Manager",
];

const PROMOTIONS: &[(&str, &str)] = &[
    ("Account Executive", "Senior Account Executive"),
    ("Product Manager", "Senior Product Manager"),
    ("Engineering Manager", "Director of Engineering"),
    ("Marketing Manager", "Marketing Director"),
];

fn free_mail_domain(rng: &mut Gen, country: Country) -> &'static str {
    match country {
        Country::De if chance(rng, 500) => pick(rng, &["gmx.de", "web.de"]),
        Country::Uk if chance(rng, 200) => "yahoo.co.uk",
        _ => pick(rng, FREE_MAIL),
    }
}

fn local_part(rng: &mut Gen, first: &str, last: &str, style: usize) -> String {
    let (f, l) = (slug(first), slug(last));
    let initial = &f[..1];
    match style % 5 {
        0 => format!("{f}.{l}"),
        1 => format!("{initial}{l}"),
        2 => f,
        3 => format!("{f}_{l}"),
        _ => format!("{f}{l}{}", rng.random_range(1..99)),
    }
}

/// Makes an address unique by appending a number, like real directories do.
fn unique(taken: &mut BTreeSet<String>, local: &str, domain: &str) -> String {
    let mut candidate = format!("{local}@{domain}");
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{local}{n}@{domain}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

fn sig_style(rng: &mut Gen) -> SigStyle {
    SigStyle {
        separator: pick(rng, &["-- ", "-- ", "--", "—", "", ""]),
        compact: chance(rng, 350),
        phone_label: pick(
            rng,
            &["T: ", "Tel: ", "Phone: ", "Office: ", "Direct: ", ""],
        ),
        mobile_label: pick(rng, &["M: ", "Mobile: ", "Cell: ", "Mob: "]),
        linkedin_variant: rng.random_range(0..3),
        twitter_variant: rng.random_range(0..4),
        website_full_url: chance(rng, 500),
    }
}

/// Inputs shared by every person: the company list and their popularity.
pub(crate) struct World<'a> {
    pub(crate) companies: &'a [Company],
    pub(crate) company_pick: &'a super::rng::Cumulative,
    pub(crate) taken: &'a mut BTreeSet<String>,
    pub(crate) history_ms: i64,
}

pub(crate) fn generate_person(rng: &mut Gen, world: &mut World<'_>) -> Person {
    let first = pick(rng, FIRST_NAMES).to_string();
    let last = pick(rng, LAST_NAMES).to_string();
    let independent = world.companies.is_empty() || chance(rng, 200);
    let company = (!independent).then(|| world.company_pick.sample(rng) as u32);
    let country = match company {
        Some(c) => world.companies[c as usize].country,
        None => Country::ALL[weighted(rng, &Country::WEIGHTS)],
    };
    let zone = Zone::new(country, chance(rng, 400));
    let free_style = rng.random_range(0..5);
    let free_local = local_part(rng, &first, &last, free_style);
    let free = unique(world.taken, &free_local, free_mail_domain(rng, country));
    let mut emails = Vec::with_capacity(2);
    if let Some(c) = company {
        let co = &world.companies[c as usize];
        // Companies keep one address convention, so derive it from the company.
        let style = c as usize % 4;
        let local = local_part(rng, &first, &last, style);
        emails.push(unique(world.taken, &local, &co.mail_domain));
        if chance(rng, 120) {
            emails.push(free);
        }
    } else {
        emails.push(free);
    }

    let client = match emails[0].rsplit('@').next() {
        Some("gmail.com") => Client::Gmail,
        Some("outlook.com" | "hotmail.com") => Client::Outlook,
        Some("icloud.com") => Client::AppleMail,
        _ => [
            Client::Gmail,
            Client::Outlook,
            Client::AppleMail,
            Client::Thunderbird,
        ][weighted(rng, &[45, 35, 15, 5])],
    };
    let display = match weighted(rng, &[86, 8, 6]) {
        0 => DisplayStyle::Normal,
        1 => DisplayStyle::LastFirst,
        _ => DisplayStyle::Bare,
    };
    let encoding = if chance(rng, 500) {
        WordEncoding::Base64
    } else {
        WordEncoding::QuotedPrintable
    };

    let has_sig = chance(rng, if independent { 500 } else { 800 });
    let signature = has_sig.then(|| sig_style(rng));
    let phone_style = rng.random_range(0..8);
    let mut title = None;
    let mut previous_title = None;
    if independent {
        if chance(rng, 450) {
            title = Some(pick(rng, INDEPENDENT_TITLES).to_string());
        }
    } else if chance(rng, 60) {
        let (old, new) = pick(rng, PROMOTIONS);
        title = Some(new.to_string());
        let changed = rng.random_range(world.history_ms / 4..world.history_ms * 3 / 4);
        previous_title = Some((old.to_string(), changed));
    } else if chance(rng, 900) {
        title = Some(pick(rng, TITLES).to_string());
    }
    let phone = chance(rng, 650)
        .then(|| phone::office(rng, country, phone_style))
        .flatten();
    let mobile = chance(rng, 350)
        .then(|| phone::mobile(rng, country, phone_style))
        .flatten()
        .filter(|m| phone.as_ref().is_none_or(|p| p.e164 != m.e164));
    let handle_suffix = rng.random_range(0x1000..0xffff_u32);
    let linkedin = chance(rng, 350).then(|| match rng.random_range(0..2) {
        0 => format!("{}-{}-{handle_suffix:x}", slug(&first), slug(&last)),
        _ => format!("{}{}", slug(&first), slug(&last)),
    });
    let twitter = chance(rng, 120).then(|| {
        let mut h = format!("{}_{}", slug(&first), slug(&last));
        h.truncate(15);
        h
    });
    let website_host = if independent {
        chance(rng, 400).then(|| {
            let host = pick(rng, &["design", "studio", "dev", "net", "photography"]);
            format!("{}{}.{host}", slug(&first), slug(&last))
        })
    } else {
        let co = &world.companies[company.expect("employed") as usize];
        chance(rng, 400).then(|| format!("www.{}", co.domain))
    };
    let language = if country == Country::De && chance(rng, 300) {
        Language::German
    } else {
        Language::English
    };
    Person {
        first,
        last,
        display,
        encoding,
        zone,
        emails,
        company,
        title,
        previous_title,
        phone,
        mobile,
        linkedin,
        twitter,
        website_host,
        signature,
        client,
        mobile_replies: chance(rng, 250),
        language,
    }
}

/// The mailbox owner, modelled as a person so replies, quoting and
/// signatures work the same way in both directions.
pub(crate) fn owner(name: &str, email: &str, company: Option<u32>, rng: &mut Gen) -> Person {
    let (first, last) = match name.split_once(' ') {
        Some((f, l)) => (f.to_string(), l.to_string()),
        None => (name.to_string(), String::new()),
    };
    Person {
        first,
        last,
        display: DisplayStyle::Normal,
        encoding: WordEncoding::QuotedPrintable,
        zone: Zone::new(Country::Us, false),
        emails: vec![email.to_string()],
        company,
        title: company.map(|_| "Director of Business Development".to_string()),
        previous_title: None,
        phone: phone::office(rng, Country::Us, 0),
        mobile: None,
        linkedin: None,
        twitter: None,
        website_host: None,
        signature: Some(SigStyle {
            separator: "-- ",
            compact: false,
            phone_label: "",
            mobile_label: "M: ",
            linkedin_variant: 0,
            twitter_variant: 0,
            website_full_url: false,
        }),
        client: Client::Gmail,
        mobile_replies: false,
        language: Language::English,
    }
}
