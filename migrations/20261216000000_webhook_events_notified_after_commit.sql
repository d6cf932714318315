-- Webhook groups commit without holding the notify lock. The activities' insert trigger
-- records an `activity.state` event and sent NOTIFY rapport_events from inside the
-- transaction; a NOTIFY holds Postgres's database-wide notify lock until the commit is
-- flushed, so every webhook group's commit waited for the previous group's flush (more
-- writers stored no more webhooks, with a third of the CPU idle). A transaction that sets
-- `rapport.wake_later` (the webhook writer) still records the events here, and notifies
-- their owners itself after its commit (`processing::wake_after_commit`), as it already
-- did for the processors.
create or replace function publish_activities_stored() returns trigger language plpgsql as $$
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
    if current_setting('rapport.wake_later', true) is distinct from 'on' then
      perform pg_notify('rapport_events', owner::text);
    end if;
  end loop;
  return null;
end $$;
