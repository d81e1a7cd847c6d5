//! `ember daemon`: the supervisor and its workers (one process per backend).

mod backoff;
pub mod control;
mod instance;
pub mod ipc;
mod memory;
mod reload;
mod spawn;
pub mod supervisor;
pub mod systemd;
mod watch;
pub mod worker;
