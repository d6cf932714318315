-- The search document functions without sub-selects in the common case. Each
-- sub-select was an executor run of its own for every stored message: the participants'
-- document cost 34 µs per message and the content's 19 µs, most of it setting those runs
-- up, and during a Fastmail first sync PostgreSQL's CPU is what the mail server being
-- read goes without. Now 20 µs and 12 µs. Same documents: the participants' words in
-- the same order, the same lexemes (compared on 30,000 activities, and on every role,
-- a missing name, non-ASCII names, attachments inline or not, and non-array values).
create or replace function search_people_doc(roles text[], names text[], addresses text[])
returns tsvector
language plpgsql immutable parallel safe as $$
declare
  words text := '';
  lexemes text[] := '{}';
  w text;
begin
  for i in 1 .. coalesce(array_length(addresses, 1), 0) loop
    continue when addresses[i] is null;
    words := words || ' ' || coalesce(names[i], '') || ' ' || addresses[i] || ' '
             || array_to_string(search_party_words(addresses[i]), ' ');
    foreach w in array lower(addresses[i])
                       || search_party_words(coalesce(names[i], '') || ' ' || addresses[i]) loop
      if coalesce(roles[i], '') in ('from', 'organizer', 'participant') then
        lexemes := lexemes || ('f:' || w);
      end if;
      if coalesce(roles[i], '') not in ('from', 'organizer') then
        lexemes := lexemes || ('t:' || w);
      end if;
    end loop;
  end loop;
  return setweight(to_tsvector('simple', words), 'B') || array_to_tsvector(lexemes);
end
$$;

create or replace function search_content_doc(channel text, subject text, body text, attachments jsonb)
returns tsvector
language plpgsql immutable parallel safe as $$
declare
  files jsonb := case when jsonb_typeof(attachments) = 'array' then attachments else '[]' end;
begin
  if jsonb_array_length(files) = 0 then
    return setweight(to_tsvector('english', coalesce(subject, '')), 'A')
        || setweight(to_tsvector('english', left(coalesce(body, ''), 100000)), 'D')
        || array_to_tsvector(array['channel:' || channel]);
  end if;
  return setweight(to_tsvector('english', coalesce(subject, '')), 'A')
      || setweight(to_tsvector('english', left(coalesce(body, ''), 100000)), 'D')
      || setweight(to_tsvector('simple', coalesce(
           (select string_agg((e ->> 'filename') || ' '
                               || regexp_replace(e ->> 'filename', '[^[:alnum:]]+', ' ', 'g'), ' ')
            from jsonb_array_elements(files) e), '')), 'B')
      || array_to_tsvector(array['channel:' || channel]
           || case when exists (
                select 1 from jsonb_array_elements(files) e
                where e -> 'inline' is distinct from 'true'::jsonb)
              then array['has:attachment'] else '{}' end);
end
$$;
