-- CalDAV calendars (#22). A `caldav` account holds the server URL and the sealed app
-- password; the user picks which of its calendars to sync.
create table caldav_calendars (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  account_id uuid not null,
  href text not null check (href <> ''),
  display_name text,
  color text,
  -- The server's change markers when the calendar was last stored completely: a poll
  -- that finds the same ones asks nothing more.
  ctag text,
  sync_token text,
  -- The UTC day the stored instances were expanded for; a new day re-expands the
  -- stored objects locally, so the window slides without asking the server.
  expanded_on date,
  polled_at timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  unique (account_id, href),
  unique (user_id, id),
  foreign key (user_id, account_id) references accounts (user_id, id) on delete cascade
);

-- Every calendar object (one .ics resource) seen in the window, with its ETag and data,
-- and the parse error when its iCalendar is bad (its stored instances are then kept).
create table caldav_objects (
  calendar_id uuid not null,
  user_id uuid not null,
  href text not null,
  etag text not null,
  data text not null,
  error text,
  primary key (calendar_id, href),
  foreign key (user_id, calendar_id) references caldav_calendars (user_id, id) on delete cascade
);

-- One row per stored event instance (a `meeting` activity): what the timeline and the
-- sync need beyond the activity. Kept when the object disappears (past meetings stay).
create table calendar_events (
  activity_id uuid primary key,
  user_id uuid not null,
  calendar_id uuid not null,
  href text not null,
  uid text not null,
  recurrence_id timestamptz,
  starts_at timestamptz not null,
  ends_at timestamptz,
  all_day boolean not null,
  location text,
  status text not null check (status in ('confirmed', 'tentative', 'cancelled')),
  sequence integer not null default 0,
  etag text not null,
  organizer jsonb,
  attendees jsonb not null default '[]',
  foreign key (user_id, activity_id) references activities (user_id, id) on delete cascade,
  foreign key (user_id, calendar_id) references caldav_calendars (user_id, id) on delete cascade
);
create index calendar_events_by_object on calendar_events (calendar_id, href);
