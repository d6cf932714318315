-- The tag menu of the contacts list. It read every tagged contact's tags on each page
-- load (`select distinct unnest(tags)`: 1.3 ms a page with 2,000 tagged contacts, the
-- largest single cost of the list at 100,000 contacts). One row per listed contact and
-- tag, in the menu's order, lets the menu be read one index descent per distinct tag.
--
-- Kept from `contact_stats` (whose `tags` and `listed` copy the contact's) by a trigger,
-- so no writer can forget it. Each contact owns its own rows: no row is shared between
-- contacts, so concurrent tagging, un-tagging and merges never race over whether a tag
-- is still used. No foreign key: the trigger removes a contact's rows when its stats row
-- goes (which a contact's or user's deletion cascades to), and a foreign key's cascade
-- would need a second index on this table only for that.
create table contact_tags (
  user_id uuid not null,
  tag text not null,
  contact_id uuid not null,
  primary key (user_id, tag, contact_id)
);

create function sync_contact_tags() returns trigger language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and old.listed then
    delete from contact_tags
     where user_id = old.user_id and tag = any(old.tags) and contact_id = old.contact_id;
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.listed then
    insert into contact_tags (user_id, tag, contact_id)
    select new.user_id, t, new.contact_id from unnest(new.tags) t
    on conflict do nothing;
  end if;
  return null;
end $$;

create trigger contact_stats_tags_inserted after insert on contact_stats
  for each row when (new.tags <> '{}')
  execute function sync_contact_tags();
create trigger contact_stats_tags_updated after update on contact_stats
  for each row
  when ((old.tags <> '{}' or new.tags <> '{}')
        and (old.tags is distinct from new.tags or old.listed is distinct from new.listed))
  execute function sync_contact_tags();
create trigger contact_stats_tags_deleted after delete on contact_stats
  for each row when (old.tags <> '{}')
  execute function sync_contact_tags();

insert into contact_tags (user_id, tag, contact_id)
select s.user_id, t, s.contact_id
  from contact_stats s, unnest(s.tags) t
 where s.listed and s.tags <> '{}'
on conflict do nothing;

-- Only the menu read this index.
drop index contact_list_tagged;
