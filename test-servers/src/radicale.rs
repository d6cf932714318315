//! Radicale (CalDAV) in a virtual environment under `target/`.
