-- Wake idle workers (LISTEN rapport_jobs) as soon as a job becomes queued: on enqueue,
-- on retry and when an expired lease is reclaimed. The payload is the job kind, so a
-- worker can ignore kinds it does not run. Notifications are sent at commit and
-- duplicates within a transaction collapse, so batch enqueues send one per kind.
create function notify_job_queued() returns trigger language plpgsql as $$
begin
  perform pg_notify('rapport_jobs', new.kind);
  return null;
end $$;

create trigger jobs_notify_queued after insert or update of state on jobs
  for each row when (new.state = 'queued') execute function notify_job_queued();
