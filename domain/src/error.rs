/// Errors of the domain layer. The web layer maps them to HTTP statuses in one place.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl DomainError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A name outside one of the closed sets in [`api`] (channel, direction, ...).
    pub fn not_one_of(field: &'static str, error: &api::UnknownValue) -> Self {
        Self::invalid(
            field,
            format!("must be one of {}", error.expected.join(", ")),
        )
    }
}
