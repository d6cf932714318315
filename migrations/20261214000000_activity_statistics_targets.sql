-- The statistics keeper (domain::db::statistics) analyzes `activities` every few seconds
-- while processing changes states, and at 20,000 messages one analyze took most of a
-- second: nearly all of it the wide columns that no query filters on (bodies, payloads,
-- headers, the processing record). They keep no statistics; the expression index on
-- the Message-ID header keeps its own.
alter table activities
  alter column body_text set statistics 0,
  alter column body_html set statistics 0,
  alter column raw_payload set statistics 0,
  alter column headers set statistics 0,
  alter column snippet set statistics 0,
  alter column attachments set statistics 0,
  alter column processed set statistics 0,
  alter column parse_problems set statistics 0,
  alter column last_error set statistics 0;
