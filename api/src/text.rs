//! Small text helpers both sides use.

/// `message` with its first letter upper-cased: an error's text as a sentence.
pub fn capitalize(message: &str) -> String {
    let mut chars = message.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_letter_is_upper_cased() {
        assert_eq!(
            capitalize("invalid question: empty"),
            "Invalid question: empty"
        );
        assert_eq!(capitalize("éa"), "Éa");
        assert_eq!(capitalize(""), "");
    }
}
