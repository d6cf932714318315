-- Webhook ingestion channels. Each channel owns one `accounts` row of its provider
-- (external_id 'channel:<channel id>'), so webhook activities reuse the activities
-- table's idempotency key (account_id, external_id) and the sync ledger unchanged.
-- The key is shown once and only its SHA-256 is kept.
create table ingestion_channels (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  account_id uuid not null unique,
  name text not null check (btrim(name) <> '' and length(name) <= 80),
  provider text not null check (provider in ('generic', 'twilio', 'postmark', 'timelinesai')),
  default_channel text not null check (default_channel in (
    'email', 'whatsapp', 'sms', 'call', 'meeting', 'messenger', 'instagram', 'file')),
  default_direction text not null check (default_direction in ('inbound', 'outbound')),
  key_sha256 bytea not null check (length(key_sha256) = 32),
  enabled boolean not null default true,
  received_count bigint not null default 0 check (received_count >= 0),
  duplicate_count bigint not null default 0 check (duplicate_count >= 0),
  dropped_count bigint not null default 0 check (dropped_count >= 0),
  last_received_at timestamptz,
  key_rotated_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, id),
  foreign key (user_id, account_id) references accounts (user_id, id) on delete cascade
);
create index ingestion_channels_by_user on ingestion_channels (user_id, created_at);
create trigger ingestion_channels_updated_at before update on ingestion_channels
  for each row execute function set_updated_at();

-- Senders whose messages are dropped at ingest (counted, never stored): an exact email,
-- every address of a domain ('*@example.com'), or a phone number in E.164.
create table blocklist (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  kind text not null check (kind in ('email', 'domain', 'phone')),
  value text not null check (value <> '' and value = lower(value)),
  hits bigint not null default 0 check (hits >= 0),
  created_at timestamptz not null default now(),
  unique (user_id, kind, value),
  check (kind <> 'phone' or value ~ '^\+[1-9][0-9]{6,14}$')
);
