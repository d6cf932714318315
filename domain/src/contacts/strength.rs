//! Frequency and relationship strength: pure functions of a contact's stats, so the
//! formula is testable without a database. The formula is documented in the README
//! ("Relationship strength").

/// What the scores are computed from.
///
/// The weights are sums over the contact's emails of `0.5^(age in days / 180)`
/// ([`message_weight`]): an email today weighs 1, one six months old 0.5, one two years
/// old 0.06. All are taken at the same moment (when the stats were computed).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StrengthInputs {
    /// Emails the user sent to the contact in the last 90 days.
    pub sent_90d: u32,
    /// Emails the contact sent to the user in the last 90 days.
    pub received_90d: u32,
    pub sent_total: u32,
    pub received_total: u32,
    /// The weight of every email the user sent to the contact.
    pub sent_weight: f64,
    /// The weight of every email the contact sent to the user.
    pub received_weight: f64,
    /// The weight of the emails of the last 90 days, both ways.
    pub recent_weight: f64,
    /// Days since the last email either way; `None` when there was none.
    pub days_since_last: Option<f64>,
    /// The user's median reply time to the contact, in seconds.
    pub my_reply_median_secs: Option<f64>,
    /// The contact's median reply time to the user, in seconds.
    pub their_reply_median_secs: Option<f64>,
}

/// Emails both ways in 90 days that earn the full frequency score (about five a week).
const FULL_FREQUENCY_90D: f64 = 60.0;
/// An email's weight halves every 180 days: last month's mail counts most, and two years
/// of steady mail still count for a quiet relationship.
pub const HALF_LIFE_DAYS: f64 = 180.0;
/// What one email of a one-way surplus (newsletters, unanswered pitches, mail nobody
/// answers) is worth next to an email of a two-way exchange.
const ONE_WAY_WORTH: f64 = 0.01;
/// The two-way volume that scores 100: about four emails a week each way, kept up.
const FULL_VOLUME: f64 = 150.0;
/// Mail of the last 90 days: the window of the frequency score and the explanation.
const RECENT_DAYS: f64 = 90.0;

/// The weight of one email `age_days` old (a future date counts as today).
pub fn message_weight(age_days: f64) -> f64 {
    0.5_f64.powf(age_days.max(0.0) / HALF_LIFE_DAYS)
}

/// 0-100 on a log scale of emails both ways in the last 90 days: 1 email scores 17,
/// 10 score 58, 60 or more score 100.
pub fn frequency_score(messages_90d: u32) -> u8 {
    let score = 100.0 * (1.0 + f64::from(messages_90d)).ln() / (1.0 + FULL_FREQUENCY_90D).ln();
    clamp_score(score)
}

/// The volume a relationship is scored on: the weight matched by the other side counts
/// fully (`2 × min(sent, received)`, i.e. reciprocity times volume) and the one-way
/// surplus a hundredth. Both parts scale by the same factor when every date moves by
/// the same amount, so such a move never reorders contacts.
pub fn volume(inputs: &StrengthInputs) -> f64 {
    two_way(inputs) + one_way(inputs)
}

fn two_way(inputs: &StrengthInputs) -> f64 {
    2.0 * inputs.sent_weight.min(inputs.received_weight).max(0.0)
}

fn one_way(inputs: &StrengthInputs) -> f64 {
    ONE_WAY_WORTH * (inputs.sent_weight - inputs.received_weight).abs()
}

/// 100 × ln(1 + volume) / ln(1 + 150), capped at 100: one exchange today scores 22, one
/// six months ago 14, an exchange a week for 18 months that went quiet six months ago 70.
pub fn strength(inputs: &StrengthInputs) -> u8 {
    clamp_score(100.0 * (1.0 + volume(inputs)).ln() / (1.0 + FULL_VOLUME).ln())
}

/// What weighs most in [`volume`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mainly {
    /// The one-way surplus outweighs the mail the contact and the user exchanged.
    OneWay,
    /// The share (0-1) of the weight that is mail of the last 90 days, at least half.
    Recent(f64),
    /// The share (0-1) of the weight that is older mail, more than half.
    History(f64),
}

/// Which part of the score weighs most; `None` without email.
pub fn mainly(inputs: &StrengthInputs) -> Option<Mainly> {
    let total = inputs.sent_weight + inputs.received_weight;
    if total <= 0.0 {
        return None;
    }
    if one_way(inputs) > two_way(inputs) {
        return Some(Mainly::OneWay);
    }
    let recent = (inputs.recent_weight / total).clamp(0.0, 1.0);
    Some(if recent >= 0.5 {
        Mainly::Recent(recent)
    } else {
        Mainly::History(1.0 - recent)
    })
}

/// The strength in plain words, starting with what weighs most, e.g. "Mostly older mail
/// (80 % of the weight): 2 emails both ways in 90 days, 180 in all, you reply in 3 h,
/// last contact 40 days ago".
pub fn explain(inputs: &StrengthInputs) -> String {
    let Some(days) = inputs.days_since_last else {
        return "No emails yet".to_owned();
    };
    // Stats stored before the weights existed have none until their next refresh.
    let lead = mainly(inputs).map(|mainly| match mainly {
        Mainly::OneWay => "Mostly one-way mail".to_owned(),
        Mainly::Recent(share) => format!(
            "Mostly the last {RECENT_DAYS} days ({} of the weight)",
            percent(share)
        ),
        Mainly::History(share) => format!("Mostly older mail ({} of the weight)", percent(share)),
    });
    let recent = inputs.sent_90d + inputs.received_90d;
    let mut parts = vec![match (inputs.sent_90d, inputs.received_90d) {
        (0, 0) => "no emails in 90 days".to_owned(),
        (_, 0) => format!("{} from you in 90 days", emails(recent)),
        (0, _) => format!("{} from them in 90 days", emails(recent)),
        _ => format!("{} both ways in 90 days", emails(recent)),
    }];
    parts.push(format!(
        "{} in all",
        inputs.sent_total + inputs.received_total
    ));
    if let Some(secs) = inputs.my_reply_median_secs {
        parts.push(format!("you reply in {}", human_duration(secs)));
    }
    if let Some(secs) = inputs.their_reply_median_secs {
        parts.push(format!("they reply in {}", human_duration(secs)));
    }
    parts.push(format!("last contact {}", days_ago(days)));
    match lead {
        Some(lead) => format!("{lead}: {}", parts.join(", ")),
        None => {
            let mut sentence = parts.join(", ");
            if let Some(first) = sentence.get(0..1) {
                sentence.replace_range(0..1, &first.to_uppercase());
            }
            sentence
        }
    }
}

fn percent(share: f64) -> String {
    format!("{} %", (share * 100.0).round() as i64)
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
    use proptest::prelude::*;

    use super::*;

    /// One email: days before the moment of scoring, and whether the user sent it.
    type Email = (f64, bool);

    /// What the stats query computes, from a list of emails.
    fn inputs(emails: &[Email]) -> StrengthInputs {
        let mut inputs = StrengthInputs::default();
        for &(age, sent) in emails {
            let weight = message_weight(age);
            let recent = age < RECENT_DAYS;
            if sent {
                inputs.sent_total += 1;
                inputs.sent_weight += weight;
                inputs.sent_90d += u32::from(recent);
            } else {
                inputs.received_total += 1;
                inputs.received_weight += weight;
                inputs.received_90d += u32::from(recent);
            }
            if recent {
                inputs.recent_weight += weight;
            }
            let since = inputs.days_since_last.unwrap_or(f64::MAX);
            inputs.days_since_last = Some(since.min(age));
        }
        inputs
    }

    fn strength_of(emails: &[Email]) -> u8 {
        strength(&inputs(emails))
    }

    fn shifted(emails: &[Email], days: f64) -> Vec<Email> {
        emails
            .iter()
            .map(|&(age, sent)| (age + days, sent))
            .collect()
    }

    /// `pairs` exchanges (one email each way), the newest `quiet_days` ago, one every
    /// `every` days before that.
    fn exchanges(pairs: usize, quiet_days: f64, every: f64) -> Vec<Email> {
        (0..pairs)
            .flat_map(|i| {
                let age = quiet_days + i as f64 * every;
                [(age + 0.1, true), (age, false)]
            })
            .collect()
    }

    fn email() -> impl Strategy<Value = Email> {
        (0.0..1000.0_f64, any::<bool>())
    }

    fn history() -> impl Strategy<Value = Vec<Email>> {
        prop::collection::vec(email(), 0..80)
    }

    proptest! {
        #[test]
        fn more_mail_never_lowers_strength(history in history(), extra in prop::collection::vec(email(), 1..20)) {
            let mut more = history.clone();
            more.extend(extra);
            prop_assert!(strength_of(&more) >= strength_of(&history));
            prop_assert!(volume(&inputs(&more)) >= volume(&inputs(&history)));
        }

        #[test]
        fn a_long_quiet_relationship_outranks_one_exchange_of_the_same_age(
            quiet_days in 0.0..730.0_f64,
            pairs in 10..150_usize,
            every in 1.0..14.0_f64,
        ) {
            let long = exchanges(pairs, quiet_days, every);
            let single = exchanges(1, quiet_days, every);
            prop_assert!(strength_of(&long) > strength_of(&single));
        }

        #[test]
        fn moving_every_date_keeps_the_order(
            contacts in prop::collection::vec(history(), 2..12),
            days in 0.0..600.0_f64,
        ) {
            // Older by `days`: every contact's score falls, none overtakes another.
            for a in &contacts {
                for b in &contacts {
                    if volume(&inputs(a)) > volume(&inputs(b)) {
                        prop_assert!(volume(&inputs(&shifted(a, days))) >= volume(&inputs(&shifted(b, days))));
                    }
                    if strength_of(a) > strength_of(b) {
                        prop_assert!(strength_of(&shifted(a, days)) >= strength_of(&shifted(b, days)));
                    }
                }
            }
        }

        #[test]
        fn one_way_mail_ranks_low(ages in prop::collection::vec(0.0..730.0_f64, 2..150)) {
            // A person who wrote back to every email, and a newsletter as busy that the
            // user answered once.
            let person: Vec<Email> = ages.iter().flat_map(|&age| [(age, true), (age, false)]).collect();
            let mut newsletter: Vec<Email> = ages.iter().flat_map(|&age| [(age, false), (age, false)]).collect();
            newsletter[0].1 = true;
            prop_assert!(volume(&inputs(&newsletter)) < volume(&inputs(&person)));
            prop_assert!(strength_of(&newsletter) <= strength_of(&person));
            // However busy, it stays below three exchanges as recent as its newest issue.
            let newest = ages.iter().copied().fold(f64::MAX, f64::min);
            prop_assert!(strength_of(&newsletter) <= strength_of(&exchanges(3, newest, 0.0)));
        }
    }

    #[test]
    fn the_readme_example() {
        // An exchange a week for 18 months (78 emails each way), quiet for six months:
        // weights 0.5 down to 0.08, 16.5 each way, volume 33.0, strength 70.
        let long = inputs(&exchanges(78, 180.0, 7.0));
        assert!((long.sent_weight - 16.5).abs() < 0.05, "{long:?}");
        assert!((volume(&long) - 33.0).abs() < 0.05, "{long:?}");
        assert_eq!(strength(&long), 70);
        // One exchange six months ago: volume 2 × 0.5 = 1, strength 14.
        let once = inputs(&exchanges(1, 180.0, 0.0));
        assert!((volume(&once) - 1.0).abs() < 1e-3);
        assert_eq!(strength(&once), 14);
        // 200 newsletters over the last year (107.8), answered once a week ago (0.97):
        // 2 × 0.97 + 0.01 × 106.8 = 3.0, strength 28.
        let newsletter: Vec<Email> = (0..200)
            .map(|i| (f64::from(i) * 365.0 / 200.0, false))
            .chain([(7.0, true)])
            .collect();
        assert!((volume(&inputs(&newsletter)) - 3.01).abs() < 0.01);
        assert_eq!(strength_of(&newsletter), 28);
        // An exchange a day for the last five days: volume 9.9, strength 48.
        assert_eq!(strength_of(&exchanges(5, 0.0, 1.0)), 48);
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
    fn weights_halve_every_half_life() {
        assert_eq!(message_weight(0.0), 1.0);
        assert_eq!(message_weight(-3.0), 1.0);
        assert!((message_weight(180.0) - 0.5).abs() < 1e-12);
        assert!((message_weight(360.0) - 0.25).abs() < 1e-12);
        assert_eq!(strength(&StrengthInputs::default()), 0);
    }

    #[test]
    fn the_explanation_leads_with_what_weighs_most() {
        let mut recent = exchanges(6, 4.0, 3.0);
        recent.extend(exchanges(14, 200.0, 20.0));
        let mut recent = inputs(&recent);
        recent.my_reply_median_secs = Some(3.0 * 3600.0);
        assert_eq!(
            explain(&recent),
            "Mostly the last 90 days (58 % of the weight): 12 emails both ways in 90 days, \
             40 in all, you reply in 3 h, last contact 4 days ago"
        );
        let quiet = inputs(&exchanges(90, 180.0, 7.0));
        assert_eq!(
            explain(&quiet),
            "Mostly older mail (100 % of the weight): no emails in 90 days, 180 in all, \
             last contact 180 days ago"
        );
        let mut pitched: Vec<Email> = (0..600).map(|i| (f64::from(i), false)).collect();
        pitched.push((0.2, true));
        let mut pitched = inputs(&pitched);
        pitched.their_reply_median_secs = Some(50.0 * 3600.0);
        assert_eq!(
            explain(&pitched),
            "Mostly one-way mail: 91 emails both ways in 90 days, 601 in all, \
             they reply in 2 days, last contact today"
        );
        assert_eq!(explain(&StrengthInputs::default()), "No emails yet");
        let unweighed = StrengthInputs {
            sent_weight: 0.0,
            received_weight: 0.0,
            recent_weight: 0.0,
            ..quiet
        };
        assert_eq!(
            explain(&unweighed),
            "No emails in 90 days, 180 in all, last contact 180 days ago"
        );
    }

    #[test]
    fn durations_use_the_natural_unit() {
        assert_eq!(human_duration(20.0), "under a minute");
        assert_eq!(human_duration(45.0 * 60.0), "45 min");
        assert_eq!(human_duration(3.2 * 3600.0), "3 h");
        assert_eq!(human_duration(5.0 * 86_400.0), "5 days");
    }
}
