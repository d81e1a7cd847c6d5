//! `ember daemon`: the supervisor and its workers (one process per backend).

pub mod control;
pub mod ipc;
pub mod supervisor;
pub mod systemd;
pub mod worker;
