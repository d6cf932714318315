-- Schema v1: every user-owned row carries user_id; child rows reference their parent
-- through (user_id, id) so a row can never point at another user's data.

create function set_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at = now();
  return new;
end $$;

-- People who sign in. The local owner exists only until Google sign-in is configured.
create table users (
  id uuid primary key default gen_random_uuid(),
  google_subject text unique,
  email text not null check (email = lower(email) and email like '%_@_%'),
  name text,
  picture_url text,
  is_local_owner boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_single_local_owner on users (is_local_owner) where is_local_owner;
create trigger users_updated_at before update on users for each row execute function set_updated_at();

-- tower-sessions store (tower-sessions-sqlx-store's column layout).
create table sessions (
  id text primary key,
  data bytea not null,
  expiry_date timestamptz not null
);
create index sessions_expiry on sessions (expiry_date);

-- Connected sources: Gmail, Fastmail, CalDAV, webhook channels, uploads, mbox imports.
create table accounts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  provider text not null check (provider in (
    'google', 'fastmail', 'caldav', 'timelinesai', 'twilio', 'postmark', 'meta',
    'generic', 'upload', 'mbox')),
  external_id text not null,
  display_name text,
  scopes text[] not null default '{}',
  access_token_enc bytea,
  refresh_token_enc bytea,
  token_expires_at timestamptz,
  status text not null default 'active'
    check (status in ('active', 'syncing', 'needs_reconnect', 'error', 'disconnected')),
  last_error text,
  sync_state jsonb not null default '{}',
  last_synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, provider, external_id),
  unique (user_id, id)
);
create trigger accounts_updated_at before update on accounts for each row execute function set_updated_at();

-- Companies keyed by registrable domain (acme.co.uk), never free-mail.
create table companies (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  domain text not null check (domain = lower(domain) and domain like '%_._%'),
  name text,
  name_source text check (name_source in ('user', 'signature', 'domain')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, domain),
  unique (user_id, id)
);
create trigger companies_updated_at before update on companies for each row execute function set_updated_at();

-- field_sources records provenance per field, e.g.
-- {"title": {"source": "signature", "activity_id": "...", "at": "..."}}, so that a sync
-- never overwrites a value whose source ranks higher (user > signature > header).
create table contacts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  display_name text,
  company_id uuid,
  title text,
  notes text not null default '',
  tags text[] not null default '{}',
  links jsonb not null default '{}',
  custom_fields jsonb not null default '{}',
  field_sources jsonb not null default '{}',
  merged_into uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, id),
  foreign key (user_id, company_id) references companies (user_id, id) on delete set null (company_id),
  foreign key (user_id, merged_into) references contacts (user_id, id) on delete set null (merged_into),
  check (merged_into is null or merged_into <> id)
);
create index contacts_by_user_name on contacts (user_id, lower(display_name)) where merged_into is null;
create index contacts_by_user_recent on contacts (user_id, created_at desc) where merged_into is null;
create index contacts_by_company on contacts (user_id, company_id) where company_id is not null;
create trigger contacts_updated_at before update on contacts for each row execute function set_updated_at();

-- How a contact is recognised on every channel: email (lowercased), phone (E.164), handle.
create table contact_identities (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  contact_id uuid not null,
  kind text not null check (kind in ('email', 'phone', 'handle')),
  value text not null check (value <> ''),
  label text,
  source text not null default 'user' check (source in ('user', 'header', 'signature', 'import')),
  created_at timestamptz not null default now(),
  unique (user_id, kind, value),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade,
  check (kind <> 'email' or value = lower(value)),
  check (kind <> 'phone' or value ~ '^\+[1-9][0-9]{6,14}$')
);
create index contact_identities_by_contact on contact_identities (contact_id);

-- Every communication from every channel, one row per message/event/call/file.
-- Ingest is idempotent on (account_id, external_id); processing is claimed by lease.
create table activities (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  account_id uuid not null,
  external_id text not null check (external_id <> ''),
  channel text not null check (channel in (
    'email', 'whatsapp', 'sms', 'call', 'meeting', 'messenger', 'instagram', 'file')),
  direction text check (direction in ('inbound', 'outbound')),
  occurred_at timestamptz not null,
  thread_key text,
  subject text,
  snippet text,
  body_text text,
  body_html text,
  labels text[] not null default '{}',
  headers jsonb not null default '{}',
  attachments jsonb not null default '[]',
  raw_payload jsonb,
  content_sha256 bytea,
  size_bytes bigint check (size_bytes >= 0),
  parse_problems text[] not null default '{}',
  deleted_at timestamptz,
  state text not null default 'raw'
    check (state in ('raw', 'processing', 'completed', 'failed', 'dead')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error text,
  claimed_by text,
  lease_expires_at timestamptz,
  processed_at timestamptz,
  processed jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (account_id, external_id),
  unique (user_id, id),
  foreign key (user_id, account_id) references accounts (user_id, id) on delete cascade,
  check ((state = 'processing') = (claimed_by is not null and lease_expires_at is not null))
);
create index activities_by_user_time on activities (user_id, occurred_at desc);
create index activities_by_thread on activities (user_id, thread_key, occurred_at) where thread_key is not null;
create index activities_claimable on activities (next_attempt_at) where state in ('raw', 'failed');
create index activities_leased on activities (lease_expires_at) where state = 'processing';
create trigger activities_updated_at before update on activities for each row execute function set_updated_at();

-- Who took part; occurred_at is copied from the activity so a contact's timeline is one
-- index range scan.
create table activity_participants (
  user_id uuid not null,
  activity_id uuid not null,
  role text not null check (role in ('from', 'to', 'cc', 'bcc', 'attendee', 'organizer', 'participant')),
  address_kind text not null check (address_kind in ('email', 'phone', 'handle')),
  address text not null check (address <> ''),
  display_name text,
  contact_id uuid,
  occurred_at timestamptz not null,
  primary key (activity_id, role, address_kind, address),
  foreign key (user_id, activity_id) references activities (user_id, id) on delete cascade,
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete set null (contact_id)
);
create index participants_by_contact_time on activity_participants (user_id, contact_id, occurred_at desc)
  where contact_id is not null;
create index participants_by_address on activity_participants (user_id, address_kind, address);

-- One row per provider item ever seen, with its outcome: the basis of reconciliation.
create table sync_ledger (
  user_id uuid not null,
  account_id uuid not null,
  external_id text not null,
  outcome text not null check (outcome in ('seen', 'imported', 'filtered', 'failed', 'retrying', 'deleted')),
  rule text,
  error text,
  activity_id uuid,
  attempts integer not null default 0,
  first_seen_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (account_id, external_id),
  foreign key (user_id, account_id) references accounts (user_id, id) on delete cascade,
  foreign key (user_id, activity_id) references activities (user_id, id) on delete set null (activity_id),
  check (outcome <> 'filtered' or rule is not null),
  check (outcome <> 'failed' or error is not null)
);
create index sync_ledger_by_outcome on sync_ledger (account_id, outcome);
create trigger sync_ledger_updated_at before update on sync_ledger for each row execute function set_updated_at();

-- Permanent outcomes about a contact, written by the user or by an AI agent.
create table notes (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  contact_id uuid not null,
  author_kind text not null check (author_kind in ('user', 'agent')),
  author_name text not null check (author_name <> ''),
  body text not null check (btrim(body) <> ''),
  source_activity_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade,
  foreign key (user_id, source_activity_id) references activities (user_id, id) on delete set null (source_activity_id)
);
create index notes_by_contact on notes (user_id, contact_id, created_at desc);
create trigger notes_updated_at before update on notes for each row execute function set_updated_at();

-- Append-only feed for live updates (NOTIFY -> SSE) and audit (questions asked, merges).
create table events (
  id bigint generated always as identity primary key,
  user_id uuid references users (id) on delete cascade,
  kind text not null check (kind <> ''),
  data jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index events_by_user on events (user_id, id);

-- Background work: claimed with FOR UPDATE SKIP LOCKED and a lease; unique_key dedupes
-- live jobs (one sync per account at a time).
create table jobs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references users (id) on delete cascade,
  kind text not null check (kind <> ''),
  payload jsonb not null default '{}',
  state text not null default 'queued' check (state in ('queued', 'running', 'succeeded', 'dead')),
  unique_key text,
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 8 check (max_attempts > 0),
  run_at timestamptz not null default now(),
  last_error text,
  lease_owner text,
  lease_expires_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((state = 'running') = (lease_owner is not null and lease_expires_at is not null))
);
create unique index jobs_live_unique_key on jobs (unique_key)
  where unique_key is not null and state in ('queued', 'running');
create index jobs_ready on jobs (run_at) where state = 'queued';
create index jobs_leased on jobs (lease_expires_at) where state = 'running';
create index jobs_by_user on jobs (user_id, created_at desc);
create trigger jobs_updated_at before update on jobs for each row execute function set_updated_at();
