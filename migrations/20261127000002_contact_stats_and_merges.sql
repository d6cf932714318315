-- Relationship stats per contact, the merge log, and the indexes the contacts list and
-- contact page need at 100,000 contacts and 1,000,000 activities per user.

create extension if not exists pg_trgm;

-- One row per contact (a trigger creates it with the contact), so sorting the list by a
-- stat is an index scan on this table joined to contacts, never a sort of all rows.
-- Durations are seconds. `monthly` is [{"month": "2026-03", "sent": 4, "received": 2}, ...]
-- oldest first. The 90-day counts and reply medians are the inputs of the scores, kept
-- so the page can explain them.
create table contact_stats (
  user_id uuid not null,
  contact_id uuid not null,
  sent_count integer not null default 0,
  received_count integer not null default 0,
  email_count integer generated always as (sent_count + received_count) stored,
  first_interaction_at timestamptz,
  last_interaction_at timestamptz,
  last_sent_at timestamptz,
  last_received_at timestamptz,
  my_reply_median_secs double precision,
  my_reply_mean_secs double precision,
  my_reply_count integer not null default 0,
  their_reply_median_secs double precision,
  their_reply_mean_secs double precision,
  their_reply_count integer not null default 0,
  unanswered_inbound integer not null default 0,
  sent_90d integer not null default 0,
  received_90d integer not null default 0,
  monthly jsonb not null default '[]',
  frequency_score smallint not null default 0 check (frequency_score between 0 and 100),
  strength smallint not null default 0 check (strength between 0 and 100),
  computed_at timestamptz not null default now(),
  primary key (user_id, contact_id),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade
);
create index contact_stats_by_strength on contact_stats (user_id, strength desc, contact_id);
create index contact_stats_by_recent on contact_stats (user_id, last_interaction_at desc nulls last, contact_id);
create index contact_stats_by_volume on contact_stats (user_id, email_count desc, contact_id);
create index contact_stats_unanswered on contact_stats (user_id, last_interaction_at desc)
  where unanswered_inbound > 0;

create function create_contact_stats_row() returns trigger language plpgsql as $$
begin
  insert into contact_stats (user_id, contact_id) values (new.user_id, new.id);
  return new;
end $$;
create trigger contacts_stats_row after insert on contacts
  for each row execute function create_contact_stats_row();
insert into contact_stats (user_id, contact_id) select user_id, id from contacts;

-- Every merge, with what it changed, so an un-merge restores exactly: the winner's row
-- before the merge, and the ids of the identities, participants and notes moved over.
create table contact_merges (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  winner_id uuid not null,
  loser_id uuid not null,
  reason text,
  snapshot jsonb not null,
  merged_at timestamptz not null default now(),
  unmerged_at timestamptz,
  foreign key (user_id, winner_id) references contacts (user_id, id) on delete cascade,
  foreign key (user_id, loser_id) references contacts (user_id, id) on delete cascade
);
create index contact_merges_by_winner on contact_merges (user_id, winner_id, merged_at desc);
create index contact_merges_by_loser on contact_merges (user_id, loser_id, merged_at desc);

-- Search by name, email and company (substring, any case) and the list's filters.
create index contacts_name_trgm on contacts using gin (lower(display_name) gin_trgm_ops)
  where merged_into is null;
create index contact_identities_value_trgm on contact_identities using gin (value gin_trgm_ops);
create index companies_name_trgm on companies using gin ((lower(coalesce(name, '') || ' ' || domain)) gin_trgm_ops);
create index contacts_by_tags on contacts using gin (tags) where merged_into is null;
create index contacts_by_user_company on contacts (user_id, company_id, id) where merged_into is null;

-- Duplicate suggestions: same LinkedIn profile, same phone number (last 8 digits, so the
-- same number stored under two country codes still matches).
create index contacts_by_linkedin on contacts (user_id, (lower(links ->> 'linkedin')))
  where links ->> 'linkedin' is not null and merged_into is null;
create index contact_identities_phone_tail on contact_identities (user_id, right(value, 8))
  where kind = 'phone';

-- Stats read a contact's messages; the unanswered check looks for a later outbound
-- message in the same thread.
create index activities_outbound_by_thread on activities (user_id, thread_key, occurred_at)
  where direction = 'outbound' and deleted_at is null and thread_key is not null;
