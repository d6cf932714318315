-- Automatic duplicate merges and the user's "not the same person".
--
-- `rule` is set on merges processing made on its own (`api::MergeRule`); `reason` keeps
-- the explanation shown in the merge log. Manual merges have no rule.
alter table contact_merges add column rule text
  check (rule in ('name_and_phone', 'thread_addresses', 'new_address'));

-- Pairs of contacts the user said are different people: never merged automatically,
-- never suggested again. Stored once per pair, the smaller id first. Undoing an
-- automatic merge records its pair here too.
create table contact_distinct_pairs (
  user_id uuid not null,
  contact_a uuid not null,
  contact_b uuid not null,
  created_at timestamptz not null default now(),
  primary key (user_id, contact_a, contact_b),
  check (contact_a < contact_b),
  foreign key (user_id, contact_a) references contacts (user_id, id) on delete cascade,
  foreign key (user_id, contact_b) references contacts (user_id, id) on delete cascade
);
create index contact_distinct_pairs_by_b on contact_distinct_pairs (user_id, contact_b);
