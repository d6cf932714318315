-- The user's time zone (an IANA name Postgres and chrono-tz both know): logged
-- interactions are entered and shown in it, and calendar days are its days.
-- `time_zone_chosen` is false until the user picks one in Settings; until then the
-- browser's zone is adopted on sign-in.
alter table users
  add column time_zone text not null default 'UTC',
  add column time_zone_chosen boolean not null default false;
