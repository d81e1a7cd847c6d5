//! Against `lvchange -v --activate y` of a thin volume its pool does not have, lvm2 2.03.16 in
//! the VM (tests/vm/forget-thin-devices.sh made it).
use super::*;

const POOL_ACTIVE: &str = "  Activating logical volume vg-half/half.
  activation/volume_list configuration setting not defined: Checking only host tags for vg-half/half.
  Creating vg--half-half
  Loading table for vg--half-vg--half--pool_tdata (253:1).
  Suppressed vg--half-vg--half--pool_tdata (253:1) identical table reload.
  Loading table for vg--half-vg--half--pool_tmeta (253:0).
  Suppressed vg--half-vg--half--pool_tmeta (253:0) identical table reload.
  Loading table for vg--half-vg--half--pool-tpool (253:2).
  Suppressed vg--half-vg--half--pool-tpool (253:2) identical table reload.
  Loading table for vg--half-half (253:6).
  device-mapper: reload ioctl on  (253:6) failed: No data available
  Removing vg--half-half (253:6)";

#[test]
fn the_failed_load_is_matched_to_its_device() {
    let vg = VgName::new("vg-half").unwrap();
    let half = dm_name(&vg, &LvName::new("half").unwrap());
    assert_eq!(half, "vg--half-half");
    assert!(own_table_refused(POOL_ACTIVE, &half));
    // another volume's activation that met it: not that volume's own device
    let other = dm_name(&vg, &LvName::new("other").unwrap());
    assert!(!own_table_refused(POOL_ACTIVE, &other));
    // the pool's own table refused (an unrelated ENODATA): not the volume's
    let pool_refused = POOL_ACTIVE
        .replace(
            "  Suppressed vg--half-vg--half--pool-tpool (253:2) identical table reload.\n",
            "  device-mapper: reload ioctl on  (253:2) failed: No data available\n",
        )
        .replace(
            "  device-mapper: reload ioctl on  (253:6) failed: No data available\n",
            "",
        );
    assert!(!own_table_refused(&pool_refused, &half));
    // another failure of its own load
    let other_error = POOL_ACTIVE.replace("No data available", "Invalid argument");
    assert!(!own_table_refused(&other_error, &half));
    // without -v's messages nothing can be told
    assert!(!own_table_refused(
        "  device-mapper: reload ioctl on  (253:6) failed: No data available",
        &half
    ));
    // a name lvm prints in the message (another version) changes nothing
    let named = POOL_ACTIVE.replace(
        "reload ioctl on  (253:6)",
        "reload ioctl on vg--half-half (253:6)",
    );
    assert!(own_table_refused(&named, &half));
    // names with dashes: vg "a-b", lv "c-d" is "a--b-c--d", never "a-b-c-d"'s
    let vg2 = VgName::new("a-b").unwrap();
    assert_eq!(dm_name(&vg2, &LvName::new("c-d").unwrap()), "a--b-c--d");
}
