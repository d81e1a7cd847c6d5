//! Property tests on the configfs model: whatever the volumes, their owners, the exports
//! (ember's with any hosts, another tool's by name or by device) and the desired state, a plan
//! carried out through `reconcile::exports::apply` never changes another tool's target, never
//! deletes a volume still exported, and leaves nothing to do when planned again.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::lvm::TargetRoot;

const HOSTS: [&str; 3] = [HOST, HOST2, "iqn.1993-08.org.debian:01:compute3"];

#[derive(Debug, Clone)]
enum Exp {
    None,
    /// ember's, to these hosts (indices into HOSTS).
    Ours(Vec<usize>),
    /// another tool's target on this volume's device, under another name.
    TheirsByDevice,
    /// another tool's target under ember's name, on another device.
    TheirsByName,
}

#[derive(Debug, Clone)]
enum Want {
    Absent,
    Present,
    Exported(Vec<usize>),
}

fn vol() -> impl Strategy<Value = (bool, Exp, Want)> {
    let hosts = proptest::sample::subsequence(vec![0usize, 1, 2], 0..=3);
    (
        any::<bool>(),
        prop_oneof![
            Just(Exp::None),
            hosts.clone().prop_map(Exp::Ours),
            Just(Exp::TheirsByDevice),
            Just(Exp::TheirsByName),
        ],
        prop_oneof![
            Just(Want::Absent),
            Just(Want::Present),
            hosts.prop_map(Want::Exported),
        ],
    )
}

/// Every path under `dir` with what it holds (a file's text, a link's target).
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let key = p.display().to_string();
            if p.is_symlink() {
                out.insert(key, std::fs::read_link(&p).unwrap().display().to_string());
            } else if p.is_dir() {
                out.insert(key, "/".into());
                stack.push(p);
            } else {
                out.insert(key, std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn foreign_targets_untouched_and_exported_volumes_never_deleted(
        vols in proptest::collection::vec(vol(), 1..5)
    ) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("configfs");
        std::fs::create_dir(&root).unwrap();
        let state = d.path().join("state");
        std::fs::create_dir(&state).unwrap();
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut cfg = iscsi_cfg();
        cfg.state_dir = state;
        let mut lvs = vec![];
        let mut yaml = String::from("volumes:\n");
        let mut theirs = vec![];
        let mut in_use = vec![];
        for (i, (owned, exp, want)) in vols.iter().enumerate() {
            let name = format!("volume-{i}");
            lvs.push(if *owned { mine(&name) } else { foreign(&name) });
            match exp {
                Exp::None => {}
                Exp::Ours(h) => {
                    let hosts: Vec<&str> = h.iter().map(|i| HOSTS[*i]).collect();
                    export_iscsi(&root, &cfg, &name, &hosts);
                    if !h.is_empty() {
                        in_use.push(name.clone());
                    }
                }
                Exp::TheirsByDevice => {
                    let t = format!("iqn.2003-01.org.example:t{i}");
                    by_hand_at(&root, i, &t, &format!("/dev/vg/{name}"));
                    theirs.push(t);
                    in_use.push(name.clone());
                }
                Exp::TheirsByName => {
                    let t = iqn(&name);
                    by_hand_at(&root, i, &t, "/dev/other/x");
                    theirs.push(t);
                }
            }
            yaml += &match want {
                Want::Absent => format!("  {name}: {{ state: absent }}\n"),
                Want::Present => format!("  {name}: {{ size: 1G }}\n"),
                Want::Exported(h) => format!(
                    "  {name}: {{ size: 1G, export: {{ hosts: [{}] }} }}\n",
                    h.iter().map(|i| HOSTS[*i]).collect::<Vec<_>>().join(", ")
                ),
            };
        }
        let o = observed(lvs);
        let before: Vec<_> = theirs
            .iter()
            .map(|t| snapshot(&root.join("target/iscsi").join(t)))
            .collect();
        let p = run(&cfg, &yaml, &o, &root);
        for a in p.actions.iter().filter(|a| a.is_destructive()) {
            prop_assert!(!in_use.contains(&a.subject().to_string()), "deletes {} while exported: {p:?}", a.subject());
        }
        let tr = TargetRoot { path: root.clone(), modelled: true };
        let removals: Vec<_> = p.export_actions.iter().filter(|a| a.is_removal()).cloned().collect();
        let additions: Vec<_> = p.export_actions.iter().filter(|a| !a.is_removal()).cloned().collect();
        for (a, r) in crate::reconcile::exports::apply(&cfg, &tr, &removals) {
            prop_assert!(r.is_ok(), "{a:?}: {r:?}");
        }
        // what is deleted is exported by nothing any more
        let lio = crate::export::lio::read(&root).unwrap();
        for a in p.actions.iter().filter(|a| a.is_destructive()) {
            let dev = format!("/dev/vg/{}", a.subject());
            prop_assert!(!lio.backstores.iter().any(|b| b.device.as_deref() == Some(dev.as_str())));
        }
        for (a, r) in crate::reconcile::exports::apply(&cfg, &tr, &additions) {
            prop_assert!(r.is_ok(), "{a:?}: {r:?}");
        }
        let after: Vec<_> = theirs
            .iter()
            .map(|t| snapshot(&root.join("target/iscsi").join(t)))
            .collect();
        prop_assert_eq!(before, after);
        // carried out, nothing is left to do for the targets
        let again = run(&cfg, &yaml, &o, &root);
        prop_assert_eq!(again.export_actions, vec![]);
    }
}

/// [`by_hand`] with a backstore of its own (`iblock_<100+i>`).
fn by_hand_at(root: &Path, i: usize, iqn: &str, device: &str) {
    let bs = PathBuf::from(format!("target/core/iblock_{}/byhand", 100 + i));
    let tpg = PathBuf::from("target/iscsi").join(iqn).join("tpgt_1");
    sim::apply(
        root,
        &[
            Step::Mkdir(bs.clone()),
            Step::Write(bs.join("udev_path"), Value::Plain(device.into())),
            Step::Mkdir(tpg.join("lun/lun_0")),
            Step::Symlink {
                link: tpg.join("lun/lun_0/x"),
                target: bs,
            },
            Step::Mkdir(tpg.join("acls").join(HOST)),
        ],
    )
    .unwrap();
}
