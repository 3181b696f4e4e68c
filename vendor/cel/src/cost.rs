//! isms-lint patch (see ISMS-LINT-PATCH.md): a cost budget for evaluations, like the one
//! Kubernetes applies to CEL in admission policies.
//!
//! The interpreter charges a per-thread counter as it works: one unit per comprehension
//! iteration, one per function or operator call that builds a value (`f(x)`, `x.f()`, `+`,
//! `in`), plus the [`weight`] of the strings a call is given and of the strings or lists it
//! returns or scans. Functions registered by the application may charge more with [`charge`].
//!
//! Nothing is limited until [`start`] sets a budget on the thread. Once the count passes the
//! limit every further charge fails with [`ExecutionError::CostBudgetExceeded`], so loops stop
//! at their next iteration and no error a `||`, `&&` or `all()` absorbs can hide it:
//! [`exceeded`] stays true until the next [`start`] or [`stop`].

use std::cell::Cell;

use crate::common::types::{CelString, Kind};
use crate::common::value::Val;
use crate::ExecutionError;

struct Budget {
    spent: Cell<u64>,
    limit: Cell<u64>,
}

thread_local! {
    static BUDGET: Budget = const {
        Budget {
            spent: Cell::new(0),
            limit: Cell::new(u64::MAX),
        }
    };
}

/// Starts a budget of `limit` units on this thread: the count restarts at zero.
pub fn start(limit: u64) {
    BUDGET.with(|b| {
        b.spent.set(0);
        b.limit.set(limit);
    });
}

/// Ends the budget on this thread: nothing is limited (the count goes on).
pub fn stop() {
    BUDGET.with(|b| b.limit.set(u64::MAX));
}

/// Units charged on this thread since the last [`start`].
pub fn spent() -> u64 {
    BUDGET.with(|b| b.spent.get())
}

/// Sets the count back to `spent`, a value [`spent`] gave during the same budget: for running
/// one expression twice (with two evaluators) and charging it once.
pub fn rewind(spent: u64) {
    BUDGET.with(|b| b.spent.set(spent));
}

/// Whether the count has passed the limit since the last [`start`].
pub fn exceeded() -> bool {
    BUDGET.with(|b| b.spent.get() > b.limit.get())
}

/// Adds `units` to the count; fails once the count is past the limit.
#[inline]
pub fn charge(units: u64) -> Result<(), ExecutionError> {
    BUDGET.with(|b| {
        let spent = b.spent.get().saturating_add(units);
        b.spent.set(spent);
        let limit = b.limit.get();
        if spent > limit {
            Err(ExecutionError::CostBudgetExceeded(limit))
        } else {
            Ok(())
        }
    })
}

/// Bytes of a string that cost one unit, as Kubernetes' `StringTraversalCostFactor` (0.1).
pub const STRING_BYTES_PER_UNIT: u64 = 10;

/// What a value weighs: a unit per started [`STRING_BYTES_PER_UNIT`] bytes of a string, a unit
/// per item of a list, else nothing.
#[inline]
pub fn weight(value: &dyn Val) -> u64 {
    match value.get_type().kind() {
        Kind::String => value.downcast_ref::<CelString>().map_or(0, |s| {
            (s.inner().len() as u64).div_ceil(STRING_BYTES_PER_UNIT)
        }),
        Kind::List => value
            .as_sizer()
            .map_or(0, |s| u64::try_from(*s.size().inner()).unwrap_or(0)),
        _ => 0,
    }
}

/// Charges one call: one unit, plus the weight of its string arguments.
#[inline]
pub(crate) fn charge_call<'a>(
    args: impl Iterator<Item = &'a dyn Val>,
) -> Result<(), ExecutionError> {
    let mut units = 1;
    for arg in args {
        if arg.get_type().kind() == Kind::String {
            units += weight(arg);
        }
    }
    charge(units)
}
