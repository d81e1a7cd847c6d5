//! `ember daemon`: the supervisor and its workers (one process per backend).

mod backoff;
pub mod control;
pub mod ipc;
mod reload;
mod spawn;
pub mod supervisor;
pub mod systemd;
pub mod worker;
