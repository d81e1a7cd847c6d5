use super::*;
use crate::lvm::LvRef;
use crate::lvm::sim::{SimLvm, SimState, SimVg};

/// The LV `name` as a plan would see it now (read by a handle of its own).
fn planned(path: &std::path::Path, vg: &VgName, name: &str) -> LvRef {
    SimLvm::open(path)
        .observe(vg)
        .unwrap()
        .unwrap()
        .lv(name)
        .unwrap()
        .reference()
}

fn pool_of(size: u64) -> PoolCreate {
    PoolCreate {
        size: Bytes(size),
        metadata: Bytes(8 << 20),
        chunk: Bytes(64 << 10),
    }
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf, VgName, LvName) {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("lvm.json");
    let sim = SimLvm::open(&path);
    let mut st = SimState::default();
    st.vgs.insert("vg".into(), SimVg::new(10 << 30));
    sim.save(&st).unwrap();
    let (vg, pool) = (VgName::new("vg").unwrap(), LvName::new("vg-pool").unwrap());
    sim.create_thin_pool(&vg, &pool, &pool_of(5 << 30), &[Tag::managed()])
        .unwrap();
    (d, path, vg, pool)
}

fn names(o: &Observed) -> Vec<String> {
    let mut n: Vec<String> = o.lvs.iter().map(|l| l.name.to_string()).collect();
    n.sort();
    n
}

#[test]
fn the_same_stamp_reads_nothing_and_any_change_is_read_in_full() {
    let (_d, path, vg, pool) = setup();
    let (sim, recall) = (SimLvm::open(&path), Recall::default());
    let lvm = Remembering {
        lvm: &sim,
        recall: &recall,
    };
    // the first read has nothing to compare with, the second stamps before it reads
    lvm.observe(&vg).unwrap();
    lvm.observe(&vg).unwrap();
    assert_eq!((sim.calls(), recall.reused()), (2, 0));
    let o = lvm.observe(&vg).unwrap().unwrap();
    assert_eq!((sim.calls(), recall.reused()), (2, 1));
    assert_eq!(names(&o), ["vg-pool"]);
    // another tool creates a volume: the next read is a full one and shows it
    let other = SimLvm::open(&path);
    let v = LvName::new("v1").unwrap();
    other
        .create_volume(&vg, &v, Bytes(1 << 30), Some(&pool), &[])
        .unwrap();
    let o = lvm.observe(&vg).unwrap().unwrap();
    assert_eq!(sim.calls(), 3);
    assert_eq!(names(&o), ["v1", "vg-pool"]);
    // and it is remembered again at once (stamped before that read)
    lvm.observe(&vg).unwrap();
    assert_eq!((sim.calls(), recall.reused()), (3, 2));
    // a tag removed outside, then a deactivation: each is seen
    other
        .change_tags(&vg, &planned(&path, &vg, "v1"), &[Tag::managed()], &[])
        .unwrap();
    assert!(
        lvm.observe(&vg)
            .unwrap()
            .unwrap()
            .lv("v1")
            .unwrap()
            .is_owned()
    );
    let mut st = other.load().unwrap();
    st.vgs
        .get_mut("vg")
        .unwrap()
        .lvs
        .get_mut("v1")
        .unwrap()
        .active = false;
    other.save(&st).unwrap();
    assert!(!lvm.observe(&vg).unwrap().unwrap().lv("v1").unwrap().active);
    assert_eq!(sim.calls(), 5);
}

#[test]
fn a_write_through_it_forgets_and_another_vg_is_not_mixed_up() {
    let (_d, path, vg, _) = setup();
    let (sim, recall) = (SimLvm::open(&path), Recall::default());
    let lvm = Remembering {
        lvm: &sim,
        recall: &recall,
    };
    lvm.observe(&vg).unwrap();
    lvm.observe(&vg).unwrap();
    // a write that changes nothing lvm reports still forgets the stamp (the write is a call)
    lvm.change_tags(&vg, &planned(&path, &vg, "vg-pool"), &[], &[])
        .unwrap();
    lvm.observe(&vg).unwrap();
    assert_eq!((sim.calls(), recall.reused()), (4, 0));
    // the memory is of one VG: another VG's read is a full one
    let mut st = sim.load().unwrap();
    st.vgs.insert("vg2".into(), SimVg::new(1 << 30));
    sim.save(&st).unwrap();
    let vg2 = VgName::new("vg2").unwrap();
    assert!(lvm.observe(&vg2).unwrap().unwrap().lvs.is_empty());
    assert_eq!(sim.calls(), 5);
}

#[test]
fn the_pool_check_refreshes_usage_and_a_different_pool_forgets() {
    let (_d, path, vg, pool) = setup();
    let (sim, recall) = (SimLvm::open(&path), Recall::default());
    let lvm = Remembering {
        lvm: &sim,
        recall: &recall,
    };
    lvm.observe(&vg).unwrap();
    lvm.observe(&vg).unwrap();
    // the pool fills (the kernel's figures: no metadata commit)
    let mut st = sim.load().unwrap();
    st.vgs
        .get_mut("vg")
        .unwrap()
        .lvs
        .get_mut("vg-pool")
        .unwrap()
        .data_percent = Some(80.0);
    sim.save(&st).unwrap();
    lvm.observe_pool(&vg, &pool).unwrap();
    let seen = |o: &Observed| o.lv("vg-pool").and_then(|l| l.data_percent);
    let fresh = seen(&sim.observe(&vg).unwrap().unwrap());
    assert_eq!(fresh, Some(80.0));
    // (the simulator's state file changed: the next read is full; then remembered)
    lvm.observe(&vg).unwrap();
    let o = lvm.observe(&vg).unwrap().unwrap();
    assert_eq!(seen(&o), fresh);
    assert!(recall.reused() >= 1);
    // a pool grown by another tool: forgotten, and read in full
    let calls = sim.calls();
    SimLvm::open(&path)
        .extend(&vg, &planned(&path, &vg, "vg-pool"), Bytes(6 << 30))
        .unwrap();
    lvm.observe_pool(&vg, &pool).unwrap();
    assert!(
        recall
            .memo
            .lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .stamp
            .is_none()
    );
    let o = lvm.observe(&vg).unwrap().unwrap();
    assert_eq!(o.lv("vg-pool").unwrap().size, 6 << 30);
    assert!(sim.calls() > calls + 1);
}

/// One process's read through a memory kept in `dir`: (full reads, reads from memory).
fn one_process(path: &std::path::Path, dir: &std::path::Path, vg: &VgName) -> (u64, u64) {
    let (sim, recall) = (SimLvm::open(path), Recall::kept(Keeper::in_run_dir(dir)));
    let lvm = Remembering {
        lvm: &sim,
        recall: &recall,
    };
    lvm.observe(vg).unwrap();
    (sim.calls(), recall.reused())
}

#[test]
fn a_kept_memory_serves_the_next_process_while_the_stamp_holds() {
    let (d, path, vg, pool) = setup();
    let run = d.path().join("run");
    // the first process has no stamp to keep, the second keeps the one read before its read
    assert_eq!(one_process(&path, &run, &vg), (1, 0));
    assert_eq!(one_process(&path, &run, &vg), (1, 0));
    assert_eq!(one_process(&path, &run, &vg), (0, 1));
    // kept where only this user can write
    use std::os::unix::fs::PermissionsExt;
    let kept = run.join("memory/vg.json");
    assert_eq!(
        std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // another tool's write: read in full, kept again
    SimLvm::open(&path)
        .create_volume(
            &vg,
            &LvName::new("v1").unwrap(),
            Bytes(1 << 30),
            Some(&pool),
            &[],
        )
        .unwrap();
    assert_eq!(one_process(&path, &run, &vg), (1, 0));
    assert_eq!(one_process(&path, &run, &vg), (0, 1));
    // a write through a remembering handle removes what is kept before it writes
    let (sim, recall) = (SimLvm::open(&path), Recall::kept(Keeper::in_run_dir(&run)));
    let lvm = Remembering {
        lvm: &sim,
        recall: &recall,
    };
    lvm.observe(&vg).unwrap();
    lvm.remove(&vg, &planned(&path, &vg, "v1")).unwrap();
    assert!(!kept.exists());
    let o = lvm.observe(&vg).unwrap().unwrap();
    assert_eq!(names(&o), ["vg-pool"]);
    assert_eq!(one_process(&path, &run, &vg), (0, 1));
}

/// Puts `good` back as the kept file (mode 0600, directories private) and checks that it is
/// used: every refusal below is then the refusal of that one thing.
fn restore(run: &std::path::Path, good: &[u8], path: &std::path::Path, vg: &VgName) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path, m| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode(run, 0o755);
    mode(&run.join("memory"), 0o700);
    let kept = run.join("memory/vg.json");
    std::fs::write(&kept, good).unwrap();
    mode(&kept, 0o600);
    assert_eq!(one_process(path, run, vg), (0, 1), "the good file is used");
}

#[test]
fn a_kept_memory_that_is_damaged_or_not_private_is_not_read() {
    use std::os::unix::fs::PermissionsExt;
    let (d, path, vg, _) = setup();
    // a second VG first (the simulator's stamp is its whole state)
    let sim = SimLvm::open(&path);
    let mut st = sim.load().unwrap();
    st.vgs.insert("vg2".into(), SimVg::new(1 << 30));
    sim.save(&st).unwrap();
    let run = d.path().join("run");
    one_process(&path, &run, &vg);
    one_process(&path, &run, &vg);
    assert_eq!(one_process(&path, &run, &vg), (0, 1));
    let kept = run.join("memory/vg.json");
    let good = std::fs::read(&kept).unwrap();
    let mode = |p: &std::path::Path, m| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    // half a file
    std::fs::write(&kept, &good[..good.len() / 2]).unwrap();
    assert_eq!(one_process(&path, &run, &vg), (1, 0));
    // a file others may write
    restore(&run, &good, &path, &vg);
    mode(&kept, 0o622);
    assert_eq!(one_process(&path, &run, &vg), (1, 0));
    // the directory others may write
    restore(&run, &good, &path, &vg);
    mode(&run.join("memory"), 0o777);
    assert_eq!(one_process(&path, &run, &vg), (1, 0));
    // run_dir itself others may write
    restore(&run, &good, &path, &vg);
    mode(&run, 0o777);
    assert_eq!(one_process(&path, &run, &vg), (1, 0));
    // a link in place of the directory is not followed (to a private copy, even)
    restore(&run, &good, &path, &vg);
    std::fs::rename(run.join("memory"), d.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(d.path().join("elsewhere"), run.join("memory")).unwrap();
    assert_eq!(one_process(&path, &run, &vg), (1, 0));
    std::fs::remove_file(run.join("memory")).unwrap();
    std::fs::rename(d.path().join("elsewhere"), run.join("memory")).unwrap();
    // nor a link in place of the file
    restore(&run, &good, &path, &vg);
    std::fs::rename(&kept, run.join("memory/copy")).unwrap();
    std::os::unix::fs::symlink(run.join("memory/copy"), &kept).unwrap();
    assert_eq!(one_process(&path, &run, &vg), (1, 0));
    std::fs::remove_file(&kept).unwrap();
    // another volume group's memory is not this one's (the same state: only the name differs)
    restore(&run, &good, &path, &vg);
    std::fs::write(run.join("memory/vg2.json"), &good).unwrap();
    let vg2 = VgName::new("vg2").unwrap();
    assert_eq!(one_process(&path, &run, &vg2), (1, 0));
}

/// The simulator, with a device that comes and goes during each full read (the kernel's
/// device event count moves; the state, so the stamp, is the same after as before).
struct Flickering {
    sim: SimLvm,
    events: std::cell::Cell<u64>,
}

impl crate::testkit::Forward for Flickering {
    /// Its reads are the simulator's; it writes nothing.
    fn inner(&self) -> &dyn LvmWrite {
        &crate::testkit::Refuse
    }
    fn observe(&self, vg: &VgName) -> Result<Option<Observed>, LvmError> {
        let o = self.sim.observe(vg);
        self.events.set(self.events.get() + 2);
        o
    }
    fn calls(&self) -> u64 {
        self.sim.calls()
    }
    fn stamp(&self, vg: &VgName, last: &Observed) -> Option<Stamp> {
        self.sim.stamp(vg, last)
    }
    fn device_events(&self) -> Option<u64> {
        Some(self.events.get())
    }
}

#[test]
fn a_read_during_which_a_device_came_and_went_is_not_vouched_for() {
    let (_d, path, vg, _) = setup();
    let lvm = Flickering {
        sim: SimLvm::open(&path),
        events: Default::default(),
    };
    let recall = Recall::default();
    let r = Remembering {
        lvm: &lvm,
        recall: &recall,
    };
    for _ in 0..4 {
        r.observe(&vg).unwrap();
    }
    assert_eq!((lvm.calls(), recall.reused()), (4, 0));
}
