//! Settings → Channels: webhook channels (create, enable/disable, rotate the key, see
//! what arrived), the blocklist of senders whose messages are dropped at ingest, and
//! the connected Facebook Pages ([`MetaPages`](crate::components::connect_meta::MetaPages)).
//! A key is shown once, in the answer to the action that made it.

use api::channels::{BlockView, ChannelView, ChannelsData, IssuedKey, endpoint};
use api::{Channel, Direction, Provider};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::ErrorPanel;
use crate::format::count;

#[server]
pub async fn load_channels() -> Result<ChannelsData, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let scope = ctx.scope();
        let channels = scope.channels().list().await?;
        let blocklist = scope.channels().blocklist().await?;
        Ok(ChannelsData {
            channels,
            blocklist: blocklist.into_iter().map(Into::into).collect(),
        })
    })
    .await
}

#[server]
pub async fn create_channel(
    name: String,
    provider: String,
    default_channel: String,
    default_direction: String,
) -> Result<IssuedKey, AppError> {
    use domain::DomainError;
    use domain::channels::{ChannelDefaults, ChannelProvider, NewChannel};

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let new = NewChannel {
            name,
            provider: ChannelProvider::parse(&provider)?,
            defaults: ChannelDefaults {
                channel: Channel::parse(&default_channel)
                    .map_err(|e| DomainError::not_one_of("channel", &e))?,
                direction: Direction::parse(&default_direction).map_err(|_| {
                    DomainError::invalid("direction", "must be inbound or outbound")
                })?,
            },
        };
        let (channel, key) = ctx.scope().channels().create(&new).await?;
        Ok(IssuedKey::new(channel.id, key.expose().to_owned()))
    })
    .await
}

#[server]
pub async fn set_channel_enabled(channel_id: Uuid, enabled: bool) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx
            .scope()
            .channels()
            .set_enabled(channel_id, enabled)
            .await?)
    })
    .await
}

/// Issues a new key; the old one stops working at once.
#[server]
pub async fn rotate_channel_key(channel_id: Uuid) -> Result<IssuedKey, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let key = ctx.scope().channels().rotate_key(channel_id).await?;
        Ok(IssuedKey::new(channel_id, key.expose().to_owned()))
    })
    .await
}

#[server]
pub async fn add_blocklist_entry(entry: String) -> Result<(), AppError> {
    use domain::channels::BlockEntry;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let entry = BlockEntry::parse(&entry)?;
        ctx.scope().channels().add_to_blocklist(&entry).await?;
        Ok(())
    })
    .await
}

#[server]
pub async fn remove_blocklist_entry(entry_id: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx
            .scope()
            .channels()
            .remove_from_blocklist(entry_id)
            .await?)
    })
    .await
}

const PROVIDERS: [(Provider, &str); 4] = [
    (Provider::Generic, "Generic JSON"),
    (Provider::Twilio, "Twilio (SMS, WhatsApp, calls)"),
    (Provider::Postmark, "Postmark inbound email"),
    (Provider::TimelinesAi, "TimelinesAI (WhatsApp)"),
];

fn provider_name(provider: Provider) -> &'static str {
    PROVIDERS
        .iter()
        .find(|(value, _)| *value == provider)
        .map_or(provider.as_str(), |(_, label)| label)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%e %b %Y, %H:%M UTC").to_string()
}

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let create = ServerAction::<CreateChannel>::new();
    let rotate = ServerAction::<RotateChannelKey>::new();
    let toggle = ServerAction::<SetChannelEnabled>::new();
    let block = ServerAction::<AddBlocklistEntry>::new();
    let unblock = ServerAction::<RemoveBlocklistEntry>::new();
    let data = Resource::new(
        move || {
            (
                create.version().get(),
                rotate.version().get(),
                toggle.version().get(),
                block.version().get(),
                unblock.version().get(),
            )
        },
        |_| load_channels(),
    );
    let issued = move || {
        let latest = rotate.value().get().or_else(|| create.value().get());
        latest.map(|result| match result {
            Ok(issued) => view! {
                <div class="card notice key-once" role="status">
                    <p><strong>"Copy this key now: it is shown only once."</strong></p>
                    <p>"Endpoint: " <code>"POST " {issued.endpoint}</code></p>
                    <p>"Key: " <code class="ingestion-key">{issued.key}</code></p>
                    <p class="muted">"Send it as " <code>"Authorization: Bearer <key>"</code> " or " <code>"X-Ingestion-Key: <key>"</code> "."</p>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
        })
    };
    let failed = move || {
        [
            toggle.value().get(),
            block.value().get(),
            unblock.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
        .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        <Title text="Channels"/>
        <section class="page">
            <header class="page-header">
                <h1>"Channels"</h1>
                <a href="/settings">"Back to Settings"</a>
            </header>
            <p class="muted">
                "A channel is a webhook address that Twilio, Postmark, TimelinesAI or your own system "
                "posts messages and calls to. What arrives is stored at once and processed in the background."
            </p>
            {issued}
            {failed}
            <section class="card">
                <h2>"New channel"</h2>
                <ActionForm action=create attr:class="inline-form">
                    <label>"Name" <input name="name" required maxlength="80" placeholder="Work phone"/></label>
                    <label>
                        "Provider"
                        <select name="provider">
                            {PROVIDERS.map(|(value, label)| view! { <option value=value.as_str()>{label}</option> })}
                        </select>
                    </label>
                    <label>
                        "Default type"
                        <select name="default_channel">
                            {Channel::all()
                                .iter()
                                .map(|kind| view! {
                                    <option value=kind.as_str() selected=*kind == Channel::Sms>{kind.as_str()}</option>
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <label>
                        "Default direction"
                        <select name="default_direction">
                            {Direction::all()
                                .iter()
                                .map(|d| view! { <option value=d.as_str()>{d.as_str()}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <button class="button primary" type="submit">"Create channel"</button>
                </ActionForm>
            </section>
            <Transition fallback=|| view! { <p class="muted">"Loading channels…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        data.await.map(|data| view! {
                            <ChannelList channels=data.channels rotate toggle/>
                            <Blocklist entries=data.blocklist block unblock/>
                        })
                    })}
                </ErrorBoundary>
            </Transition>
            <crate::components::connect_meta::MetaPages/>
        </section>
    }
}

#[component]
fn ChannelList(
    channels: Vec<ChannelView>,
    rotate: ServerAction<RotateChannelKey>,
    toggle: ServerAction<SetChannelEnabled>,
) -> impl IntoView {
    if channels.is_empty() {
        return view! { <p class="muted">"No channels yet."</p> }.into_any();
    }
    channels
        .into_iter()
        .map(|c| {
            let status = if c.enabled { "enabled" } else { "disabled" };
            view! {
                <article class="card channel" data-channel-id=c.id.to_string()>
                    <header class="account-head">
                        <h3>{c.name.clone()} " · " {provider_name(c.provider).to_owned()}</h3>
                        <span class=format!("badge status-{status}")>{status}</span>
                    </header>
                    <dl class="facts">
                        <dt>"Endpoint"</dt>
                        <dd><code>"POST " {endpoint(c.id)}</code></dd>
                        <dt>"Defaults"</dt>
                        <dd>{format!("{}, {}", c.default_channel, c.default_direction)}</dd>
                        <dt>"Received"</dt>
                        <dd class="channel-received">{count(u64::try_from(c.received).unwrap_or_default())}</dd>
                        <dt>"Retries ignored"</dt>
                        <dd>{count(u64::try_from(c.duplicates).unwrap_or_default())}</dd>
                        <dt>"Dropped (blocklist)"</dt>
                        <dd class="channel-dropped">{count(u64::try_from(c.dropped).unwrap_or_default())}</dd>
                        <dt>"Last received"</dt>
                        <dd>{c.last_received_at.map(when).unwrap_or_else(|| "Nothing yet".into())}</dd>
                        <dt>"Key issued"</dt>
                        <dd>{when(c.key_rotated_at)}</dd>
                    </dl>
                    <div class="actions">
                        <ActionForm action=toggle attr:class="inline-form">
                            <input type="hidden" name="channel_id" value=c.id.to_string()/>
                            <input type="hidden" name="enabled" value=(!c.enabled).to_string()/>
                            <button class="button" type="submit">{if c.enabled { "Disable" } else { "Enable" }}</button>
                        </ActionForm>
                        <ActionForm action=rotate attr:class="inline-form">
                            <input type="hidden" name="channel_id" value=c.id.to_string()/>
                            <button class="button" type="submit">"Rotate key"</button>
                        </ActionForm>
                    </div>
                    {(c.provider == Provider::Twilio).then(|| view! { <crate::components::recording_settings::ChannelRecordings channel_id=c.id/> })}
                </article>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
fn Blocklist(
    entries: Vec<BlockView>,
    block: ServerAction<AddBlocklistEntry>,
    unblock: ServerAction<RemoveBlocklistEntry>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="blocklist-heading">
            <h2 id="blocklist-heading">"Blocklist"</h2>
            <p class="muted">
                "Messages from these senders are dropped on arrival and only counted. Write an email "
                "address, " <code>"*@domain.com"</code> " for a whole domain, or a phone number in international format."
            </p>
            <ActionForm action=block attr:class="inline-form">
                <label>"Sender" <input name="entry" required placeholder="*@spam.example"/></label>
                <button class="button" type="submit">"Block"</button>
            </ActionForm>
            <ul class="blocklist">
                {entries.into_iter().map(|b| view! {
                    <li>
                        <code>{b.entry}</code>
                        <span class="muted">{format!(" {} dropped ", count(u64::try_from(b.hits).unwrap_or_default()))}</span>
                        <ActionForm action=unblock attr:class="inline-form">
                            <input type="hidden" name="entry_id" value=b.id.to_string()/>
                            <button class="button" type="submit">"Remove"</button>
                        </ActionForm>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}
