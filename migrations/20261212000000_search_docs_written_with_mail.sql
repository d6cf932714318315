-- Mail writes its own search documents, once. The statement triggers build a message's
-- document in two steps: its content when the activity is inserted, then its
-- participants appended when they are (an UPDATE of every new row: a second tuple, its
-- GIN entries written again, the foreign key checked again). Per stored message that
-- was about 110 µs of PostgreSQL time of the 290 µs the whole write took, and during a
-- Fastmail first sync PostgreSQL's CPU is what the mail server goes without.
--
-- The mail ingest (`MailScope::store_emails`) inserts the activities, their
-- participants and their documents in one statement, the documents built from what
-- that statement wrote (the same functions, the same order), and says so for its
-- transaction with `rapport.search_docs_by_writer = 'on'`; both triggers then leave
-- that transaction's rows alone. Every other writer is unchanged.
create or replace function activity_search_inserted() returns trigger
language plpgsql as $$
begin
  if current_setting('rapport.search_docs_by_writer', true) = 'on' then
    return null;
  end if;
  insert into activity_search (activity_id, user_id, occurred_at, doc)
  select n.id, n.user_id, n.occurred_at,
         search_content_doc(n.channel, n.subject, coalesce(n.body_text, n.snippet), n.attachments)
  from new_rows n
  where n.deleted_at is null and n.dismissed_at is null;
  return null;
end
$$;

create or replace function activity_search_people() returns trigger
language plpgsql as $$
begin
  if current_setting('rapport.search_docs_by_writer', true) = 'on' then
    return null;
  end if;
  update activity_search s set doc = s.doc || p.doc
  from (
    select activity_id,
           search_people_doc(array_agg(role), array_agg(display_name), array_agg(address)) as doc
    from new_rows group by activity_id
  ) p
  where s.activity_id = p.activity_id;
  return null;
end
$$;
