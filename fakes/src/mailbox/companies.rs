//! Invented companies with country-appropriate legal forms and domains,
//! including multi-level public suffixes (`.co.uk`, `.com.au`) and mail
//! subdomains (`mail.example.de`) that domain-to-company logic must handle.

use std::collections::BTreeSet;

use rand::Rng;

use super::phone::Country;
use super::rng::{Gen, chance, pick, weighted};

const STEMS: &[&str] = &[
    "Kestrel",
    "Bluefin",
    "Harborview",
    "Lumen",
    "Copperline",
    "Tidewater",
    "Northgate",
    "Brightfield",
    "Silverpine",
    "Quarrystone",
    "Meridian",
    "Ashgrove",
    "Fernleaf",
    "Ironbark",
    "Saltmarsh",
    "Cobalt",
    "Larkspur",
    "Redwing",
    "Stonebridge",
    "Wavecrest",
    "Juniper",
    "Oakhollow",
    "Driftwood",
    "Palisade",
    "Emberly",
    "Foxglove",
    "Granite Peak",
    "Halcyon",
    "Inkwell",
    "Kingfisher",
    "Lanternfish",
    "Marigold",
    "Nettlefield",
    "Orchard Lane",
    "Pinecrest",
    "Quillon",
    "Riverbend",
    "Sableworth",
    "Thistledown",
    "Umberfield",
    "Velvetine",
    "Westmarch",
    "Yarrowby",
    "Zephyrine",
    "Amberleigh",
    "Bramblecote",
    "Cindervale",
    "Dovetail",
    "Everbright",
    "Fallowmere",
    "Glasswing",
    "Hollowell",
    "Ivorybill",
    "Jadeport",
    "Kettlewell",
    "Lowmoor",
    "Mosswood",
    "Nightjar",
    "Otterburn",
    "Pebblebrook",
];

const SECTORS: &[&str] = &[
    "Labs",
    "Analytics",
    "Logistics",
    "Health",
    "Robotics",
    "Capital",
    "Partners",
    "Studio",
    "Systems",
    "Foods",
    "Energy",
    "Legal",
    "Media",
    "Bio",
    "Software",
    "Consulting",
    "Ventures",
    "Networks",
    "Materials",
    "Design",
];

/// A company as the generator knows it; ground truth derives from this.
#[derive(Clone, Debug)]
pub(crate) struct Company {
    pub(crate) name: String,
    /// Registrable domain, e.g. `kestrel-labs.co.uk`.
    pub(crate) domain: String,
    /// Domain used in employees' addresses; sometimes a subdomain.
    pub(crate) mail_domain: String,
    pub(crate) country: Country,
    /// Whether employee signatures carry a legal disclaimer.
    pub(crate) disclaimer: bool,
}

fn legal_form(country: Country) -> &'static str {
    match country {
        Country::Us | Country::Ca => "Inc.",
        Country::Uk => "Ltd",
        Country::De => "GmbH",
        Country::Au => "Pty Ltd",
        Country::Fr => "SAS",
        Country::Nl => "B.V.",
    }
}

fn tld(rng: &mut Gen, country: Country) -> &'static str {
    match country {
        Country::Us => pick(rng, &["com", "com", "io", "co", "ai"]),
        Country::Ca => "ca",
        Country::Uk => pick(rng, &["co.uk", "co.uk", "com"]),
        Country::De => "de",
        Country::Au => "com.au",
        Country::Fr => "fr",
        Country::Nl => "nl",
    }
}

/// Builds `count` companies with unique names and domains. The owner's
/// employer is supplied separately and its domain is reserved here.
pub(crate) fn generate(rng: &mut Gen, count: usize, reserved_domain: &str) -> Vec<Company> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    taken.insert(reserved_domain.to_string());
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let country = Country::ALL[weighted(rng, &Country::WEIGHTS)];
        let stem = pick(rng, STEMS);
        let sector = pick(rng, SECTORS);
        let stem_slug = super::names::slug(stem);
        let sector_slug = super::names::slug(sector);
        let base = match rng.random_range(0..4) {
            0 => stem_slug.clone(),
            1 => format!("{stem_slug}{sector_slug}"),
            _ => format!("{stem_slug}-{sector_slug}"),
        };
        let mut domain = format!("{base}.{}", tld(rng, country));
        let mut n = 2;
        while taken.contains(&domain) {
            domain = format!("{base}{n}.{}", tld(rng, country));
            n += 1;
        }
        taken.insert(domain.clone());
        let name = if n == 2 {
            format!("{stem} {sector} {}", legal_form(country))
        } else {
            format!("{stem} {sector} {} {}", n - 1, legal_form(country))
        };
        let mail_domain = if chance(rng, 100) {
            format!(
                "{}.{domain}",
                pick(rng, &["mail", "eu", "corp", "us", "staff"])
            )
        } else {
            domain.clone()
        };
        let disclaimer = chance(rng, 250);
        out.push(Company {
            name,
            domain,
            mail_domain,
            country,
            disclaimer,
        });
    }
    out
}
