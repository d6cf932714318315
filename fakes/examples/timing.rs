//! Measures planning and rendering speed (median of three runs).
//!
//! Usage: `cargo run --release --example timing -- [plan_messages] [render_messages]`

use std::time::{Duration, Instant};

use fakes::mailbox::{Mailbox, MailboxSpec};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let plan_n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let render_n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);

    let plans = (0..3)
        .map(|_| {
            let started = Instant::now();
            let mailbox = Mailbox::generate(&MailboxSpec::demo(plan_n));
            let elapsed = started.elapsed();
            assert_eq!(mailbox.len(), plan_n);
            elapsed
        })
        .collect();
    println!("plan {plan_n}: median {:?}", median(plans));

    let mailbox = Mailbox::generate(&MailboxSpec::demo(render_n));
    let mut bytes = 0;
    let renders = (0..3)
        .map(|_| {
            let started = Instant::now();
            bytes = mailbox.messages().map(|m| m.raw.len()).sum::<usize>();
            started.elapsed()
        })
        .collect();
    println!(
        "render {render_n}: median {:?} ({} KiB total)",
        median(renders),
        bytes / 1024
    );
    let truth = mailbox.truth();
    println!(
        "truth: {} people, {} companies, {} bulk senders",
        truth.people.len(),
        truth.companies.len(),
        truth.bulk_senders.len()
    );
}
