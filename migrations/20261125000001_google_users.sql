-- Users now sign in with Google: the local owner of the first version goes away.
delete from users where is_local_owner;
drop index users_single_local_owner;
alter table users drop column is_local_owner;
alter table users alter column google_subject set not null;
