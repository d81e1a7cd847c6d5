//! Exports on the guest kernel's real LIO iSCSI target and nvmet, with real initiators over
//! loopback (open-iscsi's iscsiadm, nvme-cli), in the systemd guest (tests/vm/run-tests
//! exports; tests/vm/setup-exports installs the initiators on the host, whose root the guest
//! sees; os-brick from tests/vm/setup-osbrick). Each test checks that data written through the
//! initiator is on the LV.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

#[path = "vm_exports/adopt.rs"]
mod adopt;
#[path = "vm_exports/adopt_nvme.rs"]
mod adopt_nvme;
mod common;
#[path = "vm_exports/daemon.rs"]
mod daemon;
#[path = "vm_exports/declared.rs"]
mod declared;
#[path = "vm_exports/half.rs"]
mod half;
#[path = "vm_exports/loopback.rs"]
mod loopback;
#[path = "vm_exports/osbrick.rs"]
mod osbrick;
#[path = "vm_exports/support.rs"]
mod support;
