//! The routing decision for one statement outside a transaction, and why.
//!
//! ```
//! use multidb_core::route::{decide, Reason, Target};
//! use multidb_core::context::TaskState;
//! use multidb_core::Access;
//!
//! let fresh = TaskState::Scoped { pinned: false, wrote: false };
//! assert_eq!(decide(Access::Read, fresh, true).target, Target::Replica);
//! assert_eq!(decide(Access::Write, fresh, true).reason, Reason::Write);
//! ```

use std::fmt;

use crate::Access;
use crate::context::TaskState;

/// Where a statement goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The primary (read-write) database.
    Primary,
    /// A replica, chosen by the policy.
    Replica,
}

/// Why a statement went where it went; a `tracing` field of every decision.
/// More reasons will come (causal reads, lag limits), hence `non_exhaustive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The statement may write (or could not be proven a plain read).
    Write,
    /// Inside a transaction, which always runs on the primary.
    Transaction,
    /// The task is pinned (`use_master`, `pin_this_task`, a pinned request).
    Pinned,
    /// A write already ran in this scope: read your own writes.
    ReadAfterWrite,
    /// A write ran recently outside any scope: read your own writes,
    /// process-wide, until the unscoped write window passes.
    RecentUnscopedWrite,
    /// There is no replica to read from.
    NoReplica,
    /// A plain read, sent to the replica the policy chose.
    Policy,
    /// A read retried elsewhere after its replica failed to connect.
    Fallback,
    /// Every replica failed to connect recently and is resting.
    Unhealthy,
}

impl Reason {
    /// Every reason, in a fixed order (for counters).
    pub const ALL: [Reason; 9] = [
        Reason::Write,
        Reason::Transaction,
        Reason::Pinned,
        Reason::ReadAfterWrite,
        Reason::RecentUnscopedWrite,
        Reason::NoReplica,
        Reason::Policy,
        Reason::Fallback,
        Reason::Unhealthy,
    ];

    /// The short lower-case name used in logs and counters.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Write => "write",
            Reason::Transaction => "transaction",
            Reason::Pinned => "pinned",
            Reason::ReadAfterWrite => "read_after_write",
            Reason::RecentUnscopedWrite => "recent_unscoped_write",
            Reason::NoReplica => "no_replica",
            Reason::Policy => "policy",
            Reason::Fallback => "fallback",
            Reason::Unhealthy => "unhealthy",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::Primary => "primary",
            Target::Replica => "replica",
        })
    }
}

/// A routing decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// Where the statement goes.
    pub target: Target,
    /// Why.
    pub reason: Reason,
}

impl Route {
    /// To the primary, for `reason`.
    pub const fn primary(reason: Reason) -> Self {
        Route {
            target: Target::Primary,
            reason,
        }
    }
}

/// Decide where a statement of kind `access` goes, for a task in `state`.
///
/// `replicas_usable` is whether any replica can take reads. For an unscoped
/// task the caller applies its own recent-write window first (see
/// [`Reason::RecentUnscopedWrite`]); this function only sees the task.
pub fn decide(access: Access, state: TaskState, replicas_usable: bool) -> Route {
    if access == Access::Write {
        return Route::primary(Reason::Write);
    }
    if let TaskState::Scoped { pinned, wrote } = state {
        if pinned {
            return Route::primary(Reason::Pinned);
        }
        if wrote {
            return Route::primary(Reason::ReadAfterWrite);
        }
    }
    if !replicas_usable {
        return Route::primary(Reason::NoReplica);
    }
    Route {
        target: Target::Replica,
        reason: Reason::Policy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: TaskState = TaskState::Scoped {
        pinned: false,
        wrote: false,
    };

    #[test]
    fn every_reason_is_listed_once_with_its_own_name() {
        let names: std::collections::HashSet<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), Reason::ALL.len());
    }

    #[test]
    fn writes_go_to_the_primary_whatever_the_state() {
        for state in [
            TaskState::Unscoped,
            FRESH,
            TaskState::Scoped {
                pinned: true,
                wrote: true,
            },
        ] {
            assert_eq!(
                decide(Access::Write, state, true),
                Route::primary(Reason::Write)
            );
        }
    }

    #[test]
    fn reads_follow_pin_then_written_then_replicas() {
        let pinned = TaskState::Scoped {
            pinned: true,
            wrote: true,
        };
        let wrote = TaskState::Scoped {
            pinned: false,
            wrote: true,
        };
        assert_eq!(decide(Access::Read, pinned, true).reason, Reason::Pinned);
        assert_eq!(
            decide(Access::Read, wrote, true).reason,
            Reason::ReadAfterWrite
        );
        assert_eq!(decide(Access::Read, FRESH, false).reason, Reason::NoReplica);
        assert_eq!(decide(Access::Read, FRESH, true).target, Target::Replica);
        assert_eq!(
            decide(Access::Read, TaskState::Unscoped, true).target,
            Target::Replica
        );
    }
}
