-- `search_content_doc` and `search_people_doc` as PL/pgSQL. As SQL functions with
-- sub-selects they cannot be inlined, and a SQL function that is not inlined is parsed and
-- planned again by every statement that calls it: every webhook (one activity per
-- statement) paid both in PostgreSQL's parser and planner (a profile of the webhook
-- benchmark: PostgreSQL 73% of the CPU, led by parsing and plan copying). PL/pgSQL keeps the
-- expression's plan for the session. Same expressions, same documents.

create or replace function search_content_doc(channel text, subject text, body text, attachments jsonb)
returns tsvector
language plpgsql immutable parallel safe as $$
begin
  return setweight(to_tsvector('english', coalesce(subject, '')), 'A')
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
              then array['has:attachment'] else '{}' end);
end
$$;

create or replace function search_people_doc(roles text[], names text[], addresses text[])
returns tsvector
language plpgsql immutable parallel safe as $$
begin
  return setweight(to_tsvector('simple', coalesce(
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
         )), '');
end
$$;
