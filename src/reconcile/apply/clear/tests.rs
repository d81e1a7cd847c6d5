//! A deletion with a clear, carried out on the simulator: its data (markers written into the
//! simulated LVs) is gone before the LV is removed, or nothing is removed.

use std::sync::atomic::AtomicBool;

use crate::config::{BackendConfig, ClearSettings, Ionice, LvmType, VolumeClear};
use crate::lvm::sim::{SimData, SimLvm, SimState, SimVg};
use crate::lvm::{LvmRead, LvmWrite};
use crate::names::{LvName, Tag, VgName};
use crate::reconcile::plan::Policy;
use crate::reconcile::{PassReport, Step, converge, converge_with};
use crate::size::Bytes;
use crate::testkit::desired;

const M: u64 = 1 << 20;
const POLICY: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 0,
    now: 1_800_000_000,
    confirmed: false,
};

fn cfg(clear: ClearSettings) -> BackendConfig {
    BackendConfig {
        volume_clear: clear,
        ..crate::testkit::backend("lvm-1", LvmType::Default)
    }
}

/// A thick VG with `keep` and `gone` (64 MiB each, this backend's), each holding tenant data at
/// its start and 32 MiB in.
fn sim() -> (tempfile::TempDir, SimLvm) {
    let d = tempfile::tempdir().unwrap();
    let lvm = SimLvm::open(&d.path().join("lvm.json"));
    let mut state = SimState::default();
    state.vgs.insert("vg".into(), SimVg::new(1 << 30));
    lvm.save(&state).unwrap();
    let vg = VgName::new("vg").unwrap();
    for name in ["keep", "gone"] {
        let tags = [Tag::managed(), Tag::backend("lvm-1")];
        lvm.create_volume(&vg, &LvName::new(name).unwrap(), Bytes(64 * M), None, &tags)
            .unwrap();
    }
    edit(&lvm, |s| {
        for l in s.vgs.get_mut("vg").unwrap().lvs.values_mut() {
            l.data = vec![
                SimData {
                    at: 0,
                    text: "secret-head".into(),
                },
                SimData {
                    at: 32 * M,
                    text: "secret-tail".into(),
                },
            ];
        }
    });
    (d, lvm)
}

fn edit(lvm: &SimLvm, f: impl FnOnce(&mut SimState)) {
    let mut s = lvm.load().unwrap();
    f(&mut s);
    lvm.save(&s).unwrap();
}

fn vg(lvm: &SimLvm) -> SimVg {
    lvm.load().unwrap().vgs["vg"].clone()
}

const GONE: &str = "volumes:\n  keep: {size: 64M}\n  gone: {state: absent}\n";

fn pass(c: &ClearSettings, yaml: &str, lvm: &SimLvm) -> PassReport {
    converge(
        &cfg(*c),
        Some(&desired(yaml)),
        lvm,
        &POLICY,
        &AtomicBool::new(false),
        &|| true,
    )
}

#[test]
fn the_data_is_gone_before_the_volume_and_nothing_is_left_on_its_extents() {
    let (_d, lvm) = sim();
    let quiet = ClearSettings {
        ionice: Some(Ionice::parse("-c3").unwrap()),
        ..ClearSettings::default()
    };
    let r = pass(&quiet, GONE, &lvm);
    assert!(r.ok(), "{r:?}");
    let v = vg(&lvm);
    assert!(!v.lvs.contains_key("gone"));
    assert!(v.freed.is_empty(), "left on freed extents: {:?}", v.freed);
    assert_eq!(v.clears.len(), 1);
    assert_eq!(
        (
            v.clears[0].lv.as_str(),
            v.clears[0].bytes,
            v.clears[0].ioprio
        ),
        ("gone", 64 * M, Some((3 << 13) | 7))
    );
    assert_eq!(v.lvs["keep"].data.len(), 2, "the other volume is untouched");
}

#[test]
fn without_a_clear_the_data_stays_on_the_freed_extents() {
    // what the simulator shows of a deletion without a clear (and of ember before volume_clear)
    let (_d, lvm) = sim();
    let none = ClearSettings {
        method: VolumeClear::None,
        ..ClearSettings::default()
    };
    let r = pass(&none, GONE, &lvm);
    assert!(r.ok(), "{r:?}");
    let v = vg(&lvm);
    assert!(!v.lvs.contains_key("gone") && v.clears.is_empty());
    assert_eq!(v.freed, ["gone: secret-head", "gone: secret-tail"]);
}

#[test]
fn volume_clear_size_clears_the_first_mib_only() {
    let (_d, lvm) = sim();
    let first = ClearSettings {
        size_mib: 1,
        ..ClearSettings::default()
    };
    assert!(pass(&first, GONE, &lvm).ok());
    let v = vg(&lvm);
    assert_eq!(v.clears[0].bytes, M);
    assert_eq!(v.freed, ["gone: secret-tail"]);
}

#[test]
fn a_clear_cut_short_leaves_the_volume_tagged_and_the_next_pass_finishes_it() {
    let (_d, lvm) = sim();
    edit(&lvm, |s| s.clear_error_at = Some(40 * M));
    let r = pass(&ClearSettings::default(), GONE, &lvm);
    assert!(!r.ok());
    let failed = &r.outcome.as_ref().unwrap().failed;
    assert_eq!(failed.len(), 1, "{r:?}");
    assert!(failed[0].error.contains("Input/output error"), "{failed:?}");
    let v = vg(&lvm);
    let gone = &v.lvs["gone"];
    // half cleared, tagged with its own uuid, not removed, nothing on freed extents
    assert!(
        gone.tags
            .contains(&format!("ember-clearing={}", gone.uuid_of("gone"))),
        "{:?}",
        gone.tags
    );
    assert_eq!(gone.data.len(), 0, "both markers were below 40 MiB");
    assert!(v.freed.is_empty());
    // the next pass, though the desired state now declares it again: cleared again, removed,
    // made again empty (a new LV)
    edit(&lvm, |s| s.clear_error_at = None);
    let r = pass(
        &ClearSettings::default(),
        "volumes:\n  keep: {size: 64M}\n  gone: {size: 64M}\n",
        &lvm,
    );
    assert!(r.ok(), "{r:?}");
    let text = crate::reconcile::render::plan_text(r.plan.as_ref().unwrap());
    assert!(text.contains("its clear was cut short"), "{text}");
    let v = vg(&lvm);
    assert_eq!(v.clears.len(), 1, "{:?}", v.clears);
    assert!(v.freed.is_empty(), "{:?}", v.freed);
    let again = &v.lvs["gone"];
    assert!(again.data.is_empty() && again.uuid != gone.uuid);
    assert!(!again.tags.iter().any(|t| t.starts_with("ember-clearing")));
}

#[test]
fn an_lv_given_the_name_since_the_plan_is_not_cleared() {
    let (_d, lvm) = sim();
    let c = cfg(ClearSettings::default());
    let d = desired(GONE);
    let (_, p) = crate::reconcile::observe_and_plan(&c, Some(&d), &lvm, &POLICY).unwrap();
    // between the read and the write, `gone` is replaced by another LV of that name
    let vgn = VgName::new("vg").unwrap();
    let gone = LvName::new("gone").unwrap();
    let now = lvm
        .observe(&vgn)
        .unwrap()
        .unwrap()
        .lv("gone")
        .unwrap()
        .reference();
    lvm.remove(&vgn, &now).unwrap();
    let tags = [Tag::managed(), Tag::backend("lvm-1")];
    lvm.create_volume(&vgn, &gone, Bytes(64 * M), None, &tags)
        .unwrap();
    edit(&lvm, |s| {
        let l = s.vgs.get_mut("vg").unwrap().lvs.get_mut("gone").unwrap();
        l.data = vec![SimData {
            at: 0,
            text: "the new tenant".into(),
        }];
    });
    let out = crate::reconcile::apply(
        &lvm,
        &vgn,
        &p,
        None,
        Default::default(),
        &AtomicBool::new(false),
    );
    assert_eq!(out.failed.len(), 1, "{out:?}");
    assert!(
        out.failed[0].error.contains("not the LV the plan deletes"),
        "{out:?}"
    );
    let v = vg(&lvm);
    assert_eq!(
        v.lvs["gone"].data.len(),
        1,
        "the new LV's data is untouched"
    );
    // nor tagged (the tag comes once the device is proven): the next pass does not delete it
    assert!(
        !v.lvs["gone"]
            .tags
            .iter()
            .any(|t| t.starts_with("ember-clearing")),
        "{:?}",
        v.lvs["gone"].tags
    );
    let (_, next) = crate::reconcile::observe_and_plan(
        &c,
        Some(&desired(
            "volumes:\n  keep: {size: 64M}\n  gone: {size: 64M}\n",
        )),
        &lvm,
        &POLICY,
    )
    .unwrap();
    assert!(!next.deletes(), "{next:?}");
}

#[test]
fn the_clear_tells_how_far_it_got_between_the_actions() {
    let (_d, lvm) = sim();
    let steps = std::sync::Mutex::new(vec![]);
    let r = converge_with(
        &cfg(ClearSettings::default()),
        Some(&desired(GONE)),
        &lvm,
        &POLICY,
        &AtomicBool::new(false),
        &|| true,
        &|s: &Step| steps.lock().unwrap().push(s.clone()),
        crate::reconcile::Confirm::Now,
    );
    assert!(r.ok(), "{r:?}");
    let steps = steps.into_inner().unwrap();
    let clearing: Vec<u64> = steps
        .iter()
        .filter_map(|s| s.clearing.as_ref().map(|c| c.percent()))
        .collect();
    // the simulator writes in quarters; each is a tenth or more
    assert_eq!(clearing, [0, 25, 50, 75, 100], "{steps:?}");
    assert!(
        steps.iter().any(|s| s
            .line
            .starts_with("~ clearing gone 16.0 MiB of 64.0 MiB (25%)")),
        "{steps:?}"
    );
    let last = steps.last().unwrap();
    assert!(
        last.clearing.is_none() && last.line.contains("[done]"),
        "{last:?}"
    );
    assert_eq!((last.done, last.total), (1, 1));
}

mod bind;
