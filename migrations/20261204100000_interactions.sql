-- Logged interactions (#15) and the user's calendar they feed.

-- The CalDAV poller's per-instance rows were called `calendar_events`; that name now
-- belongs to the user's own calendar (below), so they become `caldav_instances`.
alter table calendar_events rename to caldav_instances;
alter index calendar_events_by_object rename to caldav_instances_by_object;

-- A logged interaction's timeline activity needs a source account: one `manual` account
-- per user, created on first use.
alter table accounts drop constraint accounts_provider_check;
alter table accounts add constraint accounts_provider_check check (provider in (
  'google', 'fastmail', 'caldav', 'timelinesai', 'twilio', 'postmark', 'meta',
  'generic', 'upload', 'mbox', 'manual'));

-- A visit, call, meeting... the user logged on a contact or a company. Its timeline
-- activity (`activity_id`, a completed `meeting` or `call`) is rewritten on every edit.
create table interactions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  contact_id uuid,
  company_id uuid,
  activity_id uuid,
  kind text not null check (kind in ('meeting', 'visit', 'phone', 'video', 'lunch', 'event', 'other')),
  subject text check (subject <> ''),
  occurred_at timestamptz,
  -- None: all day.
  duration_minutes integer check (duration_minutes between 1 and 10080),
  location text,
  description text,
  direction text not null check (direction in ('inbound', 'outbound')),
  medium text not null check (medium in ('in_person', 'phone', 'video', 'email', 'chat', 'other')),
  outcome text,
  sentiment text check (sentiment in ('positive', 'neutral', 'negative')),
  importance smallint check (importance between 1 and 5),
  private_notes text,
  archived_at timestamptz,
  -- When its calendar event was last written; not after `updated_at`: nothing to sync.
  calendar_synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, id),
  check (contact_id is not null or company_id is not null),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade,
  foreign key (user_id, company_id) references companies (user_id, id) on delete cascade,
  foreign key (user_id, activity_id) references activities (user_id, id) on delete set null (activity_id)
);
create index interactions_by_contact on interactions (user_id, contact_id, occurred_at desc) where contact_id is not null;
create index interactions_by_company on interactions (user_id, company_id, occurred_at desc) where company_id is not null;
create trigger interactions_updated_at before update on interactions for each row execute function set_updated_at();

-- The user's calendar: one event per related row (today: interactions), written in the
-- same transaction as that row. `uid` is its stable iCalendar UID; `sequence` counts
-- its changes (RFC 5545 SEQUENCE).
create table calendar_events (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  uid text not null unique,
  title text not null check (title <> ''),
  description text,
  event_date date not null,
  start_time timestamptz not null,
  end_time timestamptz,
  all_day boolean not null,
  event_type text not null,
  status text not null check (status in ('scheduled', 'completed', 'cancelled')),
  related_table text not null check (related_table in ('interactions')),
  related_id uuid not null,
  location text,
  -- [{"name": "Ada Lovelace", "email": "ada@example.com"}, {"name": "Acme"}]
  participants jsonb not null default '[]',
  sequence integer not null default 0,
  created_by uuid not null,
  updated_by uuid not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  synced_from text not null check (synced_from in ('interaction')),
  last_synced_at timestamptz not null default now(),
  unique (related_table, related_id),
  unique (user_id, id),
  check (end_time is null or end_time >= start_time)
);
create index calendar_events_by_user_time on calendar_events (user_id, start_time);
create trigger calendar_events_updated_at before update on calendar_events for each row execute function set_updated_at();

-- An interaction deleted with its contact or company (a cascade) takes its event along;
-- `InteractionsScope::delete` deletes the event itself first, to log it and to delete its
-- written-back copy.
create function delete_interaction_event() returns trigger language plpgsql as $$
begin
  delete from calendar_events where related_table = 'interactions' and related_id = old.id;
  return old;
end $$;
create trigger interactions_delete_event after delete on interactions
  for each row execute function delete_interaction_event();

-- Every sync attempt of an interaction: what it did to which event, and how it went.
-- Kept when the interaction or event is deleted.
create table calendar_sync_log (
  id bigint generated always as identity primary key,
  user_id uuid not null references users (id) on delete cascade,
  interaction_id uuid not null,
  event_id uuid,
  action text not null check (action in ('create', 'update', 'cancel', 'delete', 'skip')),
  status text not null check (status in ('success', 'failed', 'skipped')),
  error text,
  created_at timestamptz not null default now()
);
create index calendar_sync_log_by_interaction on calendar_sync_log (user_id, interaction_id, id);
