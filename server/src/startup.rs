use std::future::Future;
use std::net::SocketAddr;

use app::ssr::AppContext;
use app::{App, shell};
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use domain::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use domain::{Db, UserId};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::config::Config;
use crate::{health, middleware};

const DATABASE_NAME: &str = "rapport";

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub owner: UserId,
}

impl AppState {
    fn context(&self) -> AppContext {
        AppContext {
            db: self.db.clone(),
            user: self.owner,
        }
    }
}

/// A built server: database up and migrated, listener bound, ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    db: Db,
    embedded: Option<EmbeddedPostgres>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let (db, embedded) = match &config.database_url {
            Some(url) => (Db::connect(url).await?, None),
            None => {
                let pg = EmbeddedPostgres::start(EmbeddedOptions {
                    data_dir: config.data_dir.join("postgres"),
                    ephemeral: false,
                })
                .await?;
                pg.ensure_database(DATABASE_NAME).await?;
                (Db::connect(&pg.url(DATABASE_NAME)).await?, Some(pg))
            }
        };
        db.migrate().await?;
        let owner = db
            .ensure_local_owner(&config.owner_email, &config.owner_name)
            .await?;

        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let leptos_options = LeptosOptions::builder()
            .output_name("rapport")
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .build();
        let state = AppState {
            leptos_options,
            db: db.clone(),
            owner: owner.id,
        };
        Ok(Self {
            listener,
            router: router(state),
            db,
            embedded,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` resolves, then drains requests, closes the pool and stops
    /// the embedded database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), "Rapport is serving");
        axum::serve(self.listener, self.router.into_make_service())
            .with_graceful_shutdown(shutdown)
            .await?;
        self.db.pool().close().await;
        if let Some(pg) = self.embedded {
            pg.stop().await?;
        }
        Ok(())
    }
}

fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    // Also registers every server function under /api with the same context.
    let render_context = {
        let state = state.clone();
        move || provide_context(state.context())
    };
    let leptos_options = state.leptos_options.clone();

    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/contacts") }),
        )
        .leptos_routes_with_context(&state, routes, render_context, move || {
            shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    middleware::apply(router)
}
