//! Monthly email volume, sent vs received, as an inline SVG bar chart: rendered on the
//! server with fixed dimensions, so it needs no script and never shifts the layout.

use api::contacts::MonthBar;
use leptos::prelude::*;

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
