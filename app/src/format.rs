//! Numbers and durations as people read them.

/// `1234567` -> `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rough duration: "under a minute", "4 min", "2 h 5 min", "3 days".
pub fn duration_words(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round() as u64;
    match minutes {
        0 => "under a minute".to_owned(),
        1..=59 => format!("{minutes} min"),
        60..=2879 => match minutes % 60 {
            0 => format!("{} h", minutes / 60),
            rest => format!("{} h {rest} min", minutes / 60),
        },
        _ => format!("{} days", minutes / 1440),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn durations_round_to_what_matters() {
        assert_eq!(duration_words(20.0), "under a minute");
        assert_eq!(duration_words(240.0), "4 min");
        assert_eq!(duration_words(7_500.0), "2 h 5 min");
        assert_eq!(duration_words(7_200.0), "2 h");
        assert_eq!(duration_words(3.0 * 86_400.0), "3 days");
    }
}
