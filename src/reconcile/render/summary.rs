//! A plan's one-line count, as terraform prints one: `3 to create, 1 to grow, 2 to delete,
//! 1 refused`; per backend, and for all of them.

use crate::reconcile::plan::{Action, Plan};

/// How many of each kind a plan (or several) holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, schemars::JsonSchema, serde::Serialize)]
pub struct Counts {
    pub create: usize,
    pub grow: usize,
    pub delete: usize,
    /// Tags and activations: adoptions, claims, marks for a prune, activations; exports,
    /// attaches, detaches, unexports.
    pub change: usize,
    pub refused: usize,
}

impl Counts {
    pub fn of(plan: &Plan) -> Counts {
        let mut c = Counts {
            refused: plan.refused.len(),
            change: usize::from(plan.mark_vg),
            ..Counts::default()
        };
        for a in &plan.vg_actions {
            match a {
                crate::reconcile::plan::VgAction::CreateVg { .. } => c.create += 1,
                _ => c.grow += 1,
            }
        }
        for a in &plan.actions {
            match a {
                Action::CreatePool { .. }
                | Action::CreateVolume { .. }
                | Action::CreateSnapshot { .. }
                | Action::CreateFromSource { .. }
                | Action::RecreateVolume { .. } => c.create += 1,
                Action::ExtendPool { .. }
                | Action::ExtendPoolMetadata { .. }
                | Action::ExtendVolume { .. } => c.grow += 1,
                Action::DeleteVolume { .. } => c.delete += 1,
                _ => c.change += 1,
            }
        }
        c.change += plan.export_actions.len();
        c
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;
    fn add(self, o: Counts) -> Counts {
        Counts {
            create: self.create + o.create,
            grow: self.grow + o.grow,
            delete: self.delete + o.delete,
            change: self.change + o.change,
            refused: self.refused + o.refused,
        }
    }
}

impl std::fmt::Display for Counts {
    /// `3 to create, 1 to grow, 1 refused`; `nothing to do` when all are zero.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            (self.create, "to create"),
            (self.grow, "to grow"),
            (self.delete, "to delete"),
            (self.change, "to tag or activate"),
            (self.refused, "refused"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            f.write_str("nothing to do")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests;
