-- Open conversation pages and the handoff banner update live: every change to a
-- Messenger / Instagram conversation is a `conversation.changed` event, written by
-- triggers in the changing transaction (as `activity.state` is for activities), so the
-- poll, the agent, the send and the user's own changes all announce themselves without
-- each remembering to.

create function publish_conversations_changed(owner uuid, ids jsonb) returns void
language plpgsql as $$
begin
  insert into events (user_id, kind, data, live)
  values (owner, 'conversation.changed', jsonb_build_object('conversation_ids', ids), true);
  perform pg_notify('rapport_events', owner::text);
end $$;

-- A poll stores a conversation's messages in one statement each: one event per user
-- and statement, not per message.
create function publish_messages_stored() returns trigger language plpgsql as $$
declare
  changed record;
begin
  for changed in
    select user_id, jsonb_agg(distinct conversation_id) as ids from inserted group by user_id
  loop
    perform publish_conversations_changed(changed.user_id, changed.ids);
  end loop;
  return null;
end $$;

create trigger meta_messages_publish_stored after insert on meta_messages
  referencing new table as inserted
  for each statement execute function publish_messages_stored();

-- A turn starts, is given its context, decides, and ends: each step shows in the log.
create function publish_turn_changed() returns trigger language plpgsql as $$
begin
  perform publish_conversations_changed(new.user_id, jsonb_build_array(new.conversation_id));
  return null;
end $$;

create trigger agent_turns_publish_changed after insert or update on agent_turns
  for each row execute function publish_turn_changed();

-- Status (a handoff sets pending), the toggle and the pause after a person's reply.
create function publish_conversation_changed() returns trigger language plpgsql as $$
begin
  perform publish_conversations_changed(new.user_id, jsonb_build_array(new.id));
  return null;
end $$;

create trigger meta_conversations_publish_changed after update on meta_conversations
  for each row
  when (old.status is distinct from new.status
        or old.ai_enabled is distinct from new.ai_enabled
        or old.paused_until is distinct from new.paused_until)
  execute function publish_conversation_changed();
