//! Real servers for the JMAP and CalDAV tests, each started in its own temporary folder on
//! a free 127.0.0.1 port and stopped when dropped. `.ci/setup.sh` installs them.

pub mod cyrus;
pub mod radicale;
