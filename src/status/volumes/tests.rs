use super::*;
use crate::config::LvmType;
use crate::lvm::VgInfo;
use crate::reconcile::plan::{Policy, plan};
use crate::size::Bytes;
use crate::testkit::{backend, desired, lv};

const G: u64 = 1 << 30;
const NOW: u64 = 1_800_000_000;

fn observed(lvs: Vec<LvInfo>) -> Observed {
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 100 * G,
            free: 50 * G,
            extent_size: 4 << 20,
            ..Default::default()
        },
        lvs,
    }
}

fn policy() -> Policy {
    Policy {
        max_deletions_per_pass: 5,
        prune_grace: 600,
        now: NOW,
        confirmed: true,
    }
}

fn entry<'a>(l: &'a VolumeList, name: &str) -> &'a VolumeEntry {
    l.volumes
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("{name}: {l:#?}"))
}

/// A thin backend `b`: its pool, its `grow` (1 GiB, declared 2), `gone` (declared absent), a
/// snapshot of `grow` declared and not made, a new volume `new`, cinder's `cinder` (adopted),
/// another backend's `theirs`, a foreign inactive linear `x`, and a COW snapshot of `x`.
fn scene() -> (VolumeList, Plan) {
    let cfg = backend("b", LvmType::Thin);
    let mut x = lv("x", LvKind::Linear, G, None);
    x.active = false;
    let mut cow = lv("xcow", LvKind::CowSnapshot, G / 4, None);
    cow.origin = Some("x".into());
    let o = observed(vec![
        lv("vg-pool", LvKind::ThinPool, 40 * G, Some("b")),
        lv("grow", LvKind::Thin, G, Some("b")),
        lv("gone", LvKind::Thin, G, Some("b")),
        lv("cinder", LvKind::Thin, G, None),
        lv("theirs", LvKind::Thin, G, Some("c")),
        x,
        cow,
    ]);
    let d = desired(
        "adopt: true\nvolumes:\n  grow: {size: 2G}\n  gone: {state: absent}\n  new: {size: 3G}\n  cinder: {size: 1G}\nsnapshots:\n  _snapshot-1: {volume: grow}\n",
    );
    let p = plan(&cfg, &d, &o, &policy());
    (VolumeList::of(&cfg, Some(&d), &o, Some(&p), 7), p)
}

#[test]
fn each_lv_and_each_declared_one_not_made_with_what_the_plan_says_of_it() {
    let (l, p) = scene();
    assert!(p.refused.is_empty(), "{p:#?}");
    let names: Vec<&str> = l.volumes.iter().map(|v| v.name.as_str()).collect();
    // in name order; not the pool
    assert_eq!(
        names,
        [
            "_snapshot-1",
            "cinder",
            "gone",
            "grow",
            "new",
            "theirs",
            "x",
            "xcow"
        ]
    );
    assert_eq!(l.read_at, 7);
    let grow = entry(&l, "grow");
    assert_eq!(
        (grow.owner, grow.owner_backend.as_deref(), grow.declared),
        (Ownership::Ember, Some("b"), Declared::Present)
    );
    assert_eq!(
        (grow.pending.as_slice(), grow.target_size),
        (&[Change::Grow][..], Some(2 * G))
    );
    assert_eq!(grow.state_text(0), "active, pending grow to 2.0 GiB");
    let gone = entry(&l, "gone");
    assert_eq!(
        (gone.declared, gone.pending.as_slice()),
        (Declared::Absent, &[Change::Delete][..])
    );
    assert_eq!(
        gone.state_text(0),
        "active, declared absent, pending delete"
    );
    let new = entry(&l, "new");
    assert_eq!(
        (new.exists, new.active, new.owner),
        (false, None, Ownership::None)
    );
    assert_eq!((new.size, new.target_size), (Some(3 * G), Some(3 * G)));
    assert_eq!(new.state_text(0), "not created, pending create to 3.0 GiB");
    assert_eq!(new.owner_text(), "-");
    let snap = entry(&l, "_snapshot-1");
    assert_eq!(
        (snap.kind, snap.origin.as_deref()),
        (EntryKind::Snapshot, Some("grow"))
    );
    assert_eq!(snap.size, Some(G), "the origin's size");
    assert_eq!(snap.pending, [Change::Create]);
    let cinder = entry(&l, "cinder");
    assert_eq!(
        (cinder.owner, cinder.pending.as_slice()),
        (Ownership::Foreign, &[Change::Adopt][..])
    );
    assert_eq!(cinder.owner_text(), "not ember's");
    let theirs = entry(&l, "theirs");
    assert_eq!(
        (theirs.owner, theirs.declared),
        (Ownership::OtherBackend, Declared::Undeclared)
    );
    assert_eq!(theirs.owner_text(), "another backend's (c)");
    assert_eq!(
        theirs.state_text(0),
        "active",
        "undeclared says nothing of another's"
    );
    let x = entry(&l, "x");
    assert_eq!((x.kind, x.active), (EntryKind::Volume, Some(false)));
    let cow = entry(&l, "xcow");
    assert_eq!(cow.kind, EntryKind::CowSnapshot);
    assert_eq!(cow.state_text(0), "active, COW snapshot of x");
}

#[test]
fn adopted_refused_and_scheduled_as_the_tags_and_the_plan_say() {
    let cfg = backend("b", LvmType::Thin);
    let mut adopted = lv("cinder", LvKind::Thin, G, Some("b"));
    adopted.tags.push(crate::names::ADOPTED_TAG.into());
    let mut legacy = lv("legacy", LvKind::Thin, G, None);
    legacy.tags.push(crate::names::OWNERSHIP_TAG.into());
    let mut marked = lv("old", LvKind::Thin, G, Some("b"));
    marked
        .tags
        .push(format!("{}{}", crate::names::MARK_TAG_PREFIX, NOW - 100));
    let o = observed(vec![
        lv("vg-pool", LvKind::ThinPool, 10 * G, Some("b")),
        adopted,
        legacy,
        marked,
        lv("small", LvKind::Thin, 2 * G, Some("b")),
    ]);
    let d = desired(
        "prune: true\nvolumes:\n  cinder: {size: 1G}\n  legacy: {size: 1G}\n  small: {size: 1G}\n  huge: {size: 900G}\n",
    );
    let p = plan(&cfg, &d, &o, &policy());
    let l = VolumeList::of(&cfg, Some(&d), &o, Some(&p), 0);
    assert_eq!(entry(&l, "cinder").owner_text(), "adopted (b)");
    let legacy = entry(&l, "legacy");
    assert_eq!(
        (legacy.owner, legacy.pending.as_slice()),
        (Ownership::Legacy, &[Change::Claim][..])
    );
    let small = entry(&l, "small");
    assert_eq!(small.refused, ["shrink"]);
    assert_eq!(small.state_text(0), "active, refused (shrink)");
    let huge = entry(&l, "huge");
    assert_eq!(huge.refused, ["over_subscription"]);
    assert_eq!(
        huge.state_text(0),
        "not created, refused (over_subscription)"
    );
    let old = entry(&l, "old");
    assert_eq!(
        (old.declared, old.delete_at),
        (Declared::Undeclared, Some(NOW + 500))
    );
    assert_eq!(old.state_text(NOW), "active, undeclared, prune in 9 min");
    // a table a person reads: columns aligned, the header first
    let t = l.table(NOW);
    assert_eq!(
        t[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "SIZE", "STATE", "OWNER"]
    );
    let at = t[0].find("SIZE").unwrap();
    assert!(
        t[1..]
            .iter()
            .all(|r| r[at..].starts_with(|c: char| c.is_ascii_digit())),
        "{t:#?}"
    );
    assert!(t.iter().any(|r| r.contains(&Bytes(900 * G).to_string())));
}

#[test]
fn the_digest_changes_with_the_volumes_not_with_the_time_of_the_read() {
    let (mut l, _) = scene();
    let d = l.digest();
    l.read_at += 60;
    assert_eq!(l.digest(), d);
    l.volumes[0].active = Some(false);
    assert_ne!(l.digest(), d);
}

#[test]
fn another_tools_snapshots_as_real_lvm_reported_them() {
    // tests/fixtures/lvm/cow.json (src/lvm/kind.rs): COW snapshots of thick and thin volumes,
    // thin snapshots not named as cinder names them (inactive, skipped at activation)
    let o = crate::testkit::cow_fixture(None);
    let cfg = crate::testkit::cow_backend(LvmType::Thin);
    let l = VolumeList::of(&cfg, None, &o, None, 0);
    let state = |n: &str| entry(&l, n).state_text(0);
    assert_eq!(state("thick"), "active");
    assert_eq!(state("thicksnap"), "active, COW snapshot of thick");
    assert_eq!(state("thinsnap"), "inactive, made from thinv");
    assert_eq!(state("thinsnapcow"), "inactive, COW snapshot of thinsnap");
    assert_eq!(
        entry(&l, "thinsnap").kind,
        EntryKind::Volume,
        "not `_snapshot-`"
    );
    assert_eq!(entry(&l, "thincow").kind, EntryKind::CowSnapshot);
    assert!(l.volumes.iter().all(|v| v.owner == Ownership::Foreign));
    assert!(!l.volumes.iter().any(|v| v.name == "vgcow-pool"));
    assert_eq!(l.volumes.len(), 10);
}
