//! ember on a host shaped like a real cinder host, inside the systemd guest and under the
//! sandbox of `units/ember.service` (tests/vm/run-tests host): cinder's own
//! `/etc/cinder/lvm.conf` present (so lvm runs with `LVM_SYSTEM_DIR=/etc/cinder`, as under
//! cinder-volume), thick and thin backends, other tools' snapshots, and local users other than
//! root (`cinder`, `alice`, `reader` in the group `ember-readers`), built by
//! `tests/vm/cinder-host`. Each test checks a promise that held on the hosts the other suites
//! build and broke on this one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

#[path = "vm_host/clear.rs"]
mod clear;
mod common;
#[path = "vm_host/cow.rs"]
mod cow;
#[path = "vm_host/local.rs"]
mod local;
#[path = "vm_host/lvmconf.rs"]
mod lvmconf;
#[path = "vm_host/support.rs"]
mod support;
#[path = "vm_host/vg.rs"]
mod vg;
