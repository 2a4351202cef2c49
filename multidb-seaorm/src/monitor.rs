//! The replica monitor: one background task per `MultiDb` that checks every
//! replica (reachable, still a replica, position, lag) and the primary's
//! position, and publishes a verdict per replica for routing.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::join_all;
use multidb_core::position::Position;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};

use crate::catalog::{catalog_version, load_catalog};
use crate::health::ReplicaHealth;
use crate::inner::{Inner, millis};
use crate::membership::servers_of_two;
use crate::positions::{Checked, Flavor, Probe, flavor_of, primary_position, probe_replica};
use crate::replica_set::{Member, ReplicaId};

const TARGET: &str = "multidb::monitor";

/// Primary positions kept to derive lag in time (~8 min at 500 ms).
const HISTORY: usize = 1024;

/// A replica that went down this long after its previous fall starts its
/// back-off afresh.
const FLAP_MEMORY: Duration = Duration::from_secs(60);

/// How often the primary's catalog fingerprint is checked (the catalog is
/// loaded again only when it changed).
const CATALOG_CHECK: Duration = Duration::from_secs(30);

/// For this long after a statement that may change the catalog (`CREATE`,
/// `ALTER`, `DROP`), every tick checks its fingerprint: the statement may
/// commit a little after it was classified.
const CATALOG_AFTER_DDL: Duration = Duration::from_secs(5);

/// Loading the catalog reads a few thousand rows: more than a check's time.
const CATALOG_LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Start the monitor of `inner` when it has something to watch.
pub(crate) fn spawn(inner: &Arc<Inner>) {
    let interval = inner.config.monitor_interval;
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!(
            target: TARGET,
            "no tokio runtime: replicas are not monitored (build the MultiDb inside a runtime)"
        );
        return;
    };
    let weak = Arc::downgrade(inner);
    runtime.spawn(run(weak, interval));
}

/// Whether `inner`'s replicas get a monitor at all (also with none yet:
/// replicas may be added at runtime; a tick over none costs nothing).
pub(crate) fn wanted(primary: &DatabaseConnection, interval: Duration) -> bool {
    !interval.is_zero()
        && primary.get_database_backend() != DbBackend::Sqlite
        && !primary.is_mock_connection()
}

async fn run(weak: Weak<Inner>, interval: Duration) {
    let mut state: Option<Monitor> = None;
    loop {
        // Hold the connection only for the tick: once the last clone of
        // the MultiDb is dropped, the next upgrade fails and the task ends.
        let Some(inner) = weak.upgrade().filter(|inner| !inner.is_closed()) else {
            break;
        };
        let monitor = state.get_or_insert_with(|| Monitor::new(interval));
        if !inner.replicas.load().is_empty() {
            monitor.tick(&inner).await;
        }
        drop(inner);
        tokio::time::sleep(interval).await;
    }
    tracing::debug!(target: TARGET, "MultiDb dropped or closed: monitor stopped");
}

#[derive(Debug, Default)]
struct Tracked {
    /// Falls (to down) in a row, for the back-off.
    falls: u32,
    last_fall: u64,
    /// Successful checks since the last fall.
    answered_in_a_row: u32,
    /// The servers its connections reached, with when each was last seen
    /// and the lag measured there (see [`LB_WINDOW`]).
    servers: HashMap<String, (u64, Option<Duration>, Option<u64>)>,
    /// When its pool was last asked on two connections at once; 0 = never.
    pair_checked: u64,
}

/// A replica pool whose connections reached two servers within this long
/// is a load-balanced endpoint.
const LB_WINDOW: Duration = Duration::from_secs(120);

/// How often a replica's pool is checked on two connections held at once
/// (a load balancer that spreads connections shows two servers at once).
const PAIR_CHECK: Duration = Duration::from_secs(30);

struct Monitor {
    timeout: Duration,
    /// `SHOW SLAVE STATUS` allowed: unknown until tried.
    may_show_status: Option<bool>,
    /// (stamp first seen, primary position), oldest first.
    history: VecDeque<(u64, Position)>,
    primary_up: Option<bool>,
    /// By replica id; a removed replica's entry goes at the next tick.
    replicas: HashMap<ReplicaId, Tracked>,
    /// The fingerprint of the catalog loaded last, and when it was checked.
    catalog_version: Option<String>,
    catalog_checked: u64,
}

impl Monitor {
    fn new(interval: Duration) -> Self {
        Monitor {
            // A healthy server answers the check in milliseconds; a dead one
            // makes sqlx retry its connect until the pool's acquire timeout.
            timeout: (interval / 2).max(Duration::from_millis(100)),
            may_show_status: None,
            history: VecDeque::new(),
            primary_up: None,
            replicas: HashMap::new(),
            catalog_version: None,
            catalog_checked: 0,
        }
    }

    async fn tick(&mut self, inner: &Inner) {
        let flavor = match inner.known_flavor() {
            Some(flavor) => flavor,
            None => match self.bounded(flavor_of(&inner.primary)).await {
                Ok(flavor) => inner.remember_flavor(flavor),
                Err(error) => {
                    self.primary_seen(Err(&error));
                    // Without the primary we cannot tell MariaDB from MySQL
                    // yet: still check that the replicas answer.
                    Flavor::guess(inner.primary.get_database_backend())
                }
            },
        };
        // The primary first, so that a replica checked just after cannot
        // look ahead of the newest primary position we know.
        let started = inner.now_stamp();
        match self.bounded(primary_position(&inner.primary, flavor)).await {
            Ok(tagged) => {
                self.primary_seen(Ok(()));
                inner.set_cluster(tagged.cluster());
                let position = tagged.position().clone();
                if self
                    .history
                    .back()
                    .is_none_or(|(_, last)| *last != position)
                {
                    if self.history.len() == HISTORY {
                        self.history.pop_front();
                    }
                    self.history.push_back((started, position));
                }
            }
            Err(error) => self.primary_seen(Err(&error)),
        }
        self.refresh_catalog(inner).await;
        let may_show_status = self.may_show_status;
        let set = inner.replicas.load_full();
        self.replicas.retain(|id, _| set.position(*id).is_some());
        let checks = set.members.iter().map(|member| {
            let timeout = self.timeout;
            async move {
                let started = inner.now_stamp();
                let probe = probe_replica(&member.connection, flavor, may_show_status);
                let result = match tokio::time::timeout(timeout, probe).await {
                    Ok(result) => result,
                    Err(_) => Err(Checked::TimedOut),
                };
                (started, result)
            }
        });
        let results = join_all(checks).await;
        for (member, (started, result)) in set.members.iter().zip(results) {
            self.judge(inner, member, started, result);
        }
        self.check_pairs(inner, flavor, &set.members).await;
    }

    /// Ask the pools not checked within [`PAIR_CHECK`] which servers two of
    /// their connections, held at once, reach.
    async fn check_pairs(&mut self, inner: &Inner, flavor: Flavor, members: &[Arc<Member>]) {
        let now = inner.now_stamp();
        let due: Vec<&Arc<Member>> = members
            .iter()
            .filter(|member| {
                member.health.verdict() != ReplicaHealth::Down
                    && self.replicas.get(&member.id).is_some_and(|tracked| {
                        tracked.pair_checked == 0
                            || now.saturating_sub(tracked.pair_checked) >= millis(PAIR_CHECK)
                    })
            })
            .collect();
        if due.is_empty() {
            return;
        }
        let pairs = join_all(
            due.iter()
                .map(|member| self.bounded(servers_of_two(&member.connection, flavor))),
        )
        .await;
        for (member, pair) in due.into_iter().zip(pairs) {
            let Some(tracked) = self.replicas.get_mut(&member.id) else {
                continue;
            };
            tracked.pair_checked = now;
            if let Ok(servers) = pair {
                for server in servers {
                    tracked
                        .servers
                        .entry(server)
                        .and_modify(|seen| seen.0 = now)
                        .or_insert((now, None, None));
                }
                Self::judge_servers(inner, member, tracked, now);
            }
        }
    }

    /// Flag `member` as load-balanced, or not any more, from the servers
    /// its connections reached within [`LB_WINDOW`]. Returns the worst lag
    /// measured among them.
    fn judge_servers(
        inner: &Inner,
        member: &Member,
        tracked: &mut Tracked,
        now: u64,
    ) -> (Option<Duration>, Option<u64>) {
        tracked
            .servers
            .retain(|_, (seen, _, _)| now.saturating_sub(*seen) <= millis(LB_WINDOW));
        let several = tracked.servers.len() > 1;
        if several != member.is_load_balanced() {
            member.load_balanced.store(several, Ordering::Relaxed);
            let servers: Vec<&str> = tracked.servers.keys().map(String::as_str).collect();
            if several {
                member.health.clear_known();
                tracing::error!(
                    target: TARGET,
                    replica = %member.name,
                    ?servers,
                    "LOAD-BALANCED REPLICA ENDPOINT: the connections of this replica's pool \
                     reach more than one server, so one check cannot vouch for the server a \
                     read lands on. It takes plain reads only: never causal reads (they go to \
                     a replica checked as one server, or the primary), and its lag is the worst \
                     seen among its servers. Give each replica its own URL (or use DNS \
                     discovery) to route by each server's position"
                );
            } else {
                tracing::info!(
                    target: TARGET,
                    replica = %member.name,
                    ?servers,
                    "replica endpoint reached one server only for {LB_WINDOW:?}: trusted as one server again"
                );
            }
        }
        let _ = inner;
        let lag = tracked
            .servers
            .values()
            .filter_map(|(_, lag, _)| *lag)
            .max();
        let bytes = tracked.servers.values().filter_map(|(_, _, b)| *b).max();
        (lag, bytes)
    }

    /// Load the primary's catalog of functions and operators on the first
    /// tick, then again whenever its fingerprint changed (checked every
    /// [`CATALOG_CHECK`], and on every tick for [`CATALOG_AFTER_DDL`] after
    /// a `CREATE`, `ALTER` or `DROP` went through this `MultiDb`). Until it
    /// loads, and if it cannot be read, the classifier gives its
    /// conservative answers.
    async fn refresh_catalog(&mut self, inner: &Inner) {
        let now = inner.now_stamp();
        let ddl = inner.catalog_changed.load(Ordering::Relaxed);
        let after_ddl = ddl != 0 && now.saturating_sub(ddl) < millis(CATALOG_AFTER_DDL);
        if self.catalog_checked != 0
            && !after_ddl
            && now.saturating_sub(self.catalog_checked) < millis(CATALOG_CHECK)
        {
            return;
        }
        self.catalog_checked = now;
        let version = match self.bounded(catalog_version(&inner.primary)).await {
            Ok(version) => version,
            Err(error) => {
                tracing::debug!(target: TARGET, %error, "could not check the primary's catalog");
                return;
            }
        };
        if self.catalog_version.as_ref() == Some(&version) {
            return;
        }
        match tokio::time::timeout(CATALOG_LOAD_TIMEOUT, load_catalog(&inner.primary)).await {
            Ok(Ok(catalog)) => {
                tracing::info!(
                    target: TARGET,
                    functions = catalog.function_count(),
                    operators = catalog.operator_count(),
                    "loaded the primary's catalog: its read-only functions are classified as reads"
                );
                inner.catalog.store(Some(Arc::new(catalog)));
                self.catalog_version = Some(version);
            }
            Ok(Err(error)) => tracing::warn!(
                target: TARGET, %error,
                "could not load the primary's catalog: functions it does not know go to the primary"
            ),
            Err(_) => tracing::warn!(
                target: TARGET,
                "loading the primary's catalog took over {CATALOG_LOAD_TIMEOUT:?}: \
                 functions it does not know go to the primary"
            ),
        }
    }

    async fn bounded<T>(&self, check: impl Future<Output = Result<T, DbErr>>) -> Result<T, DbErr> {
        tokio::time::timeout(self.timeout, check)
            .await
            .unwrap_or_else(|_| {
                Err(DbErr::Custom(format!(
                    "no answer within {:?}",
                    self.timeout
                )))
            })
    }

    /// The primary answered the check, or failed it with an error.
    fn primary_seen(&mut self, seen: Result<(), &DbErr>) {
        let up = seen.is_ok();
        if self.primary_up != Some(up) {
            match seen {
                Ok(()) => tracing::info!(target: TARGET, "primary answers"),
                Err(error) => tracing::warn!(
                    target: TARGET, %error,
                    "primary unreachable: writes will fail until it is back"
                ),
            }
            self.primary_up = Some(up);
        }
    }

    fn judge(
        &mut self,
        inner: &Inner,
        member: &Member,
        started: u64,
        result: Result<(Probe, Option<bool>), Checked>,
    ) {
        let health = &member.health;
        let before = health.verdict();
        self.replicas.entry(member.id).or_default();
        let (found, error) = match result {
            Ok((probe, may_show_status)) => {
                if let Some(allowed) = may_show_status
                    && self.may_show_status != Some(allowed)
                {
                    if !allowed {
                        tracing::info!(
                            target: TARGET,
                            "SHOW SLAVE STATUS is not allowed for this user: replication \
                             threads are judged by their position only (grant SLAVE MONITOR \
                             on MariaDB, REPLICATION CLIENT on MySQL, to see them)"
                        );
                    }
                    self.may_show_status = Some(allowed);
                }
                health.answered(started);
                (self.verdict_of(inner, member, &probe, started), None)
            }
            Err(Checked::TimedOut) if health.served_at() >= started => {
                // Reads succeeded on it while the check waited: busy, not
                // down. (Reads before the check prove nothing: a replica
                // that died serving would keep its reads for a tick.)
                (
                    before,
                    Some(format!(
                        "no answer to the check within {:?} (busy?)",
                        self.timeout
                    )),
                )
            }
            Err(Checked::TimedOut) => (
                ReplicaHealth::Down,
                Some(format!("no answer to the check within {:?}", self.timeout)),
            ),
            Err(Checked::Failed(error)) => (ReplicaHealth::Down, Some(error.to_string())),
        };
        let now = inner.now_stamp();
        let tracked = self.replicas.entry(member.id).or_default();
        let published = if found == ReplicaHealth::Down {
            if before != ReplicaHealth::Down {
                if now.saturating_sub(tracked.last_fall) > millis(FLAP_MEMORY) {
                    tracked.falls = 0;
                }
                tracked.falls = tracked.falls.saturating_add(1);
                tracked.last_fall = now;
            }
            tracked.answered_in_a_row = 0;
            ReplicaHealth::Down
        } else if before == ReplicaHealth::Down && tracked.falls > 0 {
            // Back-off: a replica that keeps falling must answer more checks
            // in a row (1, 2, 4 … 32) before it takes reads again.
            tracked.answered_in_a_row = tracked.answered_in_a_row.saturating_add(1);
            let needed = 1u32 << tracked.falls.saturating_sub(1).min(5);
            if tracked.answered_in_a_row >= needed {
                found
            } else {
                ReplicaHealth::Down
            }
        } else {
            found
        };
        health.update(|details| {
            details.checked_at = Some(now);
            if error.is_some() {
                details.last_error = error.clone();
            }
            let usable = published == ReplicaHealth::Up;
            member
                .metrics
                .gauges(details.lag, details.lag_bytes, usable);
        });
        if published != before {
            health.set_verdict(published);
            let details = health.details();
            let lag_ms = details.lag.map(millis);
            match published {
                ReplicaHealth::Up => tracing::info!(
                    target: TARGET, replica = %member.name, from = %before, to = %published, lag_ms,
                    "replica takes reads again"
                ),
                _ => tracing::warn!(
                    target: TARGET, replica = %member.name, from = %before, to = %published, lag_ms,
                    error = error.as_deref(), "replica taken out of rotation"
                ),
            }
        }
    }

    /// Up, lagging or not a replica, from a check that got an answer.
    /// Record the server that answered `probe` and its lag; with several
    /// servers seen, the worst lag among them.
    fn servers_seen(
        &mut self,
        inner: &Inner,
        member: &Member,
        probe: &Probe,
        now: u64,
        lag: Option<Duration>,
        lag_bytes: Option<u64>,
    ) -> (Option<Duration>, Option<u64>) {
        let (Some(server), Some(tracked)) = (&probe.server, self.replicas.get_mut(&member.id))
        else {
            return (lag, lag_bytes);
        };
        tracked
            .servers
            .insert(server.clone(), (now, lag, lag_bytes));
        let worst = Self::judge_servers(inner, member, tracked, now);
        if member.is_load_balanced() {
            worst
        } else {
            (lag, lag_bytes)
        }
    }

    fn verdict_of(
        &mut self,
        inner: &Inner,
        member: &Member,
        probe: &Probe,
        started: u64,
    ) -> ReplicaHealth {
        let health = &member.health;
        let newest = self.history.back().map(|(_, position)| position);
        let lag = probe
            .position
            .as_ref()
            .map(|position| self.lag_of(position, started));
        let lag_bytes = match (&probe.position, newest) {
            (Some(position), Some(newest)) => position.bytes_behind(newest),
            _ => None,
        };
        let (lag, lag_bytes) = self.servers_seen(inner, member, probe, started, lag, lag_bytes);
        // Behind a load balancer the position is that of whichever server
        // answered: causal reads must not trust it.
        if let Some(position) = &probe.position
            && !member.is_load_balanced()
        {
            health.set_known(started, inner.now_stamp(), position.clone());
        }
        health.update(|details| {
            details.lag = lag;
            details.lag_bytes = lag_bytes;
            details.replication_running = probe.replication_running;
            details.seconds_behind_master = probe.seconds_behind_master;
        });
        if !probe.is_replica || probe.replication_running == Some(false) {
            return ReplicaHealth::NotReplica;
        }
        let config = &inner.config;
        let too_late = matches!((lag, config.max_replica_lag), (Some(lag), Some(max)) if lag > max);
        let too_far =
            matches!((lag_bytes, config.max_replica_lag_bytes), (Some(b), Some(max)) if b > max);
        if too_late || too_far {
            ReplicaHealth::Lagging
        } else {
            ReplicaHealth::Up
        }
    }

    /// How long ago the primary was first seen at a position the replica
    /// has not reached: a lower bound of its lag, exact to one interval.
    /// Zero once it reached the newest known position (an idle primary
    /// never makes a replica late).
    fn lag_of(&self, position: &Position, now: u64) -> Duration {
        self.history
            .iter()
            .find(|(_, primary)| !position.reached(primary))
            .map_or(Duration::ZERO, |(seen, _)| {
                Duration::from_millis(now.saturating_sub(*seen))
            })
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DatabaseBackend, MockDatabase};

    use super::*;
    use crate::MultiDb;

    #[tokio::test(flavor = "current_thread")]
    async fn the_task_ends_when_the_last_clone_is_dropped() {
        let mock = || MockDatabase::new(DatabaseBackend::Postgres).into_connection();
        let db = MultiDb::new(mock(), vec![mock()]).expect("a MultiDb");
        let clone = db.clone();
        let task = tokio::spawn(run(Arc::downgrade(db.inner()), Duration::from_millis(5)));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!task.is_finished(), "runs while clones live");
        drop(db);
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!task.is_finished(), "one clone still lives");
        drop(clone);
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("the monitor ended within a second of the last drop")
            .expect("the monitor did not panic");
    }

    fn lsn(n: u64) -> Position {
        Position::Lsn(n)
    }

    #[test]
    fn lag_is_how_long_ago_the_primary_passed_the_replica() {
        let mut monitor = Monitor::new(Duration::from_millis(500));
        monitor
            .history
            .extend([(1_000, lsn(10)), (1_500, lsn(20)), (2_000, lsn(30))]);
        assert_eq!(monitor.lag_of(&lsn(30), 2_600), Duration::ZERO, "caught up");
        assert_eq!(monitor.lag_of(&lsn(99), 2_600), Duration::ZERO, "ahead");
        assert_eq!(monitor.lag_of(&lsn(25), 2_600), Duration::from_millis(600));
        assert_eq!(
            monitor.lag_of(&lsn(15), 2_600),
            Duration::from_millis(1_100)
        );
        assert_eq!(
            monitor.lag_of(&lsn(0), 2_600),
            Duration::from_millis(1_600),
            "older than all"
        );
    }
}
