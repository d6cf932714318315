//! Error banners named by code. Pages that report an outcome through the URL
//! (`/ask?error=…`, `/settings?import_error=…`) carry a code from a closed set, never a
//! message: anyone can send a user such a link, so the page shows the fixed message of a
//! known code and a generic one for anything else. Attacker-provided text is never shown.

/// Why the question form (without JavaScript) sent the user back: `/ask?error=<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskFormError {
    Empty,
    TooLong,
    /// Any code this version does not know.
    Unknown,
}

impl AskFormError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong => "too_long",
            Self::Unknown => "unknown",
        }
    }

    pub fn from_code(code: &str) -> Self {
        match code {
            "empty" => Self::Empty,
            "too_long" => Self::TooLong,
            _ => Self::Unknown,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Empty => "Invalid question: is empty",
            Self::TooLong => "Invalid question: is longer than 1000 characters",
            Self::Unknown => "The question could not be asked. Please try again.",
        }
    }
}

/// Why an mbox upload was refused: `/settings?import_error=<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportError {
    NoFile,
    TooLarge,
    NotMbox,
    /// A failure on our side, or any code this version does not know.
    Unknown,
}

impl ImportError {
    pub fn code(self) -> &'static str {
        match self {
            Self::NoFile => "no_file",
            Self::TooLarge => "too_large",
            Self::NotMbox => "not_mbox",
            Self::Unknown => "unknown",
        }
    }

    pub fn from_code(code: &str) -> Self {
        match code {
            "no_file" => Self::NoFile,
            "too_large" => Self::TooLarge,
            "not_mbox" => Self::NotMbox,
            _ => Self::Unknown,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::NoFile => "choose an .mbox file to upload",
            Self::TooLarge => "the file is larger than the size allowed",
            Self::NotMbox => "this is not an mbox file: it should begin with a \"From \" line",
            Self::Unknown => "the upload could not be stored. Please try again.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_anything_else_is_generic() {
        for e in [AskFormError::Empty, AskFormError::TooLong] {
            assert_eq!(AskFormError::from_code(e.code()), e);
        }
        for e in [
            ImportError::NoFile,
            ImportError::TooLarge,
            ImportError::NotMbox,
        ] {
            assert_eq!(ImportError::from_code(e.code()), e);
        }
        for attack in ["<script>evil</script>PWNED", "", "Empty", "empty "] {
            assert_eq!(AskFormError::from_code(attack), AskFormError::Unknown);
            assert_eq!(ImportError::from_code(attack), ImportError::Unknown);
            assert!(!AskFormError::from_code(attack).message().contains("PWNED"));
            assert!(!ImportError::from_code(attack).message().contains("PWNED"));
        }
    }
}
