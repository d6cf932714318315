//! Frequency and relationship strength: pure functions of a contact's stats, so the
//! formula is testable without a database. The formula is documented in the README
//! ("Relationship strength").

/// What the scores are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StrengthInputs {
    /// Emails the user sent to the contact in the last 90 days.
    pub sent_90d: u32,
    /// Emails the contact sent to the user in the last 90 days.
    pub received_90d: u32,
    pub sent_total: u32,
    pub received_total: u32,
    /// Days since the last email either way; `None` when there was none.
    pub days_since_last: Option<f64>,
    /// The user's median reply time to the contact, in seconds.
    pub my_reply_median_secs: Option<f64>,
    /// The contact's median reply time to the user, in seconds.
    pub their_reply_median_secs: Option<f64>,
}

/// Emails both ways in 90 days that earn the full frequency score (about five a week).
const FULL_FREQUENCY_90D: f64 = 60.0;
/// Recency halves every 30 days without contact.
const RECENCY_HALF_LIFE_DAYS: f64 = 30.0;
/// A reply within this many hours scores half of the reply-speed component.
const REPLY_HALF_SCORE_HOURS: f64 = 24.0;

const WEIGHT_RECENCY: f64 = 0.35;
const WEIGHT_FREQUENCY: f64 = 0.30;
const WEIGHT_RECIPROCITY: f64 = 0.20;
const WEIGHT_REPLY_SPEED: f64 = 0.15;

/// 0-100 on a log scale of emails both ways in the last 90 days: 1 email scores 17,
/// 10 score 58, 60 or more score 100.
pub fn frequency_score(messages_90d: u32) -> u8 {
    let score = 100.0 * (1.0 + f64::from(messages_90d)).ln() / (1.0 + FULL_FREQUENCY_90D).ln();
    clamp_score(score)
}

/// 100 for contact today, halving every 30 days.
pub fn recency_score(days_since_last: Option<f64>) -> f64 {
    days_since_last.map_or(0.0, |days| {
        100.0 * 0.5_f64.powf(days.max(0.0) / RECENCY_HALF_LIFE_DAYS)
    })
}

/// 100 when both sides write equally often (all time), 0 when only one side writes.
pub fn reciprocity_score(sent: u32, received: u32) -> f64 {
    let total = f64::from(sent) + f64::from(received);
    if total == 0.0 {
        return 0.0;
    }
    100.0 * 2.0 * f64::from(sent.min(received)) / total
}

/// 100 for an instant reply, 50 at 24 hours, 25 at 72 hours: the mean of both sides'
/// medians where known, 0 when nobody ever replied.
pub fn reply_speed_score(my_median_secs: Option<f64>, their_median_secs: Option<f64>) -> f64 {
    let scores: Vec<f64> = [my_median_secs, their_median_secs]
        .into_iter()
        .flatten()
        .map(|secs| 100.0 / (1.0 + secs.max(0.0) / 3600.0 / REPLY_HALF_SCORE_HOURS))
        .collect();
    if scores.is_empty() {
        0.0
    } else {
        scores.iter().sum::<f64>() / scores.len() as f64
    }
}

/// Weighted sum: recency 35 %, frequency 30 %, reciprocity 20 %, reply speed 15 %.
pub fn strength(inputs: &StrengthInputs) -> u8 {
    if inputs.sent_total + inputs.received_total == 0 {
        return 0;
    }
    let frequency = f64::from(frequency_score(inputs.sent_90d + inputs.received_90d));
    let score = WEIGHT_RECENCY * recency_score(inputs.days_since_last)
        + WEIGHT_FREQUENCY * frequency
        + WEIGHT_RECIPROCITY * reciprocity_score(inputs.sent_total, inputs.received_total)
        + WEIGHT_REPLY_SPEED
            * reply_speed_score(inputs.my_reply_median_secs, inputs.their_reply_median_secs);
    clamp_score(score)
}

/// The strength in plain words, e.g. "12 emails both ways in 90 days, you reply in 3 h,
/// last contact 4 days ago".
pub fn explain(inputs: &StrengthInputs) -> String {
    let Some(days) = inputs.days_since_last else {
        return "No emails yet".to_owned();
    };
    let recent = inputs.sent_90d + inputs.received_90d;
    let mut parts = vec![match (inputs.sent_90d, inputs.received_90d) {
        (0, 0) => "no emails in 90 days".to_owned(),
        (_, 0) => format!("{} from you in 90 days", emails(recent)),
        (0, _) => format!("{} from them in 90 days", emails(recent)),
        _ => format!("{} both ways in 90 days", emails(recent)),
    }];
    if let Some(secs) = inputs.my_reply_median_secs {
        parts.push(format!("you reply in {}", human_duration(secs)));
    }
    if let Some(secs) = inputs.their_reply_median_secs {
        parts.push(format!("they reply in {}", human_duration(secs)));
    }
    parts.push(format!("last contact {}", days_ago(days)));
    let mut sentence = parts.join(", ");
    if let Some(first) = sentence.get(0..1) {
        sentence.replace_range(0..1, &first.to_uppercase());
    }
    sentence
}

fn emails(count: u32) -> String {
    if count == 1 {
        "1 email".to_owned()
    } else {
        format!("{count} emails")
    }
}

fn days_ago(days: f64) -> String {
    match days.floor() as i64 {
        i64::MIN..=0 => "today".to_owned(),
        1 => "yesterday".to_owned(),
        n => format!("{n} days ago"),
    }
}

/// "45 min", "3 h", "2 days": rounded to the unit a person would say.
pub fn human_duration(secs: f64) -> String {
    let minutes = (secs / 60.0).round() as i64;
    if minutes < 1 {
        "under a minute".to_owned()
    } else if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 48 * 60 {
        format!("{} h", (secs / 3600.0).round() as i64)
    } else {
        format!("{} days", (secs / 86_400.0).round() as i64)
    }
}

fn clamp_score(score: f64) -> u8 {
    score.round().clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active() -> StrengthInputs {
        StrengthInputs {
            sent_90d: 6,
            received_90d: 6,
            sent_total: 20,
            received_total: 20,
            days_since_last: Some(4.0),
            my_reply_median_secs: Some(3.0 * 3600.0),
            their_reply_median_secs: None,
        }
    }

    #[test]
    fn frequency_is_logarithmic_and_capped() {
        assert_eq!(frequency_score(0), 0);
        assert_eq!(frequency_score(1), 17);
        assert_eq!(frequency_score(10), 58);
        assert_eq!(frequency_score(60), 100);
        assert_eq!(frequency_score(5000), 100);
    }

    #[test]
    fn recency_halves_every_thirty_days() {
        assert_eq!(recency_score(Some(0.0)), 100.0);
        assert!((recency_score(Some(30.0)) - 50.0).abs() < 1e-9);
        assert!((recency_score(Some(60.0)) - 25.0).abs() < 1e-9);
        assert_eq!(recency_score(None), 0.0);
    }

    #[test]
    fn reciprocity_rewards_balance() {
        assert_eq!(reciprocity_score(10, 10), 100.0);
        assert_eq!(reciprocity_score(10, 0), 0.0);
        assert_eq!(reciprocity_score(0, 0), 0.0);
        assert!((reciprocity_score(3, 1) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn reply_speed_averages_known_sides() {
        assert_eq!(reply_speed_score(None, None), 0.0);
        assert!((reply_speed_score(Some(24.0 * 3600.0), None) - 50.0).abs() < 1e-9);
        let both = reply_speed_score(Some(0.0), Some(72.0 * 3600.0));
        assert!((both - 62.5).abs() < 1e-9, "{both}");
    }

    #[test]
    fn strength_combines_the_components_by_weight() {
        // recency 0.5^(4/30) = 91.16, frequency(12) = 62, reciprocity 100,
        // speed 100/(1+3/24) = 88.89: 0.35*91.16 + 0.3*62 + 0.2*100 + 0.15*88.89 = 83.8
        assert_eq!(strength(&active()), 84);
        assert_eq!(strength(&StrengthInputs::default()), 0);
    }

    #[test]
    fn strength_falls_with_silence_and_one_sidedness() {
        let quiet = StrengthInputs {
            sent_90d: 0,
            received_90d: 0,
            days_since_last: Some(200.0),
            ..active()
        };
        assert!(strength(&quiet) < strength(&active()));
        let one_sided = StrengthInputs {
            sent_total: 40,
            received_total: 0,
            received_90d: 0,
            sent_90d: 12,
            their_reply_median_secs: None,
            my_reply_median_secs: None,
            ..active()
        };
        assert!(strength(&one_sided) < strength(&active()));
    }

    #[test]
    fn explanation_reads_like_a_sentence() {
        assert_eq!(
            explain(&active()),
            "12 emails both ways in 90 days, you reply in 3 h, last contact 4 days ago"
        );
        let inbound_only = StrengthInputs {
            sent_90d: 0,
            received_90d: 1,
            days_since_last: Some(0.2),
            my_reply_median_secs: None,
            their_reply_median_secs: Some(50.0 * 3600.0),
            ..active()
        };
        assert_eq!(
            explain(&inbound_only),
            "1 email from them in 90 days, they reply in 2 days, last contact today"
        );
        assert_eq!(explain(&StrengthInputs::default()), "No emails yet");
    }

    #[test]
    fn durations_use_the_natural_unit() {
        assert_eq!(human_duration(20.0), "under a minute");
        assert_eq!(human_duration(45.0 * 60.0), "45 min");
        assert_eq!(human_duration(3.2 * 3600.0), "3 h");
        assert_eq!(human_duration(5.0 * 86_400.0), "5 days");
    }
}
