//! Countries, time zones and fictional phone numbers.
//!
//! Numbers come from ranges reserved for fiction (NANP 555-01xx, Ofcom
//! drama numbers, ACMA fictitious numbers, German media test numbers) so
//! nothing can ever dial a real subscriber, yet every number has a valid
//! national format that phone parsers accept.

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Utc};
use rand::Rng;

use super::rng::{Gen, pick};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Country {
    Us,
    Ca,
    Uk,
    De,
    Au,
    Fr,
    Nl,
}

impl Country {
    pub(crate) const ALL: [Country; 7] = [
        Country::Us,
        Country::Ca,
        Country::Uk,
        Country::De,
        Country::Au,
        Country::Fr,
        Country::Nl,
    ];

    /// Relative frequency of contacts per country for a typical
    /// English-speaking startup's mailbox.
    pub(crate) const WEIGHTS: [u32; 7] = [40, 8, 20, 14, 8, 5, 5];

    /// Standard (winter) UTC offset in minutes; US contacts are split between
    /// coasts by the caller.
    fn standard_offset_minutes(self, west_coast: bool) -> i32 {
        match self {
            Country::Us if west_coast => -8 * 60,
            Country::Us | Country::Ca => -5 * 60,
            Country::Uk => 0,
            Country::De | Country::Fr | Country::Nl => 60,
            Country::Au => 10 * 60,
        }
    }
}

/// A contact's local clock. Daylight saving uses a month-granular rule: exact
/// transition dates do not matter for mail realism, only that the Date header
/// offset is plausible and consistent with the instant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Zone {
    standard_minutes: i32,
    southern: bool,
}

impl Zone {
    pub(crate) fn new(country: Country, west_coast: bool) -> Zone {
        Zone {
            standard_minutes: country.standard_offset_minutes(west_coast),
            southern: country == Country::Au,
        }
    }

    pub(crate) fn offset_at(self, at: DateTime<Utc>) -> FixedOffset {
        let month = at.month();
        let summer = if self.southern {
            !(4..=9).contains(&month)
        } else {
            (4..=10).contains(&month)
        };
        let minutes = self.standard_minutes + if summer { 60 } else { 0 };
        FixedOffset::east_opt(minutes * 60).expect("offset within a day")
    }

    pub(crate) fn local(self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        self.offset_at(at).from_utc_datetime(&at.naive_utc())
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Phone {
    /// Normalised form recorded in ground truth.
    pub(crate) e164: String,
    /// Exactly what the signature shows.
    pub(crate) display: String,
}

const US_AREAS: &[&str] = &[
    "415", "212", "646", "617", "312", "206", "512", "303", "310",
];
const CA_AREAS: &[&str] = &["416", "604", "514"];
const DE_BLOCKS: &[(&str, &str)] = &[
    ("30", "23125"),
    ("69", "90009"),
    ("40", "66969"),
    ("221", "4710"),
    ("89", "99998"),
];
const AU_MOBILES: &[&str] = &[
    "491570006",
    "491570156",
    "491570157",
    "491570158",
    "491570159",
    "491570110",
    "491570313",
    "491570737",
    "491571266",
    "491571491",
    "491571804",
    "491572549",
    "491572665",
    "491572983",
];

/// An office (landline) number, or `None` for countries where no fictional
/// range is used.
pub(crate) fn office(rng: &mut Gen, country: Country, style: u8) -> Option<Phone> {
    match country {
        Country::Us | Country::Ca => {
            let areas = if country == Country::Us {
                US_AREAS
            } else {
                CA_AREAS
            };
            let area = pick(rng, areas);
            Some(nanp(area, rng.random_range(0..100), style))
        }
        Country::Uk => {
            let line = format!("0{:03}", rng.random_range(0..1000));
            let e164 = format!("+44207946{line}");
            let display = match style % 3 {
                0 => format!("+44 20 7946 {line}"),
                1 => format!("020 7946 {line}"),
                _ => format!("+44 (0)20 7946 {line}"),
            };
            Some(Phone { e164, display })
        }
        Country::De => {
            let (area, block) = pick(rng, DE_BLOCKS);
            let ext = format!("{:03}", rng.random_range(0..1000));
            let e164 = format!("+49{area}{block}{ext}");
            let display = match style % 4 {
                0 => format!("0{area} {block}{ext}"),
                1 => format!("+49 {area} {block}{ext}"),
                2 => format!("+49 (0){area} {block} {ext}"),
                _ => format!("0{area}/{block}{ext}"),
            };
            Some(Phone { e164, display })
        }
        Country::Au => {
            let area = pick(rng, &["2", "3", "7", "8"]);
            let line = format!("{:04}", rng.random_range(0..10000));
            let e164 = format!("+61{area}5550{line}");
            let display = match style % 2 {
                0 => format!("+61 {area} 5550 {line}"),
                _ => format!("(0{area}) 5550 {line}"),
            };
            Some(Phone { e164, display })
        }
        Country::Fr | Country::Nl => None,
    }
}

/// A mobile number; NANP has no separate mobile ranges so it reuses 555-01xx.
pub(crate) fn mobile(rng: &mut Gen, country: Country, style: u8) -> Option<Phone> {
    match country {
        Country::Us | Country::Ca => office(rng, country, style),
        Country::Uk => {
            let line = format!("{:03}", rng.random_range(0..1000));
            let e164 = format!("+447700900{line}");
            let display = match style % 2 {
                0 => format!("+44 7700 900{line}"),
                _ => format!("07700 900{line}"),
            };
            Some(Phone { e164, display })
        }
        Country::Au => {
            let n = pick(rng, AU_MOBILES);
            let e164 = format!("+61{n}");
            let (a, b, c) = (&n[0..3], &n[3..6], &n[6..9]);
            let display = match style % 2 {
                0 => format!("0{a} {b} {c}"),
                _ => format!("+61 {a} {b} {c}"),
            };
            Some(Phone { e164, display })
        }
        Country::De | Country::Fr | Country::Nl => None,
    }
}

fn nanp(area: &str, xx: u32, style: u8) -> Phone {
    let e164 = format!("+1{area}55501{xx:02}");
    let display = match style % 5 {
        0 => format!("({area}) 555-01{xx:02}"),
        1 => format!("{area}.555.01{xx:02}"),
        2 => format!("+1-{area}-555-01{xx:02}"),
        3 => format!("+1 {area} 555 01{xx:02}"),
        _ => format!("{area}-555-01{xx:02}"),
    };
    Phone { e164, display }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::rng::{Stream, stream};

    #[test]
    fn displayed_digits_contain_the_national_number() {
        let mut rng = stream(7, Stream::World, 0, 0);
        for country in Country::ALL {
            for style in 0..6 {
                let phones = [
                    office(&mut rng, country, style),
                    mobile(&mut rng, country, style),
                ];
                for phone in phones.into_iter().flatten() {
                    let digits: String =
                        phone.display.chars().filter(char::is_ascii_digit).collect();
                    let cc = if phone.e164.starts_with("+1") { 2 } else { 3 };
                    let national = &phone.e164[cc..];
                    assert!(digits.contains(national), "{phone:?}");
                }
            }
        }
    }
}
