//! Monthly email volume, sent vs received, as an inline SVG bar chart: rendered on the
//! server with fixed dimensions, so it needs no script and never shifts the layout.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One month of the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthBar {
    /// "2026-03"
    pub month: String,
    /// "Mar"
    pub label: String,
    pub sent: i64,
    pub received: i64,
}

/// How many months the chart shows, ending with the current one.
pub const CHART_MONTHS: u32 = 12;

/// The last [`CHART_MONTHS`] months up to `now`, filled from `series` (missing months
/// are zero).
#[cfg(feature = "ssr")]
pub fn chart_months(
    series: &[domain::contacts::MonthVolume],
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<MonthBar> {
    use chrono::{Datelike, Months, NaiveDate};
    let this_month = NaiveDate::from_ymd_opt(now.year(), now.month(), 1).unwrap_or_default();
    (0..CHART_MONTHS)
        .rev()
        .map(|back| {
            let month = this_month
                .checked_sub_months(Months::new(back))
                .unwrap_or(this_month);
            let key = month.format("%Y-%m").to_string();
            let found = series.iter().find(|m| m.month == key);
            MonthBar {
                label: month.format("%b").to_string(),
                sent: found.map_or(0, |m| m.sent),
                received: found.map_or(0, |m| m.received),
                month: key,
            }
        })
        .collect()
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const AXIS: f64 = 20.0;
const BAR: f64 = 16.0;

#[component]
pub fn VolumeChart(months: Vec<MonthBar>) -> impl IntoView {
    let max = months
        .iter()
        .map(|m| m.sent.max(m.received))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = WIDTH / months.len().max(1) as f64;
    let plot = HEIGHT - AXIS;
    let total_sent: i64 = months.iter().map(|m| m.sent).sum();
    let total_received: i64 = months.iter().map(|m| m.received).sum();
    let summary = format!(
        "Emails per month over the last {} months: {total_sent} sent, {total_received} received",
        months.len()
    );
    let bars = months
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let x = i as f64 * slot + (slot - 2.0 * BAR) / 2.0;
            let sent_h = plot * m.sent as f64 / max;
            let received_h = plot * m.received as f64 / max;
            view! {
                <g class="month" data-month=m.month.clone()>
                    <rect class="sent" x=format!("{x:.1}") y=format!("{:.1}", plot - sent_h) width=BAR height=format!("{sent_h:.1}")>
                        <title>{format!("{}: {} sent", m.month, m.sent)}</title>
                    </rect>
                    <rect class="received" x=format!("{:.1}", x + BAR) y=format!("{:.1}", plot - received_h) width=BAR height=format!("{received_h:.1}")>
                        <title>{format!("{}: {} received", m.month, m.received)}</title>
                    </rect>
                    <text x=format!("{:.1}", x + BAR) y=HEIGHT - 4.0 text-anchor="middle">{m.label}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="volume-chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") width="100%" height=HEIGHT role="img" aria-label=summary.clone()>
                <line x1="0" x2=WIDTH y1=plot y2=plot class="axis"/>
                {bars}
            </svg>
            <figcaption>
                <span class="legend sent">"Sent"</span>
                <span class="legend received">"Received"</span>
                <span class="muted">{summary}</span>
            </figcaption>
        </figure>
    }
}
