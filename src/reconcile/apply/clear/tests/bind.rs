//! A deletion with a clear is bound to one LV throughout: the UUID the plan read is what the
//! clear proves the device against, what its tag is set on, and what `lvremove` removes.

use std::cell::RefCell;

use super::*;
use crate::lvm::clear::ClearTarget;
use crate::lvm::{LvRef, LvmError};
use crate::names::LvUuid;

/// The simulator, with another tool that removes the cleared LV and makes another under its
/// name right after the clear, before ember's `lvremove`; and what each write was bound to.
struct SwappedAfterClear<'a> {
    lvm: &'a SimLvm,
    bound: RefCell<Vec<(&'static str, LvRef)>>,
    cleared: RefCell<Vec<LvUuid>>,
}

impl SwappedAfterClear<'_> {
    /// What another tool does: `lvremove` and `lvcreate` of `name`, the new LV tagged as ember's
    /// with a marker, and holding a new tenant's data.
    fn swap(&self, vg: &VgName, name: &LvName) -> Result<(), LvmError> {
        let now = self
            .lvm
            .observe(vg)?
            .and_then(|o| o.lv(name).map(|l| l.reference()));
        if let Some(now) = now {
            self.lvm.remove(vg, &now)?;
        }
        let tags = [
            Tag::managed(),
            Tag::backend("lvm-1"),
            Tag::new("marker").unwrap(),
        ];
        self.lvm
            .create_volume(vg, name, Bytes(64 * M), None, &tags)?;
        edit(self.lvm, |s| {
            let l = s
                .vgs
                .get_mut("vg")
                .unwrap()
                .lvs
                .get_mut(name.as_str())
                .unwrap();
            l.data = vec![SimData {
                at: 0,
                text: "the new tenant".into(),
            }];
        });
        Ok(())
    }
}

impl crate::testkit::Forward for SwappedAfterClear<'_> {
    fn inner(&self) -> &dyn LvmWrite {
        self.lvm
    }
    fn change_tags(
        &self,
        vg: &VgName,
        lv: &LvRef,
        add: &[Tag],
        remove: &[Tag],
    ) -> Result<(), LvmError> {
        self.bound.borrow_mut().push(("change_tags", lv.clone()));
        self.lvm.change_tags(vg, lv, add, remove)
    }
    fn remove(&self, vg: &VgName, lv: &LvRef) -> Result<(), LvmError> {
        self.bound.borrow_mut().push(("remove", lv.clone()));
        self.lvm.remove(vg, lv)
    }
    fn clear(
        &self,
        vg: &VgName,
        target: &ClearTarget,
        stop: &AtomicBool,
        ready: &dyn Fn() -> Result<(), LvmError>,
        progress: &dyn Fn(u64),
    ) -> Result<(), LvmError> {
        self.cleared.borrow_mut().push(target.uuid.clone());
        self.lvm.clear(vg, target, stop, ready, progress)?;
        self.swap(vg, &target.lv)
    }
}

#[test]
fn the_tag_the_clear_and_the_removal_are_bound_to_the_uuid_planned() {
    let (_d, lvm) = sim();
    let c = cfg(ClearSettings::default());
    let (_, p) =
        crate::reconcile::observe_and_plan(&c, Some(&desired(GONE)), &lvm, &POLICY).unwrap();
    let vgn = VgName::new("vg").unwrap();
    let planned = lvm
        .observe(&vgn)
        .unwrap()
        .unwrap()
        .lv("gone")
        .unwrap()
        .reference();
    let tool = SwappedAfterClear {
        lvm: &lvm,
        bound: RefCell::new(vec![]),
        cleared: RefCell::new(vec![]),
    };
    let out = crate::reconcile::apply(
        &tool,
        &vgn,
        &p,
        None,
        Default::default(),
        &AtomicBool::new(false),
    );
    // the tag and the removal, each bound to the LV the clear proved
    assert_eq!(*tool.cleared.borrow(), std::slice::from_ref(&planned.uuid));
    assert_eq!(
        *tool.bound.borrow(),
        [
            ("change_tags", planned.clone()),
            ("remove", planned.clone())
        ]
    );
    // the LV given the name between the clear and the removal is not removed
    assert_eq!(out.failed.len(), 1, "{out:?}");
    assert!(
        out.failed[0].error.starts_with(&format!(
            "vg/gone is no longer the LV that was planned (uuid {})",
            planned.uuid
        )),
        "{out:?}"
    );
    let now = &vg(&lvm).lvs["gone"];
    assert_ne!(now.uuid, planned.uuid.as_str());
    assert_eq!(now.data.len(), 1, "the new tenant's data is untouched");
    assert!(now.tags.contains(&"marker".to_string()), "{:?}", now.tags);
    assert!(
        !now.tags.iter().any(|t| t.starts_with("ember-clearing")),
        "{:?}",
        now.tags
    );
}
