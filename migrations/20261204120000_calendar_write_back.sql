-- Write-back (#15): an event is also PUT to the user's first connected CalDAV calendar.
-- Where it went and the ETag it has there (for If-Match on the next write).
alter table calendar_events
  add column caldav_calendar_id uuid,
  add column caldav_href text,
  add column caldav_etag text,
  add foreign key (user_id, caldav_calendar_id) references caldav_calendars (user_id, id)
    on delete set null (caldav_calendar_id);

-- A write-back that failed, retried by a `calendar.write_back` job at `next_retry_at`
-- (exponential backoff); resolved when a retry succeeds. At most one open per
-- interaction.
create table calendar_sync_failures (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  interaction_id uuid not null,
  event_id uuid,
  action text not null check (action in ('put', 'delete')),
  error text not null,
  retry_count integer not null default 0 check (retry_count >= 0),
  next_retry_at timestamptz not null,
  resolved_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index calendar_sync_failures_open on calendar_sync_failures (user_id, interaction_id)
  where resolved_at is null;
create trigger calendar_sync_failures_updated_at before update on calendar_sync_failures
  for each row execute function set_updated_at();
