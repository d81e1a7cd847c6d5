//! A grown volume's NVMe/TCP export tells its hosts the new size even when the pass that grew
//! it did not (a resize that failed, a worker killed between the `lvextend` and the resize):
//! the volume is marked before the `lvextend` and unmarked once the resize is done.

use super::*;
use crate::names::LvName;
use crate::reconcile::Action;
use crate::reconcile::exports::grown::Grown;

const HOSTNQN: &str = "nqn.2014-08.org.nvmexpress:uuid:aa";

fn nvme_setup() -> (tempfile::TempDir, SimLvm, crate::config::BackendConfig) {
    let (d, lvm, mut cfg) = setup();
    cfg.target.target_helper = "nvmet".into();
    cfg.target.target_protocol = "nvmet_tcp".into();
    cfg.target.target_port = 4420;
    (d, lvm, cfg)
}

fn yaml(size: &str) -> String {
    format!("{{ size: {size}, export: {{ hosts: [{HOSTNQN}] }} }}")
}

fn resizes(r: &PassReport) -> usize {
    r.outcome
        .iter()
        .flat_map(|o| &o.export_done)
        .filter(|a| matches!(a, ExportAction::Resize { .. }))
        .count()
}

fn revalidated(lvm: &SimLvm) -> Vec<std::path::PathBuf> {
    let subsystems = lvm.target_root().path.join("nvmet/subsystems");
    let mut found = vec![];
    for s in std::fs::read_dir(subsystems).unwrap().flatten() {
        for n in std::fs::read_dir(s.path().join("namespaces"))
            .unwrap()
            .flatten()
        {
            let f = n.path().join("revalidate_size");
            if std::fs::read_to_string(&f).is_ok_and(|t| t.trim() == "1") {
                found.push(f);
            }
        }
    }
    found
}

#[test]
fn a_resize_the_growing_pass_did_not_do_is_done_by_the_next() {
    let (_d, lvm, cfg) = nvme_setup();
    let r = pass(&lvm, &cfg, &yaml("8M"));
    assert!(r.ok(), "{r:?}");
    let grown = Grown::of("vg", &lvm.target_root());
    let v = LvName::new(VOL).unwrap();
    // grown, and its resize done in the same pass: nothing left marked
    let r = pass(&lvm, &cfg, &yaml("16M"));
    assert!(r.ok(), "{r:?}");
    assert_eq!(resizes(&r), 1, "{r:?}");
    assert_eq!(grown.read(), Vec::<LvName>::new());
    assert_eq!(revalidated(&lvm).len(), 1);
    for f in revalidated(&lvm) {
        std::fs::write(f, "0").unwrap();
    }
    // a worker killed after the lvextend of 16M -> 24M and before the resize leaves the mark
    grown.mark(&v).unwrap();
    let r = pass(&lvm, &cfg, &yaml("16M"));
    assert!(r.ok(), "{r:?}");
    let line = &r.plan.as_ref().unwrap().export_actions[0].line();
    assert!(line.starts_with("~ resize export of volume"), "{line}");
    assert_eq!(resizes(&r), 1);
    assert_eq!(revalidated(&lvm).len(), 1, "the namespace told again");
    assert_eq!(grown.read(), Vec::<LvName>::new(), "unmarked once done");
    let r = pass(&lvm, &cfg, &yaml("16M"));
    assert!(!r.plan.unwrap().has_changes(), "then nothing to do");
}

#[test]
fn a_mark_stays_until_the_resize_is_done_and_goes_with_the_export() {
    let (_d, lvm, cfg) = nvme_setup();
    let root = lvm.target_root();
    let grown = Grown::of("vg", &root);
    let v = LvName::new(VOL).unwrap();
    let resize = ExportAction::Resize {
        volume: v.clone(),
        transport: crate::reconcile::plan::export::Transport::NvmeTcp,
        target: "nqn.x".into(),
        portals: vec![],
    };
    let unexport = ExportAction::Unexport {
        volume: v.clone(),
        transport: crate::reconcile::plan::export::Transport::NvmeTcp,
        target: "nqn.x".into(),
        portals: vec![],
    };
    grown.mark(&v).unwrap();
    grown.mark(&v).unwrap();
    assert_eq!(grown.read(), vec![v.clone()]);
    super::super::grown::unmark_done(&cfg, &root, &[(resize.clone(), Err("failed".into()))]);
    assert_eq!(
        grown.read(),
        vec![v.clone()],
        "a failed resize: still marked"
    );
    super::super::grown::unmark_done(&cfg, &root, &[(resize, Ok(()))]);
    assert_eq!(grown.read(), Vec::<LvName>::new());
    grown.mark(&v).unwrap();
    super::super::grown::unmark_done(&cfg, &root, &[(unexport, Ok(()))]);
    assert_eq!(grown.read(), Vec::<LvName>::new(), "unexported: unmarked");
    grown.unmark(&v).unwrap();
}

#[test]
fn a_marked_volume_deleted_is_unexported_and_deleted_without_a_resize() {
    let (_d, lvm, cfg) = nvme_setup();
    let r = pass(&lvm, &cfg, "{ size: 8M, export: { hosts: [] } }");
    assert!(r.ok(), "{r:?}");
    let grown = Grown::of("vg", &lvm.target_root());
    grown.mark(&LvName::new(VOL).unwrap()).unwrap();
    let r = pass(&lvm, &cfg, "{ state: absent }");
    assert!(r.ok(), "{r:?}");
    assert_eq!(resizes(&r), 0, "{r:?}");
    assert!(!exists(&lvm));
    assert_eq!(
        grown.read(),
        Vec::<LvName>::new(),
        "unmarked with its unexport"
    );
}

#[test]
fn a_volume_grown_as_its_export_goes_is_not_resized() {
    let (_d, lvm, cfg) = nvme_setup();
    let r = pass(&lvm, &cfg, "{ size: 8M, export: { hosts: [] } }");
    assert!(r.ok(), "{r:?}");
    // grown, and no longer declared exported (no host on it): unexported, nothing to tell
    let r = pass(&lvm, &cfg, "{ size: 16M }");
    assert!(r.ok(), "{r:?}");
    assert_eq!(resizes(&r), 0, "{r:?}");
    let verbs: Vec<&str> = r
        .plan
        .as_ref()
        .unwrap()
        .export_actions
        .iter()
        .map(ExportAction::verb)
        .collect();
    assert_eq!(verbs, ["unexport"]);
    let grown = Grown::of("vg", &lvm.target_root());
    assert_eq!(grown.read(), Vec::<LvName>::new());
}

#[test]
fn a_resize_that_fails_leaves_its_mark_and_the_next_pass_does_it() {
    let (_d, lvm, cfg) = nvme_setup();
    let r = pass(&lvm, &cfg, &yaml("8M"));
    assert!(r.ok(), "{r:?}");
    // nvmet refuses the write (here: the attribute is a directory in the model)
    let subsystems = lvm.target_root().path.join("nvmet/subsystems");
    let sub = std::fs::read_dir(&subsystems)
        .unwrap()
        .flatten()
        .next()
        .unwrap();
    let attr = sub.path().join("namespaces/10/revalidate_size");
    let _ = std::fs::remove_file(&attr);
    std::fs::create_dir(&attr).unwrap();
    let r = pass(&lvm, &cfg, &yaml("16M"));
    assert!(!r.ok(), "{r:?}");
    let o = r.outcome.as_ref().unwrap();
    assert!(matches!(o.done[..], [Action::ExtendVolume { .. }]), "{o:?}");
    assert!(
        matches!(o.export_failed[..], [ref f] if matches!(f.action, ExportAction::Resize { .. })),
        "{o:?}"
    );
    let grown = Grown::of("vg", &lvm.target_root());
    assert_eq!(grown.read(), vec![LvName::new(VOL).unwrap()], "marked");
    // nvmet takes it again: the next pass, with nothing to extend, resizes
    std::fs::remove_dir(&attr).unwrap();
    let r = pass(&lvm, &cfg, &yaml("16M"));
    assert!(r.ok(), "{r:?}");
    assert!(r.outcome.as_ref().unwrap().done.is_empty());
    assert_eq!(resizes(&r), 1, "{r:?}");
    assert_eq!(grown.read(), Vec::<LvName>::new(), "unmarked");
}

#[test]
fn a_mark_of_a_volume_ember_does_not_export_goes_with_the_next_pass_that_changes_anything() {
    let (_d, lvm, cfg) = nvme_setup();
    let r = pass(&lvm, &cfg, "{ size: 8M }");
    assert!(r.ok(), "{r:?}");
    let grown = Grown::of("vg", &lvm.target_root());
    grown.mark(&LvName::new(VOL).unwrap()).unwrap();
    // nothing to resize: planned as nothing
    let r = pass(&lvm, &cfg, "{ size: 8M }");
    assert!(!r.plan.unwrap().has_changes());
    let r = pass(&lvm, &cfg, "{ state: absent }");
    assert!(r.ok(), "{r:?}");
    assert!(!exists(&lvm));
    assert_eq!(grown.read(), Vec::<LvName>::new());
}
