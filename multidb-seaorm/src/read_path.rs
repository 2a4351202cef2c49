//! The way of one statement: read the task's context once, classify, ask
//! what a read must see, let `decide` route it, run it, and retry a read
//! whose replica failed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use multidb_core::__private::{
    CapturePosition, Facts, MustSee, Op, Refused, Route, TaskSnapshot, TaskState, decide, snapshot,
    with_causal,
};
use multidb_core::Access;
use sea_orm::{AccessMode, DatabaseConnection, DbErr, RuntimeErr, Statement};

use crate::causal::{Capturer, ToSee};
use crate::failover::{Failure, failure};
use crate::inner::{Replicas, millis};
use crate::metrics::Timer;
use crate::multidb::MultiDb;
use crate::replica_set::{ReplicaId, ReplicaSet};
use crate::spare;
use crate::watch;

const TARGET: &str = "multidb::route";

impl MultiDb {
    /// Run `op` with `input` where its SQL is routed. A read whose replica
    /// fails for a connection-level reason is retried on the other usable
    /// replicas, then the primary. `input` is copied only for an attempt on
    /// a replica (a retry needs it again), into a spare's buffers
    /// (`spare.rs`): writes and primary reads, never retried, cost no copy.
    pub(crate) async fn run<I, T, F>(&self, mut input: I, op: F) -> Result<T, DbErr>
    where
        I: HasSql,
        F: for<'c> Fn(&'c DatabaseConnection, I) -> Pending<'c, T>,
    {
        let task = snapshot();
        if self.inner.causal {
            task.note_causal();
        }
        let access = self.inner.classify(input.sql());
        let must_see = match access {
            Access::Read => match self.must_see_at_once(&task) {
                ToSee::Known(must_see) => must_see,
                // Round trips, boxed: their state stays out of this future.
                to_see => Box::pin(self.must_see_slowly(&task, to_see)).await,
            },
            Access::Write => MustSee::Timed,
        };
        // One snapshot of the replica set for the whole read, retries
        // included: indices stay valid while the set changes.
        let set = self.inner.replicas.load_full();
        let mut tried: Vec<usize> = Vec::new();
        let mut refused_as_write = false;
        loop {
            // One clock read per attempt, shared by the replicas' states,
            // the policy, the load meter and the metrics; one more at its end.
            let now = Instant::now();
            let stamp = self.inner.stamp_of(now);
            let facts = Facts {
                must_see: &must_see,
                tried: &tried,
                refused_as_write,
                ..self.facts(Op::Statement(access), &task, stamp, &set)
            };
            let route = self
                .route(&facts, &task, input.sql(), (now, stamp), &set)
                .map_err(|refused| no_replica(refused, input.sql()))?;
            let Some(index) = route.replica else {
                let timer = Timer::at(now);
                let result = op(&self.inner.primary, input).await;
                self.inner
                    .metrics
                    .operation(timer, route.target, result.as_ref().err());
                if route.writes {
                    self.write_done(&task);
                }
                return result;
            };
            let member = &set.members[index];
            let started = member.load.start_at(now);
            let kept = input.copy();
            let result = watch::guarded(member, op(&member.connection, input)).await;
            input = kept;
            // The second clock read; the rest is derived from the two.
            let took = Instant::now().saturating_duration_since(now);
            let ended = stamp + millis(took);
            // The meter counts on `stamp_ms` itself; a router stamp is one
            // more (0 means never).
            member.load.finish_took(started, took, ended - 1);
            self.inner
                .metrics
                .operation_took(took, route.target, result.as_ref().err());
            let error = match result {
                Ok(value) => {
                    self.served(&task, member, set.len(), ended);
                    input.give_back();
                    return Ok(value);
                }
                Err(error) => error,
            };
            let (kind, evidence) = failure(&error);
            match kind {
                Failure::Final => return Err(error),
                Failure::ReadOnly => {
                    // The replica refused it as a write: it did not run there.
                    tracing::warn!(
                        target: TARGET,
                        replica = %member.name,
                        sql = input.sql(),
                        %error,
                        "a replica refused this statement as a write: running it on the primary \
                         (please report it: the classifier should have sent it there)"
                    );
                    refused_as_write = true;
                }
                Failure::Unreachable | Failure::Transient => {
                    if kind == Failure::Unreachable {
                        member.health.failed(ended);
                    }
                    tracing::warn!(
                        target: TARGET,
                        replica = %member.name,
                        evidence = ?evidence,
                        %error,
                        "read failed on a replica: retrying it elsewhere"
                    );
                }
            }
            member.counters.failures.fetch_add(1, Ordering::Relaxed);
            member.metrics.failover(kind);
            tried.push(index);
        }
    }

    /// The facts of `op` for `task` at stamp `now` over `set`, before any
    /// attempt.
    fn facts(&self, op: Op, task: &TaskSnapshot, now: u64, set: &ReplicaSet) -> Facts<'static> {
        let state = task.task();
        Facts {
            task: state,
            recent_unscoped_write: state == TaskState::Unscoped
                && self.inner.recent_unscoped_write_at(now),
            fallback_to_primary: self.inner.config.fallback_to_primary,
            // The scope remembers the replica by id: its index moves when
            // the set changes, and a removed one is simply not found.
            sticky: task.sticky().and_then(|id| set.position(ReplicaId(id))),
            ..Facts::new(op, set.len())
        }
    }

    /// Decide where a statement goes at `now` (the instant and its stamp),
    /// record it, and remember a write.
    fn route(
        &self,
        facts: &Facts<'_>,
        task: &TaskSnapshot,
        sql: &str,
        (now, stamp): (Instant, u64),
        set: &ReplicaSet,
    ) -> Result<Route, Refused> {
        let clock = self.inner.clock_at(stamp);
        let state_of = |index: usize| {
            self.inner
                .state_of(&set.members[index], clock, facts.must_see)
        };
        let replicas = Replicas {
            set,
            tried: facts.tried,
            state_of: &state_of,
            now,
        };
        let route = decide(
            facts,
            || self.inner.config.policy.choose(&replicas),
            state_of,
        )?;
        if route.writes {
            self.note_write(task);
        }
        self.record(route, sql, set);
        Ok(route)
    }

    fn record(&self, route: Route, sql: &str, set: &ReplicaSet) {
        self.inner.counters.record(route, set);
        self.inner.metrics.decision(route);
        tracing::debug!(
            target: TARGET,
            route = %route.target,
            reason = %route.reason,
            replica = route.replica,
            sql,
            "routed"
        );
    }

    /// Reads after a write go to the primary (or wait for its position):
    /// per scope when one is open, else process-wide for the unscoped write
    /// window.
    fn note_write(&self, task: &TaskSnapshot) {
        if !task.note_write() {
            self.inner.unscoped_wrote();
            return;
        }
        if let Some(request) = task.scope().filter(|_| self.inner.positions) {
            with_causal(request, |c| {
                // Only causal reads put the position in the pin: with them
                // off, a request costs no extra round trip.
                c.wrote(|| {
                    self.inner
                        .causal
                        .then(|| Arc::new(Capturer(self.clone())) as Arc<dyn CapturePosition>)
                });
            });
        }
    }

    /// A write finished (or failed: it may have committed all the same):
    /// its position must be captured anew.
    fn write_done(&self, task: &TaskSnapshot) {
        if !self.inner.positions {
            return;
        }
        let now = Instant::now();
        match task.scope() {
            Some(request) => with_causal(request, |c| c.write_done(now)),
            None => self.inner.with_unscoped(|c| c.write_done(now)),
        }
    }

    /// Run a transaction whose commit the caller awaits (SeaORM's closure
    /// forms) on the primary; a read-write one is a write that is done once
    /// `run` returns, committed or not.
    pub(crate) async fn awaited_transaction<'a, Fut: Future>(
        &'a self,
        access_mode: Option<AccessMode>,
        run: impl FnOnce(&'a DatabaseConnection) -> Fut,
    ) -> Fut::Output {
        let task = snapshot();
        let op = transaction(access_mode);
        let result = run(self.primary_in(&task, op, "BEGIN", true)).await;
        if op == (Op::Transaction { read_only: false }) {
            self.write_done(&task);
        }
        result
    }

    /// The primary, for work routing cannot see into (a transaction, a
    /// migration), recorded as `what`. Its commit comes later, unseen.
    pub(crate) fn primary_for(&self, op: Op, what: &str) -> &DatabaseConnection {
        self.primary_in(&snapshot(), op, what, false)
    }

    /// `commit_seen`: the caller awaits the commit (`transaction(…)`) and
    /// then calls `write_done`; otherwise the scope reads the primary.
    fn primary_in(
        &self,
        task: &TaskSnapshot,
        op: Op,
        what: &str,
        commit_seen: bool,
    ) -> &DatabaseConnection {
        if !commit_seen
            && matches!(op, Op::Transaction { read_only: false } | Op::Executor)
            && let Some(request) = task.scope().filter(|_| self.inner.positions)
        {
            with_causal(request, |c| c.opened_unseen_transaction());
        }
        // Transactions and executors always go to the primary: `decide`
        // only names the reason (and never refuses them).
        let now = Instant::now();
        let stamp = self.inner.stamp_of(now);
        let set = self.inner.replicas.load();
        let _ = self.route(
            &self.facts(op, task, stamp, &set),
            task,
            what,
            (now, stamp),
            &set,
        );
        &self.inner.primary
    }
}

/// The error of a read that no replica can take, with fallback to the
/// primary off.
#[cold]
fn no_replica(refused: Refused, sql: &str) -> DbErr {
    tracing::warn!(
        target: TARGET,
        reason = %refused.reason,
        sql,
        "no replica can take the read, and fallback to the primary is off"
    );
    DbErr::Conn(RuntimeErr::Internal(format!(
        "multidb: no replica can take this read ({}) and fallback_to_primary is off: \
         check db.replica_status(), or allow the primary",
        refused.reason
    )))
}

/// The transaction `access_mode` opens.
pub(crate) fn transaction(access_mode: Option<AccessMode>) -> Op {
    Op::Transaction {
        read_only: access_mode == Some(AccessMode::ReadOnly),
    }
}

/// A statement's future, boxed as SeaORM's connection trait returns it:
/// what a connection's methods return (polled by `run` with no state
/// machine of its own around it), and what `MultiDb`'s return.
pub(crate) type Pending<'c, T> = Pin<Box<dyn Future<Output = Result<T, DbErr>> + Send + 'c>>;

/// What `MultiDb::run` routes by, and keeps a copy of for a retry.
pub(crate) trait HasSql: Sized {
    fn sql(&self) -> &str;

    fn copy(&self) -> Self;

    /// The copy was not needed.
    fn give_back(self) {}
}

impl HasSql for Statement {
    fn sql(&self) -> &str {
        &self.sql
    }

    fn copy(&self) -> Self {
        spare::copy(self)
    }

    fn give_back(self) {
        spare::give_back(self);
    }
}

impl HasSql for String {
    fn sql(&self) -> &str {
        self
    }

    fn copy(&self) -> Self {
        self.clone()
    }
}
