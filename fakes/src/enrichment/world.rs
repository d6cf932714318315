//! What the fake enrichment APIs know: people by email and X accounts by username.
//! [`EnrichmentWorld::from_truth`] builds it from the demo mailbox's ground truth, so
//! demo mode and `make eval-enrich` see facts consistent with the mail, with the
//! imperfections real data has: some people unknown, some titles out of date.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::mailbox::GroundTruth;

/// A person as the data providers know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePerson {
    pub email: String,
    pub full_name: String,
    pub title: Option<String>,
    pub company: Option<String>,
    pub company_domain: Option<String>,
    pub location: Option<String>,
    pub linkedin: Option<String>,
    /// Handle without `@`.
    pub twitter: Option<String>,
    pub bio: Option<String>,
    pub industry: Option<String>,
    pub company_size: Option<String>,
    /// People Data Labs' likelihood (1..10).
    pub likelihood: u8,
    /// Whether the Clearbit-format API knows them too.
    pub in_clearbit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePost {
    pub id: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeXUser {
    pub id: String,
    pub username: String,
    pub name: String,
    pub description: String,
    pub location: Option<String>,
    /// Newest first.
    pub posts: Vec<FakePost>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrichmentWorld {
    pub people: Vec<FakePerson>,
    pub x_users: Vec<FakeXUser>,
}

impl FakePerson {
    /// A person known to both APIs with only a name; fill in the rest.
    pub fn new(email: &str, full_name: &str) -> Self {
        Self {
            email: email.to_lowercase(),
            full_name: full_name.to_owned(),
            title: None,
            company: None,
            company_domain: None,
            location: None,
            linkedin: None,
            twitter: None,
            bio: None,
            industry: None,
            company_size: None,
            likelihood: 8,
            in_clearbit: true,
        }
    }

    /// People Data Labs' answer: every string lowercase, URLs without a scheme.
    pub fn pdl_body(&self) -> Value {
        let lower = |v: &Option<String>| v.as_ref().map(|s| s.to_lowercase());
        let bare = |v: &Option<String>| {
            v.as_ref().map(|s| {
                s.trim_start_matches("https://")
                    .trim_start_matches("www.")
                    .to_lowercase()
            })
        };
        json!({
            "status": 200,
            "likelihood": self.likelihood,
            "data": {
                "full_name": self.full_name.to_lowercase(),
                "first_name": self.full_name.split(' ').next().map(str::to_lowercase),
                "job_title": lower(&self.title),
                "job_company_name": lower(&self.company),
                "job_company_website": self.company_domain,
                "job_company_industry": lower(&self.industry),
                "job_company_size": self.company_size,
                "location_name": lower(&self.location),
                "linkedin_url": bare(&self.linkedin),
                "twitter_url": self.twitter.as_ref().map(|h| format!("twitter.com/{}", h.to_lowercase())),
                "twitter_username": self.twitter.as_ref().map(|h| h.to_lowercase()),
                "work_email": self.email,
            }
        })
    }

    /// The combined person + company answer.
    pub fn clearbit_body(&self) -> Value {
        let (given, family) = self
            .full_name
            .split_once(' ')
            .unwrap_or((&self.full_name, ""));
        let company = self.company.as_ref().map(|name| {
            json!({
                "name": name,
                "domain": self.company_domain,
                "category": {"industry": self.industry},
                "metrics": {"employeesRange": self.company_size},
            })
        });
        json!({
            "person": {
                "id": format!("{:x}", Sha256::digest(self.email.as_bytes()))[..12].to_owned(),
                "name": {"fullName": self.full_name, "givenName": given, "familyName": family},
                "email": self.email,
                "location": self.location,
                "bio": self.bio,
                "site": null,
                "employment": {"name": self.company, "title": self.title, "domain": self.company_domain},
                "linkedin": {"handle": self.linkedin.as_ref()
                    .and_then(|l| l.split_once("linkedin.com/").map(|(_, h)| h.to_owned()))},
                "twitter": {"handle": self.twitter},
            },
            "company": company,
        })
    }
}

impl FakeXUser {
    pub fn profile(&self) -> Value {
        json!({"id": self.id, "name": self.name, "username": self.username,
               "description": self.description, "location": self.location})
    }

    pub fn timeline(&self, max: usize) -> Value {
        let data: Vec<Value> = self
            .posts
            .iter()
            .take(max)
            .map(|p| {
                json!({"id": p.id, "text": p.text, "edit_history_tweet_ids": [p.id],
                       "created_at": p.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)})
            })
            .collect();
        if data.is_empty() {
            return json!({"meta": {"result_count": 0}});
        }
        json!({"data": data, "meta": {"result_count": data.len(),
               "newest_id": self.posts[0].id, "oldest_id": self.posts[data.len() - 1].id}})
    }
}

/// A stable number 0..n from `text`.
fn pick(text: &str, salt: &str, n: usize) -> usize {
    let digest = Sha256::digest(format!("{salt}:{text}").as_bytes());
    let number = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (number % n as u64) as usize
}

const TITLES: [&str; 8] = [
    "Account Executive",
    "Product Manager",
    "Head of Operations",
    "Senior Engineer",
    "Marketing Director",
    "Chief Financial Officer",
    "Partnerships Lead",
    "Consultant",
];
const INDUSTRIES: [&str; 5] = [
    "Software",
    "Financial Services",
    "Logistics",
    "Consulting",
    "Manufacturing",
];
const SIZES: [&str; 5] = ["11-50", "51-200", "201-500", "501-1000", "1001-5000"];
const TOPICS: [&str; 6] = [
    "Great panel today on pricing strategy for B2B software.",
    "Hiring! We are growing the team — DM me if you are interested.",
    "Shipping season: our logistics partners have been heroes this quarter.",
    "Three lessons from a year of remote-first work.",
    "Back from the conference in Lisbon with a notebook full of ideas.",
    "Quarterly numbers are in and the team smashed it.",
];

fn location_for(domain: Option<&str>) -> &'static str {
    match domain.and_then(|d| d.rsplit('.').next()) {
        Some("uk") => "London, United Kingdom",
        Some("de") => "Berlin, Germany",
        Some("fr") => "Paris, France",
        Some("nl") => "Amsterdam, Netherlands",
        Some("au") => "Sydney, Australia",
        Some("ca") => "Toronto, Canada",
        _ => "New York, United States",
    }
}

impl EnrichmentWorld {
    pub fn person(&self, email: &str) -> Option<&FakePerson> {
        let email = email.to_lowercase();
        self.people.iter().find(|p| p.email == email)
    }

    pub fn x_user(&self, username: &str) -> Option<&FakeXUser> {
        self.x_users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub fn x_user_by_id(&self, id: &str) -> Option<&FakeXUser> {
        self.x_users.iter().find(|u| u.id == id)
    }

    /// The demo world: most of the mailbox's people are known (by their primary
    /// address), with the title their signature shows except for one in eight whose
    /// data is out of date; people with an X handle post now and then.
    pub fn from_truth(truth: &GroundTruth, now: DateTime<Utc>) -> Self {
        let mut world = Self::default();
        for person in &truth.people {
            let Some(email) = person.emails.first() else {
                continue;
            };
            // One in ten is unknown to the data providers.
            if pick(email, "known", 10) == 0 {
                continue;
            }
            let stale = pick(email, "stale", 8) == 0;
            let title = match (&person.title, stale) {
                (Some(title), false) => Some(title.clone()),
                _ => Some(TITLES[pick(email, "title", TITLES.len())].to_owned()),
            };
            let slug = person.name.to_lowercase().replace(' ', "-");
            let twitter = person.twitter.clone().or_else(|| {
                (pick(email, "x", 4) == 0).then(|| person.name.to_lowercase().replace(' ', "_"))
            });
            let twitter = twitter.filter(|h| h.len() <= 15);
            let domain = person.company_domain.as_deref();
            world.people.push(FakePerson {
                email: email.clone(),
                full_name: person.name.clone(),
                title,
                company: person.company.clone(),
                company_domain: person.company_domain.clone(),
                location: Some(location_for(domain).to_owned()),
                linkedin: Some(
                    person
                        .linkedin
                        .clone()
                        .unwrap_or_else(|| format!("https://www.linkedin.com/in/{slug}")),
                ),
                twitter: twitter.clone(),
                bio: None,
                industry: domain
                    .map(|d| INDUSTRIES[pick(d, "industry", INDUSTRIES.len())].to_owned()),
                company_size: domain.map(|d| SIZES[pick(d, "size", SIZES.len())].to_owned()),
                likelihood: if stale {
                    5
                } else {
                    7 + pick(email, "likelihood", 4) as u8
                },
                in_clearbit: pick(email, "clearbit", 3) != 0,
            });
            if let Some(handle) = twitter {
                let id = format!("{}", 1_000_000 + person.id);
                let posts = (0..3)
                    .map(|i| FakePost {
                        id: format!("{id}{i:02}"),
                        text: TOPICS[pick(email, &format!("post{i}"), TOPICS.len())].to_owned(),
                        created_at: now - Duration::days(i64::from(i) * 3 + 1),
                    })
                    .collect();
                world.x_users.push(FakeXUser {
                    id,
                    username: handle,
                    name: person.name.clone(),
                    description: person
                        .title
                        .clone()
                        .map_or_else(String::new, |t| format!("{t}. Views my own.")),
                    location: Some(location_for(domain).to_owned()),
                    posts,
                });
            }
        }
        world
    }
}
