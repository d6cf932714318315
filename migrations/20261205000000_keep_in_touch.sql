-- Keep-in-touch reminders (#15). The due date is never stored: it is the contact's last
-- interaction (`contact_stats.last_interaction_at`, refreshed in the same transaction as
-- whatever moved it) plus the frequency, so every new interaction moves it at once.

-- One contact's choice: `tag_default` (nothing chosen; a row kept for a snooze),
-- `none` (no reminders whatever the tags say) or a frequency (`days` with `every_days`).
create table keep_in_touch (
  user_id uuid not null references users (id) on delete cascade,
  contact_id uuid not null,
  setting text not null check (setting in (
    'tag_default', 'none', 'week', 'two_weeks', 'month', 'quarter', 'six_months', 'year', 'days')),
  every_days integer check (every_days between 1 and 3650),
  snoozed_until timestamptz,
  -- When a frequency was set: with no interaction ever, that is when it is first due.
  set_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, contact_id),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade,
  check ((setting = 'days') = (every_days is not null))
);

-- A tag's default frequency, for its contacts that chose nothing themselves.
create table keep_in_touch_tag_defaults (
  user_id uuid not null references users (id) on delete cascade,
  tag text not null check (tag <> ''),
  cadence text not null check (cadence in (
    'week', 'two_weeks', 'month', 'quarter', 'six_months', 'year', 'days')),
  every_days integer check (every_days between 1 and 3650),
  created_at timestamptz not null default now(),
  primary key (user_id, tag),
  check ((cadence = 'days') = (every_days is not null))
);

-- "Keep in touch?" suggestions the user dismissed: never offered again for that contact.
create table keep_in_touch_dismissals (
  user_id uuid not null references users (id) on delete cascade,
  contact_id uuid not null,
  dismissed_at timestamptz not null default now(),
  primary key (user_id, contact_id),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade
);
