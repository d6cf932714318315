use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use app::ssr::{AppContext, AppServices};
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{get, post};
use chrono::Utc;
use domain::Db;
use domain::ask::model::ModelConfig;
use domain::crypto::SecretBox;
use domain::events::EventHub;
use domain::google::{GoogleEndpoints, GoogleOAuth};
use domain::limits::Limits;
use embedded_pg::{EmbeddedOptions, EmbeddedPostgres};
use fakes::google::{DemoAccount, FakeGoogle, FakeGoogleConfig, MailboxSource, RunningFakeGoogle};
use fakes::mailbox::MailboxSpec;
use fakes::serve::RunningServer;
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tokio_util::sync::CancellationToken;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::admission::{self, PageRenders};
use crate::config::{Config, GoogleSettings};
use crate::session_store::PgSessionStore;
use crate::workers::{BackgroundWork, Models, WorkerSettings};
use crate::{api_v1, ask, auth, files, health, import, ingest, live, middleware};

pub(crate) const DATABASE_NAME: &str = "rapport";
/// The demo Google's client credentials (they only open the in-process fake).
const DEMO_CLIENT_ID: &str = "rapport-demo-client";
const DEMO_CLIENT_SECRET: &str = "rapport-demo-secret";

/// What every handler shares, behind one `Arc`: axum clones the state for each request
/// and each extractor, and cloned field by field its strings were 7% of the server's CPU
/// on the contacts list.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

/// The clients, limits and settings behind [`AppState`].
pub struct SharedState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub google: GoogleOAuth,
    pub secrets: SecretBox,
    pub demo: bool,
    /// Demo mode's simulated Fastmail and calendar, offered in Settings.
    pub demo_logins: Option<api::settings::DemoLogins>,
    /// Demo mode's WhatsApp and SMS chats, given to each demo user at sign-in.
    pub demo_chats: Option<Arc<crate::demo::DemoWebhooks>>,
    /// Demo mode's Messenger / Instagram Page, customers and simulated sales model.
    pub demo_meta: Option<Arc<crate::demo_meta::DemoMeta>>,
    pub events: EventHub,
    /// Where uploaded mbox files wait for their import job.
    pub imports_dir: std::path::PathBuf,
    pub max_mbox_bytes: u64,
    pub max_webhook_bytes: usize,
    /// Uploaded files, content-addressed.
    pub files: domain::files::FileStore,
    pub max_file_bytes: u64,
    /// Files per request, storage quota, uploads in flight per user.
    pub uploads: crate::streaming::UploadLimits,
    /// The mbox reader's limits, given to each import job.
    pub mbox_limits: domain::mail::mbox::MboxLimits,
    /// Ask Rapport's language model; `None` answers with the offline engine.
    pub model: Option<ModelConfig>,
    /// The Messenger / Instagram sales agent's model: Ask's, or demo mode's simulated
    /// one when none is configured.
    pub sales_agent: Option<ModelConfig>,
    /// Model calls per user, webhooks per channel, open streams.
    pub limits: Limits,
    /// Stores webhooks in groups (one transaction for those that arrive together).
    pub webhooks: domain::channels::WebhookWriter,
}

impl SharedState {
    fn context(&self) -> AppContext {
        AppContext::new(AppServices {
            db: self.db.clone(),
            google: self.google.clone(),
            secrets: self.secrets.clone(),
            demo: self.demo,
            demo_logins: self.demo_logins.clone(),
            model: self.model.clone(),
            sales_agent: self.sales_agent.clone(),
            limits: self.limits.clone(),
            files: self.files.clone(),
        })
    }
}

/// A built server: database up and migrated, listener bound, ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    db: Db,
    embedded: Option<EmbeddedPostgres>,
    demo_google: Option<RunningFakeGoogle>,
    /// The simulated Fastmail and calendar of demo mode.
    demo_providers: Option<RunningServer>,
    /// The simulated Facebook Page's Graph API and sales model of demo mode.
    demo_meta: Option<Arc<crate::demo_meta::DemoMeta>>,
    background: BackgroundWork,
    /// Ends live event streams at shutdown; open SSE responses would hold it up.
    live_stop: CancellationToken,
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
        let secrets = secret_box(&config)?;
        upgrade_tokens(&db, &secrets).await?;

        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let local_addr = listener.local_addr()?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local_addr}"));
        let redirect_uri = config
            .google_redirect_uri
            .clone()
            .unwrap_or_else(|| format!("{public_url}/auth/google/callback"));

        let (google, demo_google, demo_providers, demo_meta) = match &config.google {
            GoogleSettings::Configured {
                client_id,
                client_secret,
                api_base,
            } => (
                GoogleOAuth::new(client_id, client_secret, &redirect_uri, endpoints(api_base))?,
                None,
                None,
                None,
            ),
            GoogleSettings::Demo { messages } => {
                let anchor = crate::demo::load_or_create_anchor(&config.data_dir, Utc::now())?;
                let mut demo = FakeGoogleConfig::demo();
                demo.accounts[0] = DemoAccount::generated(MailboxSpec::demo(*messages));
                if let Some(anchor) = anchor {
                    for account in &mut demo.accounts {
                        if let MailboxSource::Generated(spec) = &mut account.mailbox {
                            *spec = crate::demo::anchored(spec.clone(), anchor);
                        }
                    }
                }
                // Keeps demo users connected across restarts of `make run`.
                demo.refresh_token_file = Some(config.data_dir.join(crate::demo::GRANTS_FILE));
                let (providers, chats) =
                    crate::demo::start_providers(&demo.accounts[0].mailbox).await?;
                let fake = FakeGoogle::start(demo).await?;
                let meta = Arc::new(crate::demo_meta::DemoMeta::start(&db, &secrets).await?);
                tracing::info!(url = %fake.base_url(), messages, ?anchor, "demo mode: simulated Google is running");
                let endpoints = GoogleEndpoints::under(fake.base_url());
                (
                    GoogleOAuth::new(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, &redirect_uri, endpoints)?,
                    Some(fake),
                    Some((providers, Arc::new(chats))),
                    Some(meta),
                )
            }
        };

        let leptos_options = LeptosOptions::builder()
            .output_name("rapport")
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(local_addr)
            .build();
        let files = domain::files::FileStore::new(config.data_dir.join("files"));
        // Demo mode's enrichment APIs are served by the demo providers' fake.
        let enrichment = match &demo_providers {
            Some((providers, _)) => config.enrichment.clone().or_demo(
                providers.base_url(),
                fakes::enrichment::PDL_KEY,
                fakes::enrichment::CLEARBIT_KEY,
                fakes::enrichment::X_TOKEN,
            ),
            None => config.enrichment.clone(),
        };
        let sales_agent = config
            .model
            .clone()
            .or_else(|| demo_meta.as_ref().map(|meta| meta.model()));
        let background = BackgroundWork::start(
            &db,
            &google,
            &secrets,
            config.workers,
            Models {
                ask: config.model.as_ref(),
                sales_agent: sales_agent.as_ref(),
            },
            (&files, &config.recordings),
            &enrichment,
        );
        let live_stop = CancellationToken::new();
        if let (Some(meta), Some(every)) = (&demo_meta, config.demo_customers_every) {
            meta.simulate_customers(every, live_stop.clone());
        }
        crate::events::spawn_retention(&db, config.event_retention_days, live_stop.clone());
        let state = AppState(Arc::new(SharedState {
            leptos_options,
            db: db.clone(),
            google,
            secrets,
            demo: demo_google.is_some(),
            demo_logins: demo_providers
                .as_ref()
                .zip(demo_meta.as_ref())
                .map(|((p, _), meta)| crate::demo::logins(p, meta.demo_page())),
            demo_chats: demo_providers.as_ref().map(|(_, chats)| chats.clone()),
            demo_meta: demo_meta.clone(),
            events: EventHub::start(&db, live_stop.clone()),
            imports_dir: config.data_dir.join("imports"),
            max_mbox_bytes: config.max_mbox_bytes,
            max_webhook_bytes: config.max_webhook_bytes,
            files,
            max_file_bytes: config.max_file_bytes,
            uploads: crate::streaming::UploadLimits {
                max_files: config.max_upload_files,
                storage_quota: config.storage_quota_bytes,
                slots: crate::streaming::UploadSlots::new(config.uploads_per_user),
            },
            mbox_limits: config.mbox_limits,
            model: config.model.clone(),
            sales_agent,
            limits: Limits::new(config.limits),
            webhooks: domain::channels::WebhookWriter::start(&db),
        }));
        let https = public_url.starts_with("https://");
        let sessions = session_layer(&db, https);
        Ok(Self {
            listener,
            router: router(state, sessions, https),
            db,
            embedded,
            demo_google,
            demo_providers: demo_providers.map(|(p, _)| p),
            demo_meta,
            background,
            live_stop,
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

    /// Serves until `shutdown` resolves, then drains requests, lets running jobs finish,
    /// closes the pool and stops the embedded database and the demo Google.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), "Rapport is serving");
        let live_stop = self.live_stop.clone();
        axum::serve(self.listener, self.router.into_make_service())
            .with_graceful_shutdown(async move {
                shutdown.await;
                live_stop.cancel();
            })
            .await?;
        self.background.stop().await;
        self.db.close().await;
        if let Some(fake) = self.demo_google {
            fake.stop().await;
        }
        if let Some(fake) = self.demo_providers {
            fake.stop().await;
        }
        // Stopped (by dropping it) once no worker polls it any more.
        drop(self.demo_meta);
        if let Some(pg) = self.embedded {
            pg.stop().await?;
        }
        Ok(())
    }
}

/// `server worker`: only background work, joining the database and Google of a running
/// server, until `shutdown` resolves.
pub async fn run_workers(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let Some(url) = &config.database_url else {
        anyhow::bail!(
            "`server worker` needs DATABASE_URL: the embedded database belongs to the server process"
        );
    };
    let GoogleSettings::Configured {
        client_id,
        client_secret,
        api_base,
    } = &config.google
    else {
        anyhow::bail!(
            "`server worker` needs GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET: demo mode's Google lives inside the server"
        );
    };
    let db = Db::connect(url).await?;
    db.migrate().await?;
    // Workers only refresh tokens; the redirect URI is never used.
    let google = GoogleOAuth::new(
        client_id,
        client_secret,
        "http://127.0.0.1/unused",
        endpoints(api_base),
    )?;
    let settings = WorkerSettings {
        workers: config.workers.workers.max(1),
        ..config.workers
    };
    let secrets = secret_box(&config)?;
    upgrade_tokens(&db, &secrets).await?;
    let files = domain::files::FileStore::new(config.data_dir.join("files"));
    let work = BackgroundWork::start(
        &db,
        &google,
        &secrets,
        settings,
        Models {
            ask: config.model.as_ref(),
            sales_agent: config.model.as_ref(),
        },
        (&files, &config.recordings),
        &config.enrichment,
    );
    shutdown.await;
    work.stop().await;
    db.close().await;
    Ok(())
}

/// Binds tokens stored before they carried their account id (see
/// [`Db::upgrade_token_encryption`]); a no-op once done.
async fn upgrade_tokens(db: &Db, secrets: &SecretBox) -> anyhow::Result<()> {
    let upgraded = db.upgrade_token_encryption(secrets).await?;
    if upgraded > 0 {
        tracing::info!(
            accounts = upgraded,
            "re-sealed OAuth tokens bound to their account"
        );
    }
    Ok(())
}

fn secret_box(config: &Config) -> anyhow::Result<SecretBox> {
    Ok(match &config.encryption_key {
        Some(key) => SecretBox::from_base64(key)?,
        None => SecretBox::load_or_create(&config.data_dir.join("secret.key"))?,
    })
}

fn endpoints(api_base: &Option<String>) -> GoogleEndpoints {
    api_base
        .as_deref()
        .map(GoogleEndpoints::under)
        .unwrap_or_else(GoogleEndpoints::google)
}

/// Sessions live in Postgres; the cookie is HttpOnly, SameSite=Lax, Secure over https.
fn session_layer(db: &Db, secure: bool) -> SessionManagerLayer<PgSessionStore> {
    let store = PgSessionStore::new(db.sessions());
    tokio::spawn({
        let store = store.clone();
        async move {
            let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                hourly.tick().await;
                if let Err(error) = store.delete_expired().await {
                    tracing::warn!(%error, "could not delete expired sessions");
                }
            }
        }
    });
    SessionManagerLayer::new(store)
        .with_name("rapport_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(auth::SESSION_INACTIVITY))
}

/// The app's page routes, generated once per process. Generating them renders the app
/// with resource loading switched off by a process-wide flag (leptos_server's
/// `SuppressResourceLoad`), and a resource first polled while that flag is up waits
/// forever (leptos#4773): a page being served in this process during a second
/// generation would never be answered. A process serving one app generates once,
/// before it serves; the tests and benches build many apps in one process, so they
/// share this one list.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

fn router(state: AppState, sessions: SessionManagerLayer<PgSessionStore>, https: bool) -> Router {
    let routes = page_routes();
    // Also registers every server function under /api with the same context.
    let render_context = {
        let context = state.context();
        move || provide_context(context.clone())
    };
    let leptos_options = state.leptos_options.clone();

    // A browser's session and sign-in, around every route a cookie speaks for.
    let signed_in = |routes: Router<AppState>| {
        routes
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::require_user,
            ))
            .layer(sessions.clone())
    };
    // The pages (and the server functions registered with them), rendered a few at a
    // time in arrival order. A page takes its turn before its session is read: the
    // reads of the pages waiting would only compete with the renders under way.
    let pages = signed_in(Router::new().leptos_routes_with_context(
        &state,
        routes,
        render_context.clone(),
        move || shell(leptos_options.clone()),
    ))
    .layer(axum::middleware::from_fn_with_state(
        PageRenders::for_this_machine(),
        admission::admit,
    ));
    let cookie_routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/contacts") }),
        )
        .route("/auth/google/start", get(auth::start))
        .route("/auth/google/callback", get(auth::callback))
        .route("/auth/logout", post(auth::logout))
        .route("/api/events", get(live::events))
        .route("/api/ask", post(ask::ask))
        .route(
            "/ingest/{channel}",
            post(ingest::receive).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/contacts/{contact}/files",
            post(files::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/files/{activity}", get(files::download))
        .route(
            "/demo/conversations/{conversation}/customer",
            post(crate::demo_meta::customer_writes),
        )
        .route("/recordings/{recording}", get(crate::recordings::serve))
        .route("/mail/{activity}/html", get(crate::mail::frame))
        .route(
            "/settings/import-mbox",
            post(import::upload_mbox).layer(DefaultBodyLimit::disable()),
        )
        // The not-found page renders the same shell (user menu and all): same context.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(render_context, shell));
    let router = signed_in(cookie_routes)
        .merge(pages)
        // Token-authenticated: outside the session and sign-in layers, so a cookie
        // never stands in for (or interferes with) the bearer token.
        .merge(api_v1::routes())
        // The token in the URL is the credential: no session.
        .route("/calendar/feed/{file}", get(crate::calendar_feed::serve))
        .with_state(state);
    middleware::apply(router, https)
}
