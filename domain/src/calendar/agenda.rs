//! The `/calendar` page's reads: the user's calendar events (logged interactions) and
//! the meetings synced from their CalDAV calendars, in one time range, by start.

use api::interactions::{CalendarItem, EventStatus, InteractionKind, LocalTime};
use chrono::{Days, NaiveDate, NaiveTime, Utc};

use crate::DomainError;
use crate::db::scopes::CalendarScope;
use crate::interactions::calendar::status_at;
use crate::zone::UserZone;

/// Most items one range returns.
const MAX_ITEMS: i64 = 1_000;
/// The longest range one read covers.
pub const MAX_RANGE_DAYS: u64 = 92;

impl CalendarScope<'_> {
    /// Everything on the user's days `[from, to)` (on their clock; an all-day item by its
    /// date), by start. The range is cut to [`MAX_RANGE_DAYS`].
    pub async fn between(
        self,
        zone: UserZone,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<CalendarItem>, DomainError> {
        let to = to.min(from + Days::new(MAX_RANGE_DAYS));
        let rows = sqlx::query!(
            r#"select * from (
                 select e.id as "id!", e.title as "title!", e.start_time as "starts_at!",
                        e.event_date as "day!",
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
                 where e.user_id = $1
                   and case when e.all_day then e.event_date >= $5 and e.event_date < $6
                            else e.start_time >= $2 and e.start_time < $3 end
                 union all
                 select a.id, coalesce(a.subject, 'Meeting'), ci.starts_at,
                        (ci.starts_at at time zone 'UTC')::date, ci.ends_at, ci.all_day,
                        case when ci.status = 'cancelled' then 'cancelled' else 'scheduled' end,
                        'meeting', ci.location, c.id, c.display_name, null, null, true
                 from caldav_instances ci
                 join activities a on a.user_id = ci.user_id and a.id = ci.activity_id
                 left join lateral (select p.contact_id from activity_participants p
                                    where p.user_id = a.user_id and p.activity_id = a.id
                                      and p.contact_id is not null
                                    order by p.role = 'organizer', p.address limit 1) p on true
                 left join contacts c on c.user_id = a.user_id and c.id = p.contact_id
                 where ci.user_id = $1 and a.deleted_at is null
                   and case when ci.all_day
                            then (ci.starts_at at time zone 'UTC')::date >= $5
                                 and (ci.starts_at at time zone 'UTC')::date < $6
                            else ci.starts_at >= $2 and ci.starts_at < $3 end
               ) items
               order by 3, 2
               limit $4"#,
            self.user.0,
            zone.start_of(from),
            zone.start_of(to),
            MAX_ITEMS,
            from,
            to,
        )
        .fetch_all(self.pool)
        .await?;
        let now = Utc::now();
        Ok(rows
            .into_iter()
            .map(|r| {
                let stored = EventStatus::parse(&r.status).unwrap_or(EventStatus::Scheduled);
                // A synced all-day meeting is a date, not the user's day.
                let day_zone = if r.synced { UserZone::UTC } else { zone };
                let status = if stored == EventStatus::Cancelled {
                    stored
                } else {
                    status_at(r.starts_at, r.ends_at, now, day_zone)
                };
                let starts_local = if r.all_day {
                    LocalTime {
                        at: r.day.and_time(NaiveTime::MIN),
                        zone: zone.local(r.starts_at).zone,
                    }
                } else {
                    zone.local(r.starts_at)
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
                    starts_local,
                    ends_local: r.ends_at.filter(|_| !r.all_day).map(|end| zone.local(end)),
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
