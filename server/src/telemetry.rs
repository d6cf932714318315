use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Default levels when `RUST_LOG` is not set. html5ever (under the HTML-to-text step)
/// warns "foster parenting not implemented" for most real HTML mail with tables, once
/// per message: nothing an operator can act on, so only its errors are shown.
const DEFAULT_FILTER: &str = "info,tower_http=info,sqlx=warn,leptos=warn,html5ever=error";

/// Structured logs to stdout; `RUST_LOG` overrides the default levels.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn library_noise_is_quiet_and_our_warnings_are_kept() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(DEFAULT_FILTER))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            // What the `log` bridge makes of html5ever's `warn!` in its tree builder.
            tracing::warn!(target: "html5ever::tree_builder", "foster parenting not implemented");
            tracing::warn!(target: "server::import", "an import failed");
            tracing::error!(target: "html5ever::tree_builder", "a real parser error");
        });
        let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(!logged.contains("foster parenting"), "{logged}");
        assert!(logged.contains("an import failed"), "{logged}");
        assert!(logged.contains("a real parser error"), "{logged}");
    }
}
