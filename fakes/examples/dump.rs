//! Writes a demo mailbox as `.eml` files plus `truth.json`, for eyeballing
//! the generated mail or feeding external tools.
//!
//! Usage: `cargo run --release --example dump -- <messages> <out-dir>`

use std::path::PathBuf;
use std::time::Instant;

use fakes::mailbox::{Mailbox, MailboxSpec};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "mailbox-dump".to_string()));
    std::fs::create_dir_all(&out)?;
    let started = Instant::now();
    let mailbox = Mailbox::generate(&MailboxSpec::demo(messages));
    eprintln!("planned {messages} messages in {:?}", started.elapsed());
    let started = Instant::now();
    for message in mailbox.messages() {
        let name = format!("{:07}-{}-{:?}.eml", message.index, message.id, message.kind);
        std::fs::write(out.join(name), &message.raw)?;
    }
    eprintln!("rendered in {:?}", started.elapsed());
    mailbox.write_truth(out.join("truth.json"))
}
