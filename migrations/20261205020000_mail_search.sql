-- Mail search (/search, the Ask tool `search_mail`): one full-text document per visible
-- activity, kept current by triggers in the transaction that writes the activity or its
-- participants (no nightly job), and indexed with the owner in the index's key.
--
-- A table of its own rather than a column of `activities`: processing rewrites
-- activities rows several times each (claims, leases, completion) and a large tsvector
-- in the row would be copied by every one of those updates; here a document is written
-- when the mail arrives and when its participants are stored.
--
-- The document, with the weights ts_rank reads:
--   A  subject, stemmed ('english')
--   B  participants' names and addresses and attachment names ('simple': names are not
--      words to stem, and a query word is matched both stemmed and as typed)
--   D  body text (or the snippet when the message has none), stemmed
-- and operator lexemes no text can produce (the parser splits on ':'):
--   'f:<word>' / 't:<word>'  every word and the whole address of a sender / recipient
--   'channel:<name>', 'has:attachment'
-- so `from:dana channel:email has:attachment contract` is one GIN lookup.

create extension if not exists btree_gin;

-- The words of a name or an address, as `from:` and `to:` values and the documents'
-- participant lexemes both split them (one definition, so the two always agree).
create function search_party_words(t text) returns text[]
language sql immutable parallel safe as $$
  select coalesce(array_agg(w), '{}')
  from regexp_split_to_table(lower(t), '[^[:alnum:]]+') w
  where w <> ''
$$;

-- `t` as one quoted tsquery lexeme (quotes doubled, backslashes escaped).
create function search_lexeme(t text) returns tsquery
language sql immutable parallel safe as $$
  select ('''' || replace(replace(t, '\', '\\'), '''', '''''') || '''')::tsquery
$$;

-- What the activity row itself contributes.
create function search_content_doc(channel text, subject text, body text, attachments jsonb)
returns tsvector
language sql immutable parallel safe as $$
  select setweight(to_tsvector('english', coalesce(subject, '')), 'A')
      || setweight(to_tsvector('english', left(coalesce(body, ''), 100000)), 'D')
      || setweight(to_tsvector('simple', coalesce(
           (select string_agg((e ->> 'filename') || ' '
                               || regexp_replace(e ->> 'filename', '[^[:alnum:]]+', ' ', 'g'), ' ')
            from jsonb_array_elements(case when jsonb_typeof(attachments) = 'array'
                                           then attachments else '[]' end) e), '')), 'B')
      || array_to_tsvector(array['channel:' || channel]
           || case when exists (
                select 1
                from jsonb_array_elements(case when jsonb_typeof(attachments) = 'array'
                                               then attachments else '[]' end) e
                where e -> 'inline' is distinct from 'true'::jsonb)
              then array['has:attachment'] else '{}' end)
$$;

-- What a set of participants (of one activity) contributes: names and addresses as
-- text, and the `from:` / `to:` lexemes.
create function search_people_doc(roles text[], names text[], addresses text[])
returns tsvector
language sql immutable parallel safe as $$
  select setweight(to_tsvector('simple', coalesce(
           (select string_agg(coalesce(n, '') || ' ' || a || ' '
                               || array_to_string(search_party_words(a), ' '), ' ')
            from unnest(names, addresses) p(n, a)), '')), 'B')
      || coalesce(array_to_tsvector((
           select array_agg(distinct prefix || w)
           from unnest(roles, names, addresses) p(r, n, a)
           cross join lateral unnest(case
               when r in ('from', 'organizer') then array['f:']
               when r = 'participant' then array['f:', 't:']
               else array['t:'] end) prefix
           cross join lateral unnest(array[lower(a)] || search_party_words(coalesce(n, '') || ' ' || a)) w
         )), '')
$$;

-- `a && b`, where a null side (nothing yet) is left out.
create function search_and(a tsquery, b tsquery) returns tsquery
language sql immutable parallel safe as $$ select coalesce(a && b, a, b) $$;

-- The whole tsquery of a parsed search (`domain::search::SearchQuery`): every word and
-- phrase stemmed ('english') or as typed ('simple'), a word that is only a stop word
-- left out, then the operators; all of it ANDed. Null when nothing is left.
create function search_tsquery(words text[], phrases text[], froms text[], tos text[],
                               channels text[], has_attachment boolean)
returns tsquery
language plpgsql immutable parallel safe as $$
declare
  q tsquery;
  one tsquery;
  w text;
  prefix text;
  words_of text[];
begin
  foreach w in array coalesce(words, '{}') loop
    if length(to_tsvector('english', w)) > 0 then
      q := search_and(q, plainto_tsquery('english', w) || plainto_tsquery('simple', w));
    end if;
  end loop;
  foreach w in array coalesce(phrases, '{}') loop
    if length(to_tsvector('english', w)) > 0 then
      q := search_and(q, phraseto_tsquery('english', w) || phraseto_tsquery('simple', w));
    end if;
  end loop;
  foreach prefix in array array['f:', 't:'] loop
    foreach w in array coalesce(case prefix when 'f:' then froms else tos end, '{}') loop
      -- An address is one lexeme; a name or a domain is all of its words.
      words_of := case when position('@' in w) > 0 then array[lower(w)]
                       else search_party_words(w) end;
      for i in 1 .. coalesce(array_length(words_of, 1), 0) loop
        q := search_and(q, search_lexeme(prefix || words_of[i]));
      end loop;
    end loop;
  end loop;
  one := null;
  foreach w in array coalesce(channels, '{}') loop
    one := coalesce(one || search_lexeme('channel:' || w), search_lexeme('channel:' || w));
  end loop;
  q := search_and(q, one);
  if coalesce(has_attachment, false) then
    q := search_and(q, search_lexeme('has:attachment'));
  end if;
  return q;
end
$$;

create table activity_search (
  activity_id uuid primary key,
  user_id uuid not null,
  occurred_at timestamptz not null,
  doc tsvector not null,
  foreign key (user_id, activity_id) references activities (user_id, id) on delete cascade
);

-- The visible activities of today, in one set-based pass (participants grouped once).
insert into activity_search (activity_id, user_id, occurred_at, doc)
select a.id, a.user_id, a.occurred_at,
       search_content_doc(a.channel, a.subject, coalesce(a.body_text, a.snippet), a.attachments)
         || coalesce(p.doc, '')
from activities a
left join (
  select activity_id,
         search_people_doc(array_agg(role), array_agg(display_name), array_agg(address)) as doc
  from activity_participants group by activity_id
) p on p.activity_id = a.id
where a.deleted_at is null and a.dismissed_at is null;

-- The user leads both keys: a search never reads another user's entries.
create index activity_search_doc on activity_search using gin (user_id, doc);
create index activity_search_by_user_time on activity_search (user_id, occurred_at desc);

-- New activities: one insert per statement (a sync chunk of hundreds of messages is one
-- set-based insert). Participants are written after their activity, so none exist yet.
create function activity_search_inserted() returns trigger
language plpgsql as $$
begin
  insert into activity_search (activity_id, user_id, occurred_at, doc)
  select n.id, n.user_id, n.occurred_at,
         search_content_doc(n.channel, n.subject, coalesce(n.body_text, n.snippet), n.attachments)
  from new_rows n
  where n.deleted_at is null and n.dismissed_at is null;
  return null;
end
$$;
create trigger activity_search_inserted after insert on activities
  referencing new table as new_rows
  for each statement execute function activity_search_inserted();

-- New participants add their names and `from:` / `to:` lexemes to the document.
create function activity_search_people() returns trigger
language plpgsql as $$
begin
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
create trigger activity_search_people after insert on activity_participants
  referencing new table as new_rows
  for each statement execute function activity_search_people();

-- A changed subject or body (a CalDAV event edited at the source), a deletion at the
-- source, a dismissal or their undoing: the document is rebuilt, or removed while the
-- activity is hidden. Row by row, and only when one of those columns really changed
-- (a re-synced message sets `deleted_at = null` on every row it touches).
create function activity_search_changed() returns trigger
language plpgsql as $$
begin
  delete from activity_search where activity_id = new.id;
  if new.deleted_at is null and new.dismissed_at is null then
    insert into activity_search (activity_id, user_id, occurred_at, doc)
    select new.id, new.user_id, new.occurred_at,
           search_content_doc(new.channel, new.subject, coalesce(new.body_text, new.snippet),
                              new.attachments)
             || coalesce((
               select search_people_doc(array_agg(role), array_agg(display_name), array_agg(address))
               from activity_participants where activity_id = new.id), '');
  end if;
  return null;
end
$$;
create trigger activity_search_changed after update on activities
  for each row
  when (old.subject is distinct from new.subject
     or old.body_text is distinct from new.body_text
     or old.snippet is distinct from new.snippet
     or old.attachments is distinct from new.attachments
     or old.occurred_at is distinct from new.occurred_at
     or old.channel is distinct from new.channel
     or old.deleted_at is distinct from new.deleted_at
     or old.dismissed_at is distinct from new.dismissed_at)
  execute function activity_search_changed();
