//! Fresh knowledge for causal reads. What multidb knows of a replica's
//! position is as old as the monitor's last check; when a causal read needs
//! a position no replica is known to have, and what is known of a replica
//! predates that position, ask the replica where it is now (one short
//! round trip, shared by every read that needs it meanwhile) instead of
//! reading the primary. With a [`causal_wait`](crate::MultiDbBuilder::causal_wait)
//! budget, wait for a replica to get there. Every answer is kept where the
//! monitor keeps its own, for the next reads.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, join_all};
use multidb_core::__private::{MustSee, ReplicaState};
use multidb_core::position::WritePosition;

use crate::multidb::MultiDb;
use crate::positions::{Flavor, replica_position, wait_for_position};
use crate::replica_set::Member;

const TARGET: &str = "multidb::route";

/// Without a wait budget, a read waits this long at most for a probe: a
/// replica slower than that to say where it is would not serve the read
/// sooner than the primary.
const PROBE_PATIENCE: Duration = Duration::from_millis(100);

/// A probe's own limit: it runs in its own task, for every read sharing it,
/// and stops there whether or not they still wait.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// A replica is asked at most once per this interval, however many reads
/// need it: what bounds the probes when replicas really lag, and how often
/// a wait polls on PostgreSQL.
const PROBE_GAP: Duration = Duration::from_millis(5);

/// A wait on MariaDB or MySQL asks the server to wait this long at most
/// per round trip.
const WAIT_SLICE: Duration = Duration::from_millis(100);

type Flight = Shared<BoxFuture<'static, ()>>;

/// One replica's latest probe: in flight, or done, and when it started.
#[derive(Default)]
pub(crate) struct ProbeSlot(Mutex<Option<(Instant, Flight)>>);

impl std::fmt::Debug for ProbeSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProbeSlot")
    }
}

impl MultiDb {
    /// No replica is known to have reached what a causal read must see:
    /// learn whether one has (a probe of the best candidate whose known
    /// position is older than `learned`, the stamp at which the read's
    /// position was learned), and with a budget wait for one to get there.
    /// Returns once `decide` may find a replica, or there is none to wait
    /// for: never later than the budget (or a probe's patience).
    pub(crate) async fn find_replica(&self, must_see: &MustSee, learned: u64) {
        let MustSee::Positions(positions) = must_see else {
            return;
        };
        let Some(flavor) = self.inner.known_flavor() else {
            return;
        };
        let Some(candidates) = self.candidates(must_see) else {
            return;
        };
        let budget = self.inner.config.causal_wait;
        let deadline = Instant::now() + budget;
        let patience = if budget.is_zero() {
            PROBE_PATIENCE
        } else {
            budget
        };
        let stale = candidates.iter().find(|member| {
            member
                .health
                .with_known(|known| known.is_none_or(|(at, _)| at < learned))
        });
        if let Some(member) = stale {
            let _ = tokio::time::timeout(patience, self.probe(member, flavor)).await;
            if self.candidates(must_see).is_none() {
                return;
            }
        }
        if budget.is_zero() {
            return;
        }
        match flavor {
            Flavor::Postgres => self.poll(must_see, &candidates, flavor, deadline).await,
            Flavor::MariaDb | Flavor::MySql => {
                if let (Some(member), Some(wanted)) = (candidates.first(), positions.joined()) {
                    self.wait_on(member, flavor, &wanted, deadline).await;
                }
            }
        }
    }

    /// `None` when a replica is known to have what the read must see (or
    /// none could: no replica is usable at all); else the replicas that are
    /// only behind, least lagging first.
    fn candidates(&self, must_see: &MustSee) -> Option<Vec<Arc<Member>>> {
        let inner = &self.inner;
        let clock = inner.clock();
        let mut behind = Vec::new();
        for member in inner.replicas.load().members.iter() {
            match inner.state_of(member, clock, must_see) {
                ReplicaState::Usable => return None,
                // A load-balanced endpoint's position is not one server's.
                ReplicaState::Behind if !member.is_load_balanced() => {
                    behind.push(member.clone());
                }
                _ => {}
            }
        }
        if behind.is_empty() {
            return None;
        }
        behind.sort_by_key(|member| member.health.details().lag.unwrap_or(Duration::MAX));
        Some(behind)
    }

    /// Poll the candidates' replay positions (PostgreSQL has no wait
    /// function before 19) until one has reached `must_see`, or `deadline`.
    async fn poll(
        &self,
        must_see: &MustSee,
        candidates: &[Arc<Member>],
        flavor: Flavor,
        deadline: Instant,
    ) {
        loop {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            let probes = join_all(candidates.iter().map(|member| self.probe(member, flavor)));
            let _ = tokio::time::timeout(deadline - now, probes).await;
            if self.candidates(must_see).is_none() {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            tokio::time::sleep(PROBE_GAP.min(deadline - now)).await;
        }
    }

    /// Wait on replica `index` until it applied `wanted` (MariaDB, MySQL),
    /// at most until `deadline`; what it answers is kept as its position.
    /// The wait runs in slices of [`WAIT_SLICE`]: between them the
    /// connection goes back to the pool, and a cancelled request leaves at
    /// most one slice running on the server.
    async fn wait_on(
        &self,
        member: &Member,
        flavor: Flavor,
        wanted: &WritePosition,
        deadline: Instant,
    ) {
        let inner = &self.inner;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return;
            }
            let slice = remaining.min(WAIT_SLICE);
            let started = inner.now_stamp();
            inner.counters.waited();
            let wait = wait_for_position(
                &member.connection,
                flavor,
                wanted.position(),
                slice.as_secs_f64(),
            );
            let (reached, position) = match tokio::time::timeout(remaining, wait).await {
                Ok(Ok(Some(answer))) => answer,
                Ok(Ok(None)) | Err(_) => return,
                Ok(Err(error)) => {
                    tracing::debug!(target: TARGET, replica = %member.name, %error, "waiting for a position failed");
                    return;
                }
            };
            let position = match (reached, position) {
                (true, Some(have)) => have.join(wanted.position()),
                (true, None) => Some(wanted.position().clone()),
                (false, have) => have,
            };
            if let Some(position) = position {
                member
                    .health
                    .set_known(started, inner.now_stamp(), position);
            }
            if reached {
                return;
            }
        }
    }

    /// Replica `index`'s position, asked now, or the probe in flight (or
    /// done within [`PROBE_GAP`]) that every read needing it shares. The
    /// probe runs in its own task: a read that gives up does not cancel it
    /// for the others, and its answer is kept.
    fn probe(&self, member: &Arc<Member>, flavor: Flavor) -> Flight {
        let mut slot = member
            .probe
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((started, flight)) = slot.as_ref()
            && (flight.peek().is_none() || started.elapsed() < PROBE_GAP)
        {
            return flight.clone();
        }
        let (inner, member) = (self.inner.clone(), member.clone());
        let task = tokio::spawn(async move {
            let started = inner.now_stamp();
            inner.counters.probed();
            let asked = replica_position(&member.connection, flavor);
            match tokio::time::timeout(PROBE_TIMEOUT, asked).await {
                Ok(Ok(Some(position))) => {
                    member
                        .health
                        .set_known(started, inner.now_stamp(), position);
                }
                Ok(Ok(None)) | Err(_) => {}
                Ok(Err(error)) => {
                    tracing::debug!(target: TARGET, replica = %member.name, %error, "probing a replica's position failed");
                }
            }
        });
        let flight = async move {
            let _ = task.await;
        }
        .boxed()
        .shared();
        *slot = Some((Instant::now(), flight.clone()));
        flight
    }
}
