//! The routing decision for one statement, and why: the whole rule table in
//! one pure function, [`decide`], and what one replica can do for a read in
//! another, [`replica_state`].
//!
//! The caller reads the facts once (what the statement is, the task's
//! state, what the read must see, which replicas it already tried), and
//! `decide` applies the rules in this order and nothing else does:
//!
//! 1. a transaction or a migration executor → the primary (`transaction`,
//!    `write`);
//! 2. a statement a replica refused as a write → the primary (`fallback`,
//!    remembered as a write);
//! 3. a statement that may write → the primary (`write`);
//! 4. a pinned task → the primary (`pinned`);
//! 5. a scope that wrote → the primary (`read_after_write`), unless causal
//!    reads decide instead (the read must see the scope's write position:
//!    replicas that have not reached it are [`ReplicaState::Behind`]);
//! 6. no scope and a recent unscoped write → the primary
//!    (`recent_unscoped_write`), unless causal reads decide, as in 5;
//! 7. no replica configured → the primary (`no_replica`);
//! 8. the scope's sticky replica when it is usable, else the policy's replica
//!    (a retry: the replica after the one that failed), else the next usable
//!    one in order (`policy`, or `fallback` when retrying); replicas already
//!    tried are skipped;
//! 9. no usable replica → the primary, with the reason of the best replica
//!    (`causal`, `lagging`, `not_replica`, `down`; `fallback` for a retry),
//!    or a refusal when the caller asked not to fall back to the primary.
//!
//! ```
//! use multidb_core::__private::{decide, Facts, Op, ReplicaState};
//! use multidb_core::{Access, Reason, Target};
//!
//! let read = Facts::new(Op::Statement(Access::Read), 2);
//! let route = decide(&read, || 0, |_| ReplicaState::Usable).unwrap();
//! assert_eq!((route.target, route.replica), (Target::Replica, Some(0)));
//!
//! // Replica 0 is down: the next one serves the read.
//! let route = decide(&read, || 0, |i| if i == 0 { ReplicaState::Down } else { ReplicaState::Usable });
//! assert_eq!(route.unwrap().replica, Some(1));
//!
//! let write = Facts::new(Op::Statement(Access::Write), 2);
//! assert_eq!(decide(&write, || 0, |_| ReplicaState::Usable).unwrap().reason, Reason::Write);
//! ```

use std::fmt;

use crate::Access;
use crate::causal::{MustSee, Positions};
use crate::context::plumbing::TaskState;

/// Where a statement goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The primary (read-write) database.
    Primary,
    /// A replica.
    Replica,
}

/// Why a statement went where it went; a `tracing` field of every decision
/// and a counter of [`stats`](https://docs.rs/multidb-seaorm).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The statement may write (or could not be proven a plain read).
    Write,
    /// A transaction, which always runs on the primary.
    Transaction,
    /// The task is pinned (`use_master`, `pin_this_task`, a pinned request).
    Pinned,
    /// A write already ran in this scope: read your own writes.
    ReadAfterWrite,
    /// A write ran recently outside any scope: read your own writes,
    /// process-wide, until the unscoped write window passes.
    RecentUnscopedWrite,
    /// There is no replica configured.
    NoReplica,
    /// A plain read, sent to the replica the policy chose (or the next
    /// usable one).
    Policy,
    /// A read retried elsewhere after its replica failed.
    Fallback,
    /// No replica can take the read: the usable ones are down.
    Down,
    /// No replica can take the read: they lag past the configured limit.
    Lagging,
    /// No replica can take the read: they are no longer replicas (promoted,
    /// or their replication stopped).
    NotReplica,
    /// No replica has reached the write position this read must see
    /// (causal reads).
    Causal,
}

impl Reason {
    /// Every reason, in a fixed order (the order of [`index`](Self::index)).
    pub const ALL: &'static [Reason] = &[
        Reason::Write,
        Reason::Transaction,
        Reason::Pinned,
        Reason::ReadAfterWrite,
        Reason::RecentUnscopedWrite,
        Reason::NoReplica,
        Reason::Policy,
        Reason::Fallback,
        Reason::Down,
        Reason::Lagging,
        Reason::NotReplica,
        Reason::Causal,
    ];

    /// How many reasons there are (`ALL.len()`), for counter arrays.
    pub const COUNT: usize = Reason::ALL.len();

    /// This reason's position in [`ALL`](Self::ALL), for counter arrays.
    ///
    /// ```
    /// use multidb_core::Reason;
    /// assert!(Reason::ALL.iter().enumerate().all(|(i, r)| r.index() == i));
    /// ```
    pub const fn index(self) -> usize {
        match self {
            Reason::Write => 0,
            Reason::Transaction => 1,
            Reason::Pinned => 2,
            Reason::ReadAfterWrite => 3,
            Reason::RecentUnscopedWrite => 4,
            Reason::NoReplica => 5,
            Reason::Policy => 6,
            Reason::Fallback => 7,
            Reason::Down => 8,
            Reason::Lagging => 9,
            Reason::NotReplica => 10,
            Reason::Causal => 11,
        }
    }

    /// The short lower-case name used in logs and counters.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Write => "write",
            Reason::Transaction => "transaction",
            Reason::Pinned => "pinned",
            Reason::ReadAfterWrite => "read_after_write",
            Reason::RecentUnscopedWrite => "recent_unscoped_write",
            Reason::NoReplica => "no_replica",
            Reason::Policy => "policy",
            Reason::Fallback => "fallback",
            Reason::Down => "down",
            Reason::Lagging => "lagging",
            Reason::NotReplica => "not_replica",
            Reason::Causal => "causal",
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

/// What is being routed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// One statement, classified.
    Statement(Access),
    /// Opening a transaction; a read-only one does not count as a write.
    Transaction {
        /// Opened `READ ONLY`.
        read_only: bool,
    },
    /// Handing the primary to code routing cannot see into (a migration).
    Executor,
}

/// What the router knows of one replica when a read is routed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplicaState {
    /// It can take reads.
    Usable,
    /// Unreachable, or failed just now; back once it answers again.
    Down,
    /// Lags past the configured limit.
    Lagging,
    /// Not a replica (any more): promoted, or its replication stopped.
    NotReplica,
    /// Healthy, but it has not reached the position this read must see.
    Behind,
}

impl ReplicaState {
    /// The reason reported when no replica is usable and this is the best
    /// state among them (see [`decide`]).
    const fn reason(self) -> Reason {
        match self {
            ReplicaState::Usable | ReplicaState::Down => Reason::Down,
            ReplicaState::Lagging => Reason::Lagging,
            ReplicaState::NotReplica => Reason::NotReplica,
            ReplicaState::Behind => Reason::Causal,
        }
    }

    /// Closer to usable is higher: a replica that is only behind says more
    /// about why the read went to the primary than one that is down.
    const fn rank(self) -> u8 {
        match self {
            ReplicaState::Usable => 4,
            ReplicaState::Behind => 3,
            ReplicaState::Lagging => 2,
            ReplicaState::NotReplica => 1,
            ReplicaState::Down => 0,
        }
    }
}

/// What the router knows of one replica, raw, when a read is routed: what
/// [`replica_state`] turns into a [`ReplicaState`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaFacts {
    /// The monitor's verdict (never [`ReplicaState::Behind`]).
    pub verdict: ReplicaState,
    /// Stamp of the last read that failed on it for a connection-level
    /// reason; 0 = none.
    pub failed_at: u64,
    /// Stamp at which the last probe that it answered started; 0 = none.
    pub answered_at: u64,
}

/// The router's clock and how it watches replicas, for [`replica_state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// Stamp now (milliseconds, any origin shared with the stamps).
    pub now: u64,
    /// A monitor watches the replicas.
    pub monitored: bool,
    /// Without a monitor: how long a replica whose read failed rests.
    pub rest: u64,
}

/// What replica `replica` can do for a read that must see `must_see`: the
/// one place that answers "is it usable, and why not".
///
/// A read that failed on it counts it down until the monitor has seen it
/// answer after the failure (or, without a monitor, for `clock.rest`). A
/// usable replica that has not reached what the read must see is
/// [`ReplicaState::Behind`]; `reached` is asked only then (it may read the
/// replica's known position).
pub fn replica_state(
    replica: ReplicaFacts,
    clock: Clock,
    must_see: &MustSee,
    reached: impl FnOnce(&Positions) -> bool,
) -> ReplicaState {
    if replica.failed_at != 0 {
        let still_down = if clock.monitored {
            replica.answered_at <= replica.failed_at
        } else {
            clock.now < replica.failed_at.saturating_add(clock.rest)
        };
        if still_down {
            return ReplicaState::Down;
        }
    }
    match replica.verdict {
        ReplicaState::Usable => {
            let has_it = match must_see {
                MustSee::Timed | MustSee::Nothing => true,
                MustSee::Unknowable => false,
                MustSee::Positions(positions) => reached(positions),
            };
            if has_it {
                ReplicaState::Usable
            } else {
                ReplicaState::Behind
            }
        }
        verdict => verdict,
    }
}

/// Every fact [`decide`] needs but the replicas' states and the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts<'a> {
    /// What is routed.
    pub op: Op,
    /// The current task's routing state.
    pub task: TaskState,
    /// What a read must see: [`MustSee::Timed`] for the timed rules (a
    /// scope that wrote reads the primary); anything else for causal reads
    /// (a scope that wrote reads replicas that reached its position, which
    /// `state_of` reports).
    pub must_see: &'a MustSee,
    /// A write outside any scope happened recently enough that unscoped
    /// reads must go to the primary.
    pub recent_unscoped_write: bool,
    /// How many replicas are configured.
    pub replicas: usize,
    /// The replica this scope read from last, tried first while usable
    /// (monotonic reads).
    pub sticky: Option<usize>,
    /// The replicas this read already failed on, in order (a retry).
    pub tried: &'a [usize],
    /// A replica refused the statement as a write: it did not run there.
    pub refused_as_write: bool,
    /// With no usable replica, send reads to the primary (`true`) or refuse.
    pub fallback_to_primary: bool,
}

impl Facts<'static> {
    /// The facts of `op` in a fresh, unscoped task over `replicas` replicas;
    /// set the other fields as needed.
    pub const fn new(op: Op, replicas: usize) -> Self {
        Facts {
            op,
            task: TaskState::Unscoped,
            must_see: &MustSee::Timed,
            recent_unscoped_write: false,
            replicas,
            sticky: None,
            tried: &[],
            refused_as_write: false,
            fallback_to_primary: true,
        }
    }
}

/// A routing decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Route {
    /// Where the statement goes.
    pub target: Target,
    /// Which replica, when `target` is [`Target::Replica`].
    pub replica: Option<usize>,
    /// Why.
    pub reason: Reason,
    /// The statement may write: read-your-writes must remember it.
    pub writes: bool,
}

impl Route {
    /// To the primary, for `reason`.
    pub const fn primary(reason: Reason) -> Self {
        Route {
            target: Target::Primary,
            replica: None,
            reason,
            writes: false,
        }
    }

    /// To replica `index`, for `reason`.
    pub const fn replica(index: usize, reason: Reason) -> Self {
        Route {
            target: Target::Replica,
            replica: Some(index),
            reason,
            writes: false,
        }
    }

    const fn writing(mut self) -> Self {
        self.writes = true;
        self
    }
}

/// No replica can take a read, and the caller asked not to fall back to the
/// primary; `reason` says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Why no replica could take it.
    pub reason: Reason,
}

/// Decide where `facts.op` goes. `pick` is the policy's choice, called only
/// when a replica is wanted and this is not a retry; `state_of(i)` says what
/// replica `i` can do (see [`replica_state`]), asked only for replicas not
/// yet tried.
///
/// Pure: the same facts give the same route. See the module docs for
/// the rules, in the order they apply.
pub fn decide(
    facts: &Facts<'_>,
    pick: impl FnOnce() -> usize,
    state_of: impl Fn(usize) -> ReplicaState,
) -> Result<Route, Refused> {
    let access = match facts.op {
        Op::Transaction { read_only } => {
            let route = Route::primary(Reason::Transaction);
            return Ok(if read_only { route } else { route.writing() });
        }
        Op::Executor => return Ok(Route::primary(Reason::Write).writing()),
        Op::Statement(access) => access,
    };
    if facts.refused_as_write {
        return Ok(Route::primary(Reason::Fallback).writing());
    }
    if access == Access::Write {
        return Ok(Route::primary(Reason::Write).writing());
    }
    let causal = facts.must_see.is_causal();
    match facts.task {
        TaskState::Scoped { pinned: true, .. } => return Ok(Route::primary(Reason::Pinned)),
        TaskState::Scoped { wrote: true, .. } if !causal => {
            return Ok(Route::primary(Reason::ReadAfterWrite));
        }
        TaskState::Unscoped if facts.recent_unscoped_write && !causal => {
            return Ok(Route::primary(Reason::RecentUnscopedWrite));
        }
        _ => {}
    }
    let count = facts.replicas;
    if count == 0 {
        return Ok(Route::primary(Reason::NoReplica));
    }
    let tried = facts.tried;
    let retry = !tried.is_empty();
    let chosen = if retry {
        Reason::Fallback
    } else {
        Reason::Policy
    };
    let state_of = |index: usize| {
        if tried.contains(&index) {
            ReplicaState::Down
        } else {
            state_of(index)
        }
    };
    if let Some(sticky) = facts.sticky.filter(|&i| i < count)
        && state_of(sticky) == ReplicaState::Usable
    {
        return Ok(Route::replica(sticky, chosen));
    }
    // A retry starts after the replica that failed, not at the policy's
    // next pick.
    let start = match tried.last() {
        Some(&last) => last.wrapping_add(1),
        None => pick(),
    } % count;
    let mut best = ReplicaState::Down;
    for index in (0..count).map(|step| (start + step) % count) {
        let state = state_of(index);
        if state == ReplicaState::Usable {
            return Ok(Route::replica(index, chosen));
        }
        if state.rank() > best.rank() {
            best = state;
        }
    }
    if retry {
        // The read already failed on a replica: the primary is its last
        // chance, whatever the setting.
        return Ok(Route::primary(Reason::Fallback));
    }
    if facts.fallback_to_primary {
        Ok(Route::primary(best.reason()))
    } else {
        Err(Refused {
            reason: best.reason(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReplicaState::{Behind, Down, Lagging, NotReplica, Usable};

    const FRESH: TaskState = TaskState::Scoped {
        pinned: false,
        wrote: false,
    };
    const PINNED: TaskState = TaskState::Scoped {
        pinned: true,
        wrote: false,
    };
    const WROTE: TaskState = TaskState::Scoped {
        pinned: false,
        wrote: true,
    };
    const READ: Op = Op::Statement(Access::Read);
    const WRITE: Op = Op::Statement(Access::Write);
    /// Causal reads on, nothing in particular to see: the replicas' states
    /// (from `replica_state`) say which ones have the scope's writes.
    const CAUSAL: MustSee = MustSee::Nothing;

    /// One row: the facts, the replicas' states, the policy's pick, and the
    /// expected target replica (None = primary), reason, and write flag.
    struct Row {
        name: &'static str,
        facts: Facts<'static>,
        states: &'static [ReplicaState],
        pick: usize,
        expect: Result<(Option<usize>, Reason, bool), Reason>,
    }

    fn facts(op: Op, task: TaskState, replicas: usize) -> Facts<'static> {
        Facts {
            task,
            ..Facts::new(op, replicas)
        }
    }

    #[test]
    fn the_rule_table() {
        const TWO: &[ReplicaState] = &[Usable, Usable];
        #[rustfmt::skip]
        let rows = [
            Row { name: "write", facts: facts(WRITE, FRESH, 2), states: TWO, pick: 0, expect: Ok((None, Reason::Write, true)) },
            Row { name: "write unscoped", facts: facts(WRITE, TaskState::Unscoped, 2), states: TWO, pick: 0, expect: Ok((None, Reason::Write, true)) },
            Row { name: "transaction", facts: facts(Op::Transaction { read_only: false }, FRESH, 2), states: TWO, pick: 0, expect: Ok((None, Reason::Transaction, true)) },
            Row { name: "read-only transaction", facts: facts(Op::Transaction { read_only: true }, FRESH, 2), states: TWO, pick: 0, expect: Ok((None, Reason::Transaction, false)) },
            Row { name: "executor", facts: facts(Op::Executor, FRESH, 2), states: TWO, pick: 0, expect: Ok((None, Reason::Write, true)) },
            Row { name: "pinned", facts: facts(READ, PINNED, 2), states: TWO, pick: 0, expect: Ok((None, Reason::Pinned, false)) },
            Row { name: "pinned beats wrote", facts: facts(READ, TaskState::Scoped { pinned: true, wrote: true }, 2), states: TWO, pick: 0, expect: Ok((None, Reason::Pinned, false)) },
            Row { name: "read after write", facts: facts(READ, WROTE, 2), states: TWO, pick: 1, expect: Ok((None, Reason::ReadAfterWrite, false)) },
            Row { name: "causal: wrote, replica 1 reached", facts: Facts { must_see: &CAUSAL, ..facts(READ, WROTE, 2) }, states: &[Behind, Usable], pick: 0, expect: Ok((Some(1), Reason::Policy, false)) },
            Row { name: "causal: none reached", facts: Facts { must_see: &CAUSAL, ..facts(READ, WROTE, 2) }, states: &[Behind, Down], pick: 0, expect: Ok((None, Reason::Causal, false)) },
            Row { name: "recent unscoped write", facts: Facts { recent_unscoped_write: true, ..facts(READ, TaskState::Unscoped, 2) }, states: TWO, pick: 0, expect: Ok((None, Reason::RecentUnscopedWrite, false)) },
            Row { name: "causal: unscoped write, replica 0 reached", facts: Facts { must_see: &CAUSAL, recent_unscoped_write: true, ..facts(READ, TaskState::Unscoped, 2) }, states: &[Usable, Behind], pick: 1, expect: Ok((Some(0), Reason::Policy, false)) },
            Row { name: "unscoped window ignored in a scope", facts: Facts { recent_unscoped_write: true, ..facts(READ, FRESH, 2) }, states: TWO, pick: 0, expect: Ok((Some(0), Reason::Policy, false)) },
            Row { name: "no replica", facts: facts(READ, FRESH, 0), states: &[], pick: 0, expect: Ok((None, Reason::NoReplica, false)) },
            Row { name: "policy", facts: facts(READ, FRESH, 2), states: TWO, pick: 1, expect: Ok((Some(1), Reason::Policy, false)) },
            Row { name: "policy pick out of range wraps", facts: facts(READ, FRESH, 2), states: TWO, pick: 5, expect: Ok((Some(1), Reason::Policy, false)) },
            Row { name: "policy skips a down replica", facts: facts(READ, FRESH, 3), states: &[Usable, Down, Usable], pick: 1, expect: Ok((Some(2), Reason::Policy, false)) },
            Row { name: "sticky replica first", facts: Facts { sticky: Some(0), ..facts(READ, FRESH, 2) }, states: TWO, pick: 1, expect: Ok((Some(0), Reason::Policy, false)) },
            Row { name: "sticky replica unusable", facts: Facts { sticky: Some(0), ..facts(READ, FRESH, 2) }, states: &[Lagging, Usable], pick: 0, expect: Ok((Some(1), Reason::Policy, false)) },
            Row { name: "retry on another replica", facts: Facts { tried: &[0], ..facts(READ, FRESH, 2) }, states: &[Down, Usable], pick: 0, expect: Ok((Some(1), Reason::Fallback, false)) },
            Row { name: "retry after two replicas failed", facts: Facts { tried: &[1, 2], ..facts(READ, FRESH, 3) }, states: &[Usable, Usable, Usable], pick: 2, expect: Ok((Some(0), Reason::Fallback, false)) },
            Row { name: "retry skips the tried sticky replica", facts: Facts { tried: &[0], sticky: Some(0), ..facts(READ, FRESH, 2) }, states: TWO, pick: 0, expect: Ok((Some(1), Reason::Fallback, false)) },
            Row { name: "refused as a write by a replica", facts: Facts { refused_as_write: true, tried: &[0], ..facts(READ, FRESH, 2) }, states: TWO, pick: 0, expect: Ok((None, Reason::Fallback, true)) },
            Row { name: "retry on the primary", facts: Facts { tried: &[0], fallback_to_primary: false, ..facts(READ, FRESH, 2) }, states: &[Down, Down], pick: 0, expect: Ok((None, Reason::Fallback, false)) },
            Row { name: "all down", facts: facts(READ, FRESH, 2), states: &[Down, Down], pick: 0, expect: Ok((None, Reason::Down, false)) },
            Row { name: "lagging beats down", facts: facts(READ, FRESH, 2), states: &[Down, Lagging], pick: 0, expect: Ok((None, Reason::Lagging, false)) },
            Row { name: "not a replica", facts: facts(READ, FRESH, 2), states: &[NotReplica, Down], pick: 0, expect: Ok((None, Reason::NotReplica, false)) },
            Row { name: "refused", facts: Facts { fallback_to_primary: false, ..facts(READ, FRESH, 2) }, states: &[Lagging, Down], pick: 0, expect: Err(Reason::Lagging) },
        ];
        let mut seen = std::collections::HashSet::new();
        for row in rows {
            let got = decide(&row.facts, || row.pick, |i| row.states[i])
                .map(|r| (r.replica, r.reason, r.writes))
                .map_err(|refused| refused.reason);
            assert_eq!(got, row.expect, "{}", row.name);
            if let Ok(route) = decide(&row.facts, || row.pick, |i| row.states[i]) {
                assert_eq!(
                    route.replica.is_some(),
                    route.target == Target::Replica,
                    "{}",
                    row.name
                );
            }
            seen.insert(match row.expect {
                Ok((_, reason, _)) | Err(reason) => reason,
            });
        }
        for reason in Reason::ALL {
            assert!(seen.contains(reason), "no row for {reason}");
        }
    }

    #[test]
    fn the_policy_is_asked_only_when_a_replica_is_wanted() {
        let asked = std::cell::Cell::new(0);
        let pick = || {
            asked.set(asked.get() + 1);
            0
        };
        let _ = decide(&facts(WRITE, FRESH, 2), pick, |_| Usable);
        let _ = decide(&facts(READ, PINNED, 2), pick, |_| Usable);
        assert_eq!(asked.get(), 0);
        let _ = decide(&facts(READ, FRESH, 2), pick, |_| Usable);
        assert_eq!(asked.get(), 1);
    }

    #[test]
    fn every_reason_has_its_own_name_and_index() {
        let names: std::collections::HashSet<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), Reason::ALL.len());
        for (i, reason) in Reason::ALL.iter().enumerate() {
            assert_eq!(reason.index(), i);
        }
    }

    #[test]
    fn replica_state_answers_for_every_fact() {
        use crate::position::{Position, WritePosition};
        let up = ReplicaFacts {
            verdict: Usable,
            failed_at: 0,
            answered_at: 0,
        };
        let clock = Clock {
            now: 100,
            monitored: true,
            rest: 50,
        };
        let never = |_: &Positions| -> bool { panic!("no position needed") };
        assert_eq!(replica_state(up, clock, &MustSee::Timed, never), Usable);
        assert_eq!(replica_state(up, clock, &MustSee::Nothing, never), Usable);
        assert_eq!(
            replica_state(up, clock, &MustSee::Unknowable, never),
            Behind
        );
        let mut scope = crate::causal::CausalState::after(WritePosition::new(1, Position::Lsn(9)));
        scope.captured(WritePosition::new(1, Position::Lsn(9)));
        let needs = scope.must_see();
        assert_eq!(
            replica_state(up, clock, &needs, |p| p.reached_by(1, &Position::Lsn(9))),
            Usable
        );
        assert_eq!(
            replica_state(up, clock, &needs, |p| p.reached_by(1, &Position::Lsn(8))),
            Behind
        );
        for verdict in [Down, Lagging, NotReplica] {
            let replica = ReplicaFacts { verdict, ..up };
            assert_eq!(
                replica_state(replica, clock, &MustSee::Nothing, never),
                verdict
            );
        }
        // A failed read: down until the monitor saw it answer afterwards.
        let failed = ReplicaFacts {
            failed_at: 90,
            answered_at: 80,
            ..up
        };
        assert_eq!(replica_state(failed, clock, &MustSee::Nothing, never), Down);
        let answered = ReplicaFacts {
            answered_at: 95,
            ..failed
        };
        assert_eq!(
            replica_state(answered, clock, &MustSee::Nothing, never),
            Usable
        );
        // Without a monitor: down for the rest period.
        let unwatched = Clock {
            monitored: false,
            ..clock
        };
        assert_eq!(
            replica_state(failed, unwatched, &MustSee::Nothing, never),
            Down
        );
        let later = Clock {
            now: 140,
            ..unwatched
        };
        assert_eq!(
            replica_state(failed, later, &MustSee::Nothing, never),
            Usable
        );
    }
}
