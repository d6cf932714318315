//! Writing what a batch changed ([`World`]) in a fixed number of set-based statements:
//! each contact, company and participation row is written at most once per batch.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::ProcessingError;
use super::queue::notify_claimable;
use super::world::{ContactState, World};
use crate::db::scopes::ProcessingScope;

impl ProcessingScope<'_> {
    pub(super) async fn flush(
        self,
        conn: &mut PgConnection,
        world: &World,
    ) -> Result<(), ProcessingError> {
        self.write_companies(conn, world).await?;
        self.write_contacts(conn, world).await?;
        self.write_identities(conn, world).await?;
        self.write_links(conn, world).await?;
        self.link_attached(conn, world).await
    }

    async fn write_companies(
        self,
        conn: &mut PgConnection,
        world: &World,
    ) -> Result<(), ProcessingError> {
        let (mut ids, mut domains, mut names, mut sources, mut new) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut companies: Vec<_> = world
            .companies
            .iter()
            .filter(|(_, c)| c.new || c.renamed)
            .collect();
        companies.sort_by(|a, b| a.0.cmp(b.0));
        for (domain, company) in companies {
            ids.push(company.id);
            domains.push(domain.clone());
            names.push(company.name.clone());
            sources.push(company.name_source.clone());
            new.push(company.new);
        }
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query!(
            r#"insert into companies (id, user_id, domain, name, name_source)
               select id, $1, domain, name, source
               from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[])
                 as v(id, domain, name, source, new)
               where new"#,
            self.user.0,
            &ids,
            &domains,
            &names as &[Option<String>],
            &sources as &[Option<String>],
            &new,
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            r#"update companies c set name = v.name, name_source = v.source
               from unnest($2::uuid[], $3::text[], $4::text[], $5::bool[])
                 as v(id, name, source, new)
               where c.user_id = $1 and c.id = v.id and not v.new"#,
            self.user.0,
            &ids,
            &names as &[Option<String>],
            &sources as &[Option<String>],
            &new,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// New contacts (with their final fields: their stats rows are created with them)
    /// in creation order, then the changed ones.
    async fn write_contacts(
        self,
        conn: &mut PgConnection,
        world: &World,
    ) -> Result<(), ProcessingError> {
        let mut created: Vec<(&Uuid, &ContactState)> = world
            .contacts
            .iter()
            .filter(|(_, c)| c.stored.is_none())
            .collect();
        created.sort_by_key(|(_, c)| c.created);
        let changed = world
            .contacts
            .iter()
            .filter(|(_, c)| c.stored.as_ref().is_some_and(|s| *s != c.fields));
        for (rows, new) in [(created, true), (changed.collect(), false)] {
            if rows.is_empty() {
                continue;
            }
            let mut ids = Vec::with_capacity(rows.len());
            let (mut names, mut titles, mut companies) = (Vec::new(), Vec::new(), Vec::new());
            let (mut links, mut sources) = (Vec::<Value>::new(), Vec::<Value>::new());
            for (id, c) in rows {
                ids.push(*id);
                names.push(c.fields.display_name.clone());
                titles.push(c.fields.title.clone());
                companies.push(c.fields.company_id);
                links.push(c.fields.links.clone());
                sources.push(c.fields.field_sources.clone());
            }
            if new {
                // One batch's contacts are equally old (`now()`, the transaction's start):
                // the order a batch happens to apply its mail in says nothing about who came
                // first, so merges break the tie by the earliest mail instead.
                sqlx::query!(
                    r#"insert into contacts (id, user_id, display_name, title, company_id, links,
                                             field_sources)
                       select id, $1, name, title, company, links, sources
                       from unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::jsonb[],
                                   $7::jsonb[]) with ordinality
                         as v(id, name, title, company, links, sources, n)
                       order by n"#,
                    self.user.0,
                    &ids,
                    &names as &[Option<String>],
                    &titles as &[Option<String>],
                    &companies as &[Option<Uuid>],
                    &links,
                    &sources,
                )
                .execute(&mut *conn)
                .await?;
            } else {
                sqlx::query!(
                    r#"update contacts c set display_name = v.name, title = v.title,
                              company_id = v.company, links = v.links, field_sources = v.sources
                       from unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::jsonb[],
                                   $7::jsonb[]) as v(id, name, title, company, links, sources)
                       where c.user_id = $1 and c.id = v.id"#,
                    self.user.0,
                    &ids,
                    &names as &[Option<String>],
                    &titles as &[Option<String>],
                    &companies as &[Option<Uuid>],
                    &links,
                    &sources,
                )
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }

    /// The batch's new email and phone identities in one statement (its trigger
    /// refreshes the contacts' search text once).
    async fn write_identities(
        self,
        conn: &mut PgConnection,
        world: &World,
    ) -> Result<(), ProcessingError> {
        if world.identities.is_empty() {
            return Ok(());
        }
        let (mut contacts, mut kinds, mut values, mut sources) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for identity in &world.identities {
            contacts.push(identity.contact);
            kinds.push(identity.kind.to_owned());
            values.push(identity.value.clone());
            sources.push(identity.source.to_owned());
        }
        sqlx::query!(
            r#"insert into contact_identities (user_id, contact_id, kind, value, source)
               select $1, contact, kind, value, source
               from unnest($2::uuid[], $3::text[], $4::text[], $5::text[])
                 as v(contact, kind, value, source)"#,
            self.user.0,
            &contacts,
            &kinds,
            &values,
            &sources,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Each activity's participations to their contacts; rows already linked to the
    /// same contact (re-processing) are not written again.
    async fn write_links(
        self,
        conn: &mut PgConnection,
        world: &World,
    ) -> Result<(), ProcessingError> {
        if world.links.is_empty() {
            return Ok(());
        }
        let (mut activities, mut addresses, mut contacts) = (Vec::new(), Vec::new(), Vec::new());
        for link in &world.links {
            activities.push(link.activity);
            addresses.push(link.address.clone());
            contacts.push(link.contact);
        }
        sqlx::query!(
            r#"update activity_participants p set contact_id = v.contact
               from unnest($2::uuid[], $3::text[], $4::uuid[]) as v(activity, address, contact)
               where p.user_id = $1 and p.activity_id = v.activity and p.address_kind = 'email'
                 and p.address = v.address and p.contact_id is distinct from v.contact"#,
            self.user.0,
            &activities,
            &addresses,
            &contacts,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Addresses that got a contact: every unlinked participation of them is linked,
    /// and completed activities outside the batch with such a participation are queued
    /// again (the batch's own are re-queued by the caller once they complete, see
    /// [`super::world::Outcome::requeue`]).
    async fn link_attached(
        self,
        conn: &mut PgConnection,
        world: &World,
    ) -> Result<(), ProcessingError> {
        if world.attached.is_empty() {
            return Ok(());
        }
        let (mut addresses, mut contacts, mut activities) = (Vec::new(), Vec::new(), Vec::new());
        for link in &world.attached {
            addresses.push(link.address.clone());
            contacts.push(link.contact);
            activities.push(link.activity);
        }
        let requeued = sqlx::query_scalar!(
            r#"with v as (
                 select * from unnest($2::text[], $3::uuid[], $4::uuid[])
                   as v(address, contact, activity)),
               -- Looked up by address in the address index: joined to the addresses as a
               -- set instead, Postgres chose to read every participation of the user
               -- twice (about 100 ms a batch at 20,000 messages).
               unlinked as materialized (
                 select p.activity_id, p.role, p.address
                 from activity_participants p
                 where p.user_id = $1 and p.address_kind = 'email' and p.address = any($2)
                   and p.contact_id is null),
               earlier as (
                 update activities a
                 set state = 'raw', attempts = 0, next_attempt_at = now(), last_error = null
                 from (select distinct u.activity_id from unlinked u
                       join v on v.address = u.address and u.activity_id <> v.activity) e
                 where a.user_id = $1 and a.id = e.activity_id and a.state = 'completed'
                 returning 1),
               linked as (
                 update activity_participants p set contact_id = v.contact
                 from unlinked u join v on v.address = u.address
                 where p.user_id = $1 and p.activity_id = u.activity_id and p.role = u.role
                   and p.address_kind = 'email' and p.address = u.address
                 returning 1)
               select (select count(*) from earlier) as "requeued!""#,
            self.user.0,
            &addresses,
            &contacts,
            &activities,
        )
        .fetch_one(&mut *conn)
        .await?;
        if requeued > 0 {
            notify_claimable(&mut *conn).await?;
        }
        Ok(())
    }
}
