//! The `/calendar` page's reads: the user's calendar events (logged interactions) and
//! the meetings synced from their CalDAV calendars, in one time range, by start.

use api::interactions::{CalendarItem, EventStatus, InteractionKind};
use chrono::{DateTime, Duration, Utc};

use crate::DomainError;
use crate::db::scopes::CalendarScope;
use crate::interactions::calendar::status_at;

/// Most items one range returns.
const MAX_ITEMS: i64 = 1_000;
/// The longest range one read covers.
pub const MAX_RANGE_DAYS: i64 = 92;

impl CalendarScope<'_> {
    /// Everything starting in `[from, to)`, by start. The range is cut to
    /// [`MAX_RANGE_DAYS`].
    pub async fn between(
        self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarItem>, DomainError> {
        let to = to.min(from + Duration::days(MAX_RANGE_DAYS));
        let rows = sqlx::query!(
            r#"select * from (
                 select e.id as "id!", e.title as "title!", e.start_time as "starts_at!",
                        e.end_time as "ends_at?", e.all_day as "all_day!", e.status as "status!",
                        e.event_type as "kind!", e.location as "location?",
                        c.id as "contact_id?", c.display_name as "contact_name?",
                        co.id as "company_id?", coalesce(co.name, co.domain) as "company_name?",
                        false as "synced!"
                 from calendar_events e
                 left join interactions i on i.user_id = e.user_id and e.related_table = 'interactions'
                                         and i.id = e.related_id
                 left join contacts c on c.user_id = e.user_id and c.id = i.contact_id
                 left join companies co on co.user_id = e.user_id and co.id = i.company_id
                 where e.user_id = $1 and e.start_time >= $2 and e.start_time < $3
                 union all
                 select a.id, coalesce(a.subject, 'Meeting'), ci.starts_at, ci.ends_at, ci.all_day,
                        case when ci.status = 'cancelled' then 'cancelled' else 'scheduled' end,
                        'meeting', ci.location, c.id, c.display_name, null, null, true
                 from caldav_instances ci
                 join activities a on a.user_id = ci.user_id and a.id = ci.activity_id
                 left join lateral (select p.contact_id from activity_participants p
                                    where p.user_id = a.user_id and p.activity_id = a.id
                                      and p.contact_id is not null
                                    order by p.role = 'organizer', p.address limit 1) p on true
                 left join contacts c on c.user_id = a.user_id and c.id = p.contact_id
                 where ci.user_id = $1 and ci.starts_at >= $2 and ci.starts_at < $3
                   and a.deleted_at is null
               ) items
               order by 3, 2
               limit $4"#,
            self.user.0,
            from,
            to,
            MAX_ITEMS,
        )
        .fetch_all(self.pool)
        .await?;
        let now = Utc::now();
        Ok(rows
            .into_iter()
            .map(|r| {
                let stored = EventStatus::parse(&r.status).unwrap_or(EventStatus::Scheduled);
                let status = if stored == EventStatus::Cancelled {
                    stored
                } else {
                    status_at(r.starts_at, r.ends_at, now)
                };
                let kind_label = if r.synced {
                    "Calendar meeting".to_owned()
                } else {
                    InteractionKind::parse(&r.kind)
                        .map(|k| k.label().to_owned())
                        .unwrap_or(r.kind)
                };
                CalendarItem {
                    id: r.id,
                    title: r.title,
                    starts_at: r.starts_at,
                    ends_at: r.ends_at,
                    all_day: r.all_day,
                    status,
                    kind_label,
                    location: r.location,
                    contact: r.contact_id.map(|id| {
                        (
                            id,
                            r.contact_name.unwrap_or_else(|| "Unnamed contact".into()),
                        )
                    }),
                    company: r
                        .company_id
                        .map(|id| (id, r.company_name.unwrap_or_default())),
                }
            })
            .collect())
    }
}
