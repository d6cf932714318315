-- The contact page's activity timeline and file uploads.

-- An uploaded file is attached to a contact by the user, not matched by an address:
-- its participant row has address_kind 'contact' and the contact's id as address
-- (processing matches only email rows, so it never unlinks it; merges move it).
alter table activity_participants drop constraint activity_participants_address_kind_check;
alter table activity_participants add constraint activity_participants_address_kind_check
  check (address_kind in ('email', 'phone', 'handle', 'contact'));

-- Every new activity is announced to its user's open tabs: one `activity.state` event
-- per user and statement (a sync chunk of hundreds of messages is one event), in the
-- inserting transaction, so a tab never hears of an activity it cannot read yet.
create function publish_activities_stored() returns trigger language plpgsql as $$
declare
  owner uuid;
begin
  for owner in
    insert into events (user_id, kind, data)
    select user_id, 'activity.state',
           jsonb_build_object('state', 'raw', 'activity_ids', jsonb_agg(id order by id))
    from inserted group by user_id
    returning user_id
  loop
    perform pg_notify('rapport_events', owner::text);
  end loop;
  return null;
end $$;

create trigger activities_publish_stored after insert on activities
  referencing new table as inserted
  for each statement execute function publish_activities_stored();
