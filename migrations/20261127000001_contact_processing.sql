-- Which correspondents become contacts, per connected account: 'sent' (people the user
-- has written to), 'everyone' (anyone mail was exchanged with) or 'nobody'.
alter table accounts add column contact_policy text not null default 'sent'
  check (contact_policy in ('sent', 'everyone', 'nobody'));

-- Wake idle activity processors (LISTEN rapport_activities) when activities become
-- claimable after an ingest. One notification per statement: a batch of 500 messages
-- sends one. Re-processing (policy change, a contact created later) notifies itself.
create function notify_activities_claimable() returns trigger language plpgsql as $$
begin
  perform pg_notify('rapport_activities', '');
  return null;
end $$;

create trigger activities_notify_inserted after insert on activities
  for each statement execute function notify_activities_claimable();
