-- A chat message whose provider names no thread (Twilio SMS and WhatsApp, generic
-- webhooks without thread_id) now gets the key of the people it is between when it is
-- stored (`WebhookActivity::conversation_key`): `{channel}:{addresses sorted bytewise}`.
-- The messages stored before get the same key, so one chat reads as one thread by its
-- key alone.
update activities a
set thread_key = a.channel || ':' || sides.addresses
from (
  select activity_id,
         string_agg(distinct address, ',' order by address) as addresses
  from (select activity_id, address collate "C" as address
        from activity_participants
        where role in ('from', 'to')) p
  group by activity_id
) sides
where sides.activity_id = a.id
  and a.thread_key is null
  and a.channel in ('whatsapp', 'sms', 'messenger', 'instagram');
