-- Enrichment (domain::enrichment): what each provider returned for a contact, the field
-- values it contributed (all kept, so conflicting values stay as alternatives), the
-- X posts, each provider's daily budget, and when each contact is due for a lookup.

-- One row per provider lookup of a contact: the request key (an email, a domain, a
-- handle or the contact's id for the user's own data), the raw answer and its status.
create table enrichments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  contact_id uuid not null,
  provider text not null check (provider in ('calendar', 'messenger', 'colleagues',
    'people_data_labs', 'clearbit', 'x')),
  request_key text not null check (request_key <> ''),
  -- pending: the provider queued the lookup (Clearbit's 202) and is asked again later.
  status text not null check (status in ('found', 'not_found', 'error', 'pending')),
  raw jsonb not null default '{}',
  error text,
  fetched_at timestamptz not null default now(),
  expires_at timestamptz not null,
  unique (user_id, contact_id, provider, request_key),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade
);
create index enrichments_by_expiry on enrichments (expires_at);

-- Every value a provider gave for a field of a contact, with its confidence. The
-- contact's own columns hold the winning value (field_sources says which); the rest
-- are the alternatives the About section offers. `picked` marks the user's choice.
create table enrichment_values (
  user_id uuid not null,
  contact_id uuid not null,
  field text not null check (field in ('display_name', 'title', 'company', 'location',
    'bio', 'linkedin', 'twitter', 'website', 'company_website', 'company_industry',
    'company_size')),
  value text not null check (value <> ''),
  source text not null,
  request_key text not null,
  confidence real not null check (confidence between 0 and 1),
  fetched_at timestamptz not null,
  picked boolean not null default false,
  primary key (user_id, contact_id, field, source, request_key),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade
);

-- Recent posts of a contact's X account, for the About section and Ask.
create table enrichment_posts (
  user_id uuid not null,
  contact_id uuid not null,
  post_id text not null,
  handle text not null,
  text text not null,
  posted_at timestamptz not null,
  fetched_at timestamptz not null default now(),
  primary key (user_id, contact_id, post_id),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade
);
create index enrichment_posts_by_contact on enrichment_posts (user_id, contact_id, posted_at desc);

-- Lookups made per paid provider and UTC day, across all users: the operator's key
-- pays for them, so the budget is the installation's.
create table enrichment_budget (
  provider text not null,
  day date not null,
  used integer not null default 0 check (used >= 0),
  primary key (provider, day)
);

-- When each contact is due for enrichment: now when it is created or another contact is
-- merged into it, else when its earliest result expires. The scheduler queues a
-- `contact-enrichment` job for every due contact.
create table enrichment_due (
  user_id uuid not null,
  contact_id uuid not null,
  due_at timestamptz not null default now(),
  primary key (user_id, contact_id),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade
);
create index enrichment_due_by_time on enrichment_due (due_at);

-- A trigger, not a call in each path, because contacts are created in several places
-- (processing's batched inserts, the manual create, imports) and all must be enriched.
create function enrichment_contact_created() returns trigger language plpgsql as $$
begin
  insert into enrichment_due (user_id, contact_id) values (new.user_id, new.id)
  on conflict do nothing;
  return null;
end $$;
create trigger contacts_enrichment_created after insert on contacts
  for each row execute function enrichment_contact_created();

-- A merge moves the loser's results to the winner (they were looked up with the
-- loser's addresses, which the winner now has) and makes the winner due, so both sets
-- stay with their provenance and the winner is looked up with everything it now has.
create function enrichment_contact_merged() returns trigger language plpgsql as $$
begin
  delete from enrichments l using enrichments w
    where l.user_id = new.user_id and l.contact_id = new.id
      and w.user_id = new.user_id and w.contact_id = new.merged_into
      and w.provider = l.provider and w.request_key = l.request_key;
  update enrichments set contact_id = new.merged_into
    where user_id = new.user_id and contact_id = new.id;
  delete from enrichment_values l using enrichment_values w
    where l.user_id = new.user_id and l.contact_id = new.id
      and w.user_id = new.user_id and w.contact_id = new.merged_into
      and w.field = l.field and w.source = l.source and w.request_key = l.request_key;
  update enrichment_values set contact_id = new.merged_into
    where user_id = new.user_id and contact_id = new.id;
  insert into enrichment_posts (user_id, contact_id, post_id, handle, text, posted_at, fetched_at)
    select user_id, new.merged_into, post_id, handle, text, posted_at, fetched_at
    from enrichment_posts where user_id = new.user_id and contact_id = new.id
    on conflict do nothing;
  insert into enrichment_due (user_id, contact_id) values (new.user_id, new.merged_into)
    on conflict (user_id, contact_id) do update set due_at = now();
  return null;
end $$;
create trigger contacts_enrichment_merged after update of merged_into on contacts
  for each row when (old.merged_into is null and new.merged_into is not null)
  execute function enrichment_contact_merged();

-- Contacts that exist already are due once.
insert into enrichment_due (user_id, contact_id)
  select user_id, id from contacts where merged_into is null;
