//! Page renders admitted a few at a time, in the order they arrive.
//!
//! A page is rendered on the server (the app's SSR) around a handful of short queries:
//! CPU work, here and in Postgres. When more pages arrive than there are cores, running
//! them all at once only shares the cores out: every page is slowed by all the others,
//! the costly ones (a search, a date range) most, and Postgres switches between a backend
//! per page. With 16 clients on the contacts list at 100,000 contacts that put the p99 at
//! 2.0-2.3 times the median. Admitting two pages per core, first come first served
//! (tokio's semaphore is fair), still keeps both kinds of work busy (one page's queries
//! overlap another's rendering) and puts each page's wait in the queue close to the
//! median: p99 1.5-1.6 times it, at the same throughput.
//!
//! Server functions are not page renders (they may wait on outside services for seconds)
//! and pass straight through.

use std::num::NonZeroUsize;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use tokio::sync::Semaphore;

/// Where the app's server functions are served (Leptos' default prefix).
const SERVER_FUNCTIONS: &str = "/api/";

/// The page renders under way, at most a fixed number.
#[derive(Debug, Clone)]
pub struct PageRenders(Arc<Semaphore>);

impl PageRenders {
    /// Two renders per core this process may use.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self::at_once(2 * cores)
    }

    pub fn at_once(renders: usize) -> Self {
        Self(Arc::new(Semaphore::new(renders.max(1))))
    }
}

/// Middleware: a page request waits for its turn and holds it until its body is sent
/// (or the client leaves). The HTML is rendered before the first byte
/// (`SsrMode::Async`), but the hydration data after it is serialized as the body is read.
pub async fn admit(State(renders): State<PageRenders>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with(SERVER_FUNCTIONS) {
        return next.run(request).await;
    }
    // The semaphore is never closed: the error arm cannot happen, and a page is still
    // served if it did.
    let turn = renders.0.clone().acquire_owned().await.ok();
    next.run(request).await.map(|body| {
        Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _held = &turn;
            chunk
        }))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::get;
    use tokio::task::JoinHandle;
    use tower::ServiceExt;

    use super::*;

    /// What the handlers saw: who entered, in order, and a gate each waits on.
    #[derive(Clone)]
    struct Stage {
        entered: Arc<Mutex<Vec<String>>>,
        gate: Arc<Semaphore>,
    }

    impl Stage {
        fn closed() -> Self {
            Self {
                entered: Arc::default(),
                gate: Arc::new(Semaphore::new(0)),
            }
        }

        fn entered(&self) -> Vec<String> {
            self.entered.lock().unwrap().clone()
        }
    }

    fn app(renders: PageRenders, stage: Stage) -> Router {
        let handler = move |request: Request| {
            let stage = stage.clone();
            async move {
                stage
                    .entered
                    .lock()
                    .unwrap()
                    .push(request.uri().to_string());
                stage.gate.acquire().await.unwrap().forget();
                "done"
            }
        };
        Router::new()
            .route("/page/{n}", get(handler.clone()))
            .route("/api/{n}", get(handler))
            .route_layer(axum::middleware::from_fn_with_state(renders, admit))
    }

    /// A GET whose body is read to the end, as a browser does.
    fn send(router: &Router, path: &str) -> JoinHandle<StatusCode> {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = router.clone().oneshot(request);
        tokio::spawn(async move {
            let response = response.await.unwrap();
            let status = response.status();
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            status
        })
    }

    async fn settle() {
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn pages_render_a_few_at_a_time_in_arrival_order_and_server_functions_pass() {
        let stage = Stage::closed();
        let router = app(PageRenders::at_once(2), stage.clone());
        let mut requests = Vec::new();
        for n in 0..5 {
            requests.push(send(&router, &format!("/page/{n}")));
            // Each request reaches the queue before the next is sent.
            settle().await;
        }
        assert_eq!(stage.entered(), ["/page/0", "/page/1"], "two at once");

        // A server function is not queued behind the pages.
        let call = send(&router, "/api/call");
        settle().await;
        assert_eq!(stage.entered().last().unwrap(), "/api/call");

        // Each page that finishes lets the longest-waiting one in.
        stage.gate.add_permits(2);
        settle().await;
        assert_eq!(
            stage.entered(),
            ["/page/0", "/page/1", "/api/call", "/page/2", "/page/3"]
        );
        stage.gate.add_permits(10);
        for request in requests.into_iter().chain([call]) {
            assert_eq!(request.await.unwrap(), StatusCode::OK);
        }
        assert_eq!(stage.entered().len(), 6);
        assert_eq!(stage.entered()[5], "/page/4");
    }

    #[tokio::test]
    async fn a_page_keeps_its_turn_until_its_body_is_sent() {
        let stage = Stage::closed();
        stage.gate.add_permits(10);
        let router = app(PageRenders::at_once(1), stage.clone());
        let request = Request::get("/page/0").body(Body::empty()).unwrap();
        let unread = router.clone().oneshot(request).await.unwrap();
        let next = send(&router, "/page/1");
        settle().await;
        assert_eq!(
            stage.entered(),
            ["/page/0"],
            "the first page's body is not sent"
        );
        drop(unread);
        assert_eq!(next.await.unwrap(), StatusCode::OK);
        assert_eq!(stage.entered(), ["/page/0", "/page/1"]);
    }
}
