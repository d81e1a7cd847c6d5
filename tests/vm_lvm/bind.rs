//! Every write to an existing LV is bound to the LV the plan saw (its name and its UUID), on
//! real LVM: a plan made, then behind ember's back each LV it would change removed and made
//! again under the same name (with ember's tags and a marker), then that stale plan applied
//! (through ember's library, as a pass would, in the lvm shell and as one process per
//! command): lvm refuses every write by the UUID, each is reported failed, and the LVs made
//! again keep their data, size and tags. A fresh plan is then carried out by both paths.

use std::sync::atomic::AtomicBool;

use ember::lvm::{LvmOptions, LvmSpec, LvmWrite};
use ember::names::{LvName, VgName};
use ember::reconcile::{self, Action, Plan, Policy, apply::Options};

use super::common::vm::*;
use super::common::*;
use super::host;

const M: u64 = 1 << 20;
const VG: &str = "vg-bind";

fn lvm(shell: bool) -> Box<dyn LvmWrite + Send> {
    LvmSpec::Exec("lvm".into()).writer(&LvmOptions {
        lvm_conf_file: None,
        suppress_fd_warnings: false,
        read_timeout: std::time::Duration::from_secs(120),
        write_warn_after: std::time::Duration::from_secs(300),
        use_shell: shell,
        keep_shell: false,
        state_dir: None,
    })
}

fn cfg() -> ember::config::BackendConfig {
    let mut c = backend_config(true, 20.0);
    c.volume_group = VG.into();
    c
}

fn policy() -> Policy {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Policy {
        max_deletions_per_pass: 5,
        prune_grace: 600,
        now,
        confirmed: false,
    }
}

/// Reads the VG and plans `yaml` (backend `b`'s part of a desired state) as a pass would.
fn plan(lvm: &dyn LvmWrite, yaml: &str) -> Plan {
    let desired: ember::desired::BackendDesired = serde_yaml::from_str(yaml).unwrap();
    reconcile::observe_and_plan(&cfg(), Some(&desired), lvm, &policy())
        .unwrap()
        .1
}

/// Carries `plan` out as a pass would (in one batch: the lvm shell when `lvm` has one).
fn apply(lvm: &dyn LvmWrite, plan: &Plan) -> reconcile::Outcome {
    let vg = VgName::new(VG).unwrap();
    let pool = LvName::new(&format!("{VG}-pool")).unwrap();
    lvm.begin_batch();
    let out = reconcile::apply(
        lvm,
        &vg,
        plan,
        Some(&pool),
        Options::default(),
        &AtomicBool::new(false),
    );
    lvm.end_batch();
    out
}

/// What the plan does, in a stable order.
fn verbs(plan: &Plan) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = plan
        .actions
        .iter()
        .map(|a| (a.verb().to_string(), a.subject().to_string()))
        .collect();
    v.sort();
    v
}

/// Removes `name` and makes another thin LV of the same name, size and tags (ember's, this
/// backend's) plus `marker`, with the marker's bytes written at its start: what a name re-used
/// by another tool between ember's read and its write looks like.
fn make_again(name: &str, marker: &std::path::Path) {
    run("lvremove", &["-q", "--yes", &format!("{VG}/{name}")]);
    run(
        "lvcreate",
        &[
            "-q",
            "--yes",
            "--type",
            "thin",
            "-V",
            "64M",
            "--thinpool",
            &format!("{VG}-pool"),
            "--addtag",
            "ember-managed",
            "--addtag",
            "ember-backend=b",
            "--addtag",
            "marker",
            "-n",
            name,
            VG,
        ],
    );
    run(
        "dd",
        &[
            &format!("if={}", marker.display()),
            &format!("of=/dev/{VG}/{name}"),
            "bs=1M",
            "oflag=direct",
            "status=none",
        ],
    );
}

const BEFORE: &str = "thin_pool: { size: 512M }\nprune: true\nvolumes:\n  x: { size: 64M }\n  y: { size: 64M }\n  z: { size: 64M }\n  w: { size: 64M }\n";
/// x deleted, z marked undeclared (a tag change), y and w kept.
const DELETES: &str =
    "prune: true\nvolumes:\n  x: { state: absent }\n  y: { size: 64M }\n  w: { size: 64M }\n";
/// y extended (a failed deletion holds back a pass's growth: a plan of its own).
const EXTENDS: &str = "prune: true\nvolumes:\n  x: { size: 64M }\n  y: { size: 128M }\n  z: { size: 64M }\n  w: { size: 64M }\n";

#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_a_stale_plan_never_touches_an_lv_made_again_under_the_planned_name() {
    require_sandboxed_vm();
    create_vg(VG);
    let s = host(
        &[("b", VG, "")],
        &format!("backends:\n  b:\n{}", indent(BEFORE)),
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let marker = s.write(
        "marker",
        &"marker-of-the-other-lv\n".repeat(45_591)[..M as usize],
    );

    let (shell, process) = (lvm(true), lvm(false));
    let stale = [plan(shell.as_ref(), DELETES), plan(shell.as_ref(), EXTENDS)];
    assert_eq!(
        verbs(&stale[0]),
        [
            ("delete_volume".to_string(), "x".to_string()),
            ("mark_volume".into(), "z".into()),
        ],
        "{stale:?}"
    );
    assert_eq!(
        verbs(&stale[1]),
        [("extend_volume".to_string(), "y".to_string())]
    );
    for name in ["x", "y", "z"] {
        make_again(name, &marker);
    }
    let after_remake = lvs(VG);

    for (how, lvm) in [
        ("the lvm shell", &shell),
        ("a process per command", &process),
    ] {
        let out: Vec<reconcile::Outcome> = stale.iter().map(|p| apply(lvm.as_ref(), p)).collect();
        let failed: Vec<(&Action, &str)> = out
            .iter()
            .inspect(|o| assert!(o.done.is_empty() && o.skipped.is_empty(), "{how}: {o:?}"))
            .flat_map(|o| &o.failed)
            .map(|f| (&f.action, f.error.as_str()))
            .collect();
        assert_eq!(failed.len(), 3, "{how}: {out:?}");
        for (action, error) in failed {
            let name = action.subject().as_str();
            let uuid = action.target().unwrap().uuid;
            assert_eq!(
                error,
                format!(
                    "{VG}/{name} is no longer the LV that was planned (uuid {uuid}{}): nothing done; the next pass reads again",
                    // lvextend takes no selection: the UUID read right before it says what is there
                    if name == "y" {
                        format!(
                            "; now uuid {}",
                            lvs_rows(&format!("{VG}/y"), "lv_uuid", false)[0][0]
                        )
                    } else {
                        String::new()
                    }
                ),
                "{how}"
            );
        }
        assert_eq!(lvs(VG), after_remake, "{how}: nothing changed");
        for name in ["x", "y", "z"] {
            let l = lv(VG, name).unwrap();
            assert_eq!(
                (l.size, l.tags.as_str()),
                (64 * M, "ember-backend=b,ember-managed,marker"),
                "{how}: {l:?}"
            );
            run(
                "cmp",
                &[
                    "-n",
                    "1M",
                    marker.to_str().unwrap(),
                    &format!("/dev/{VG}/{name}"),
                ],
            );
        }
    }

    // planned afresh, the same writes are made, by either path: the bound commands work (and
    // what lvm says of them is understood) on real LVM
    let fresh = plan(process.as_ref(), DELETES);
    let out = apply(process.as_ref(), &fresh);
    assert!(out.ok() && out.done.len() == 2, "{out:?}");
    assert!(lv(VG, "x").is_none());
    assert!(
        lv(VG, "z")
            .unwrap()
            .tags
            .contains("ember-undeclared-since=")
    );
    // (z stays marked: its grace period runs)
    let fresh = plan(
        process.as_ref(),
        "prune: true\nvolumes:\n  y: { size: 128M }\n  w: { size: 64M }\n",
    );
    assert_eq!(
        verbs(&fresh),
        [("extend_volume".to_string(), "y".to_string())]
    );
    let out = apply(process.as_ref(), &fresh);
    assert!(out.ok(), "{out:?}");
    assert_eq!(lv(VG, "y").unwrap().size, 128 * M);
    let next =
        "prune: true\nvolumes:\n  y: { size: 192M }\n  z: { size: 64M }\n  w: { state: absent }\n";
    let fresh = plan(shell.as_ref(), next);
    assert_eq!(
        verbs(&fresh),
        [
            ("delete_volume".to_string(), "w".to_string()),
            ("extend_volume".into(), "y".into()),
            ("unmark_volume".into(), "z".into()),
        ]
    );
    let out = apply(shell.as_ref(), &fresh);
    assert!(out.ok() && out.done.len() == 3, "{out:?}");
    assert!(lv(VG, "w").is_none());
    assert_eq!(lv(VG, "y").unwrap().size, 192 * M);
    assert_eq!(
        lv(VG, "z").unwrap().tags,
        "ember-backend=b,ember-managed,marker"
    );
}

fn indent(yaml: &str) -> String {
    yaml.lines().map(|l| format!("    {l}\n")).collect()
}
