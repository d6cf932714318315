//! Serving a fake's router on 127.0.0.1 in the background of the current Tokio runtime.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A fake being served. Dropping it stops the server without waiting;
/// [`RunningServer::stop`] also waits for in-flight requests.
pub struct RunningServer {
    addr: SocketAddr,
    base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Binds `127.0.0.1:{port}` (0 for any free port) and serves `app` built for the
    /// bound base URL (fakes put absolute URLs in their answers).
    pub async fn start(
        name: &'static str,
        port: u16,
        app: impl FnOnce(&str) -> Router,
    ) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let app = app(&base_url);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, fake = name, "fake server failed");
            }
        });
        tracing::info!(%base_url, fake = name, "fake listening");
        Ok(Self {
            addr,
            base_url,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:{port}`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Graceful shutdown; returns once the server task has finished.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
