//! Which providers run and how (`RAPPORT_ENRICH_*`, `PDL_*`, `CLEARBIT_*`, `X_*`): the
//! user's own data always, each paid API when its key is set.

use std::sync::Arc;
use std::time::Duration;

use super::own_data::{CalendarNames, Colleagues, MessengerNames};
use super::{Enricher, EnrichmentSettings, Source, clearbit, pdl, x};
use crate::Db;

/// A paid API's address and key (never logged).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiAccess {
    pub base_url: String,
    pub key: String,
}

impl std::fmt::Debug for ApiAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiAccess")
            .field("base_url", &self.base_url)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// A setting with a bad value: its name, the value and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {name}={value:?}: {expected}")]
pub struct BadSetting {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrichmentConfig {
    pub settings: EnrichmentSettings,
    pub people_data_labs: Option<ApiAccess>,
    /// People Data Labs' `min_likelihood` (1..10).
    pub min_likelihood: u8,
    pub clearbit: Option<ApiAccess>,
    pub x: Option<ApiAccess>,
    /// How often due contacts are queued.
    pub sweep_every: Duration,
}

impl Default for EnrichmentConfig {
    fn default() -> Self {
        Self {
            settings: EnrichmentSettings::default(),
            people_data_labs: None,
            min_likelihood: 6,
            clearbit: None,
            x: None,
            sweep_every: Duration::from_secs(30),
        }
    }
}

fn number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, BadSetting> {
    match get(name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|_| BadSetting {
            name,
            value,
            expected: "a whole number",
        }),
    }
}

fn access(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    base: &str,
    default_base: &str,
) -> Option<ApiAccess> {
    let key = get(key).filter(|k| !k.trim().is_empty())?;
    Some(ApiAccess {
        base_url: get(base)
            .filter(|b| !b.trim().is_empty())
            .unwrap_or_else(|| default_base.to_owned()),
        key,
    })
}

impl EnrichmentConfig {
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, BadSetting> {
        let defaults = Self::default();
        let s = &defaults.settings;
        let days: u64 = number(&get, "RAPPORT_ENRICH_EXPIRE_DAYS", 90)?;
        let likelihood: u8 = number(&get, "PDL_MIN_LIKELIHOOD", defaults.min_likelihood)?;
        if !(1..=10).contains(&likelihood) {
            return Err(BadSetting {
                name: "PDL_MIN_LIKELIHOOD",
                value: likelihood.to_string(),
                expected: "1 to 10",
            });
        }
        Ok(Self {
            settings: EnrichmentSettings {
                expire_after: Duration::from_secs(days.max(1) * 24 * 3600),
                timeout: Duration::from_secs(number(
                    &get,
                    "RAPPORT_ENRICH_TIMEOUT_SECS",
                    s.timeout.as_secs(),
                )?),
                per_minute: number(&get, "RAPPORT_ENRICH_PER_MINUTE", s.per_minute)?,
                daily_budget: number(&get, "RAPPORT_ENRICH_DAILY_BUDGET", s.daily_budget)?,
                paid_min_strength: number(
                    &get,
                    "RAPPORT_ENRICH_MIN_STRENGTH",
                    s.paid_min_strength,
                )?,
                ..s.clone()
            },
            people_data_labs: access(&get, "PDL_API_KEY", "PDL_BASE_URL", pdl::DEFAULT_BASE_URL),
            min_likelihood: likelihood,
            clearbit: access(
                &get,
                "CLEARBIT_API_KEY",
                "CLEARBIT_BASE_URL",
                clearbit::DEFAULT_BASE_URL,
            ),
            x: access(&get, "X_BEARER_TOKEN", "X_BASE_URL", x::DEFAULT_BASE_URL),
            sweep_every: Duration::from_secs(number(&get, "RAPPORT_ENRICH_SWEEP_SECS", 30)?.max(1)),
        })
    }

    /// Demo mode: each paid API that has no key of its own is the fake at `base_url`
    /// with the given keys.
    pub fn or_demo(
        mut self,
        base_url: &str,
        pdl_key: &str,
        clearbit_key: &str,
        x_token: &str,
    ) -> Self {
        let fake = |key: &str| ApiAccess {
            base_url: base_url.to_owned(),
            key: key.to_owned(),
        };
        self.people_data_labs.get_or_insert_with(|| fake(pdl_key));
        self.clearbit.get_or_insert_with(|| fake(clearbit_key));
        self.x.get_or_insert_with(|| fake(x_token));
        self
    }

    /// The enricher with the user's own data and every configured API.
    pub fn enricher(&self, db: &Db) -> Enricher {
        let mut sources: Vec<Arc<dyn Source>> = vec![
            Arc::new(CalendarNames::new(db)),
            Arc::new(MessengerNames::new(db)),
            Arc::new(Colleagues::new(db)),
        ];
        if let Some(a) = &self.people_data_labs {
            sources.push(Arc::new(pdl::PeopleDataLabs::new(
                &a.base_url,
                &a.key,
                self.min_likelihood,
            )));
        }
        if let Some(a) = &self.clearbit {
            sources.push(Arc::new(clearbit::Clearbit::new(&a.base_url, &a.key)));
        }
        if let Some(a) = &self.x {
            sources.push(Arc::new(x::XApi::new(&a.base_url, &a.key)));
        }
        Enricher::new(db, sources, self.settings.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_turn_providers_on_and_bad_numbers_name_their_setting() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let none = EnrichmentConfig::from_env(env(&[])).unwrap();
        assert!(none.people_data_labs.is_none() && none.x.is_none());
        assert_eq!(none.settings.expire_after, Duration::from_secs(90 * 86400));
        let pdl = EnrichmentConfig::from_env(env(&[
            ("PDL_API_KEY", "k"),
            ("RAPPORT_ENRICH_DAILY_BUDGET", "5"),
        ]))
        .unwrap();
        assert_eq!(
            pdl.people_data_labs.as_ref().unwrap().base_url,
            pdl::DEFAULT_BASE_URL
        );
        assert_eq!(pdl.settings.daily_budget, 5);
        assert!(!format!("{pdl:?}").contains("\"k\""));
        let bad = EnrichmentConfig::from_env(env(&[("RAPPORT_ENRICH_DAILY_BUDGET", "lots")]))
            .unwrap_err();
        assert_eq!(bad.name, "RAPPORT_ENRICH_DAILY_BUDGET");
    }
}
