-- The contacts list reads one table. Every filter and sort of the list (search, company,
-- tag, unanswered, last interaction, strength/recent/volume/name) is answered from
-- `contact_stats` alone, so a page is one index walk or one bitmap scan plus a top-N sort,
-- and only the 50 rows shown are joined to contacts and companies. With the filters
-- spread over contacts, identities and companies, a search matching a few thousand
-- people joined all of them before sorting (80-250 ms at 100,000 contacts).
--
-- The copied columns are kept by triggers, so no writer can forget them:
--   listed       the contact is not merged away (merged contacts keep their row, for un-merge)
--   name_key     lower(display_name), the name sort
--   company_id   contacts.company_id
--   tags         contacts.tags
--   search_text  lower(name, company name and domain, every email and phone), matched by
--                substring (trigram index) for 3+ characters, by word start below that;
--                cut at 500 characters so it fits in a btree index tuple
--
-- The monthly series (about 1 kB) moves out of line (toast_tuple_target), so a stats row
-- is about 150 bytes in the heap and a filtered scan reads a fifth of the pages.
alter table contact_stats
  add column listed boolean not null default true,
  add column name_key text,
  add column company_id uuid,
  add column tags text[] not null default '{}',
  add column search_text text not null default '';

alter table contact_stats set (toast_tuple_target = 256);

create function contact_search_text(p_user uuid, p_contact uuid) returns text
language sql stable as $$
  select left(lower(concat_ws(' ', c.display_name, co.name, co.domain,
           (select string_agg(ci.value, ' ' order by ci.value)
              from contact_identities ci
             where ci.user_id = c.user_id and ci.contact_id = c.id))), 500)
    from contacts c
    left join companies co on co.user_id = c.user_id and co.id = c.company_id
   where c.user_id = p_user and c.id = p_contact
$$;

create or replace function create_contact_stats_row() returns trigger language plpgsql as $$
begin
  insert into contact_stats (user_id, contact_id, listed, name_key, company_id, tags, search_text)
  values (new.user_id, new.id, new.merged_into is null, lower(new.display_name),
          new.company_id, new.tags, contact_search_text(new.user_id, new.id));
  return new;
end $$;

create function copy_contact_to_stats() returns trigger language plpgsql as $$
begin
  update contact_stats
     set listed = new.merged_into is null,
         name_key = lower(new.display_name),
         company_id = new.company_id,
         tags = new.tags,
         search_text = contact_search_text(new.user_id, new.id)
   where user_id = new.user_id and contact_id = new.id;
  return null;
end $$;
create trigger contacts_copy_to_stats after update on contacts
  for each row
  when (old.display_name is distinct from new.display_name
        or old.company_id is distinct from new.company_id
        or old.tags is distinct from new.tags
        or old.merged_into is distinct from new.merged_into)
  execute function copy_contact_to_stats();

-- Identities change in batches (processing inserts several, a merge moves them all): one
-- update per statement for every contact touched, before or after.
create function refresh_search_text_of_identities() returns trigger language plpgsql as $$
begin
  update contact_stats s
     set search_text = contact_search_text(s.user_id, s.contact_id)
   where (s.user_id, s.contact_id) in (
     select user_id, contact_id from changed_identities);
  return null;
end $$;
create trigger contact_identities_inserted_search after insert on contact_identities
  referencing new table as changed_identities
  for each statement execute function refresh_search_text_of_identities();
create trigger contact_identities_deleted_search after delete on contact_identities
  referencing old table as changed_identities
  for each statement execute function refresh_search_text_of_identities();
create trigger contact_identities_updated_search_old after update on contact_identities
  referencing old table as changed_identities
  for each statement execute function refresh_search_text_of_identities();
create trigger contact_identities_updated_search_new after update on contact_identities
  referencing new table as changed_identities
  for each statement execute function refresh_search_text_of_identities();

create function refresh_search_text_of_company() returns trigger language plpgsql as $$
begin
  update contact_stats s
     set search_text = contact_search_text(s.user_id, s.contact_id)
   where s.user_id = new.user_id and s.company_id = new.id;
  return null;
end $$;
create trigger companies_search after update on companies
  for each row
  when (old.name is distinct from new.name or old.domain is distinct from new.domain)
  execute function refresh_search_text_of_company();

update contact_stats s
   set listed = c.merged_into is null,
       name_key = lower(c.display_name),
       company_id = c.company_id,
       tags = c.tags,
       search_text = contact_search_text(c.user_id, c.id)
  from contacts c
 where c.user_id = s.user_id and c.id = s.contact_id;

drop index contact_stats_by_strength;
drop index contact_stats_by_recent;
drop index contact_stats_by_volume;
drop index contact_stats_unanswered;
drop index contacts_name_trgm;
drop index contact_identities_value_trgm;
drop index companies_name_trgm;
drop index contacts_by_tags;

-- The sort indexes carry the list's scalar columns, so paging and the scalar filters
-- (company, unanswered, last interaction) are index-only scans: a filter that keeps one
-- row in four, or page 20, reads index tuples, not stats rows. The two default sorts
-- also carry search_text: a search matching thousands walks the index until it has a
-- page (measured: 2,900 buffers read before, 600 after).
create index contact_list_by_strength on contact_stats (user_id, strength desc, contact_id)
  include (email_count, last_interaction_at, unanswered_inbound, company_id, search_text) where listed;
create index contact_list_by_recent on contact_stats (user_id, last_interaction_at desc nulls last, contact_id)
  include (strength, email_count, unanswered_inbound, company_id, search_text) where listed;
create index contact_list_by_volume on contact_stats (user_id, email_count desc, contact_id)
  include (strength, last_interaction_at, unanswered_inbound, company_id) where listed;
create index contact_list_by_name on contact_stats (user_id, name_key nulls last, contact_id)
  include (strength, email_count, last_interaction_at, unanswered_inbound, company_id) where listed;
create index contact_list_unanswered on contact_stats (user_id, strength desc, contact_id)
  include (email_count, last_interaction_at, unanswered_inbound, company_id)
  where listed and unanswered_inbound > 0;
create index contact_list_by_company on contact_stats (user_id, company_id, strength desc, contact_id)
  include (email_count, last_interaction_at, unanswered_inbound) where listed and company_id is not null;
create index contact_list_tagged on contact_stats (user_id) include (tags) where listed and tags <> '{}';
-- btree_gin puts the user id into the GIN indexes, so one user's search never reads
-- another's postings.
create extension if not exists btree_gin;
create index contact_list_by_tag on contact_stats using gin (user_id, tags) where listed;
create index contact_list_search on contact_stats using gin (user_id, search_text gin_trgm_ops)
  where listed;
