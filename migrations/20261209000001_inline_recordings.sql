-- A generic webhook may carry a recording's audio itself (`content_base64`): such a
-- recording has no URL, and its download job decodes the audio from the activity's
-- raw payload.
alter table call_recordings alter column source_url drop not null;
