//! The state every clone of a `MultiDb` shares: the connections, the
//! settings, what is known of each replica, the counters, and the causal
//! facts of writes made outside any scope.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use multidb_core::__private::{
    CausalState, Clock, MustSee, ReplicaFacts, ReplicaState, replica_state,
};
use multidb_core::policy::{LoadMeter, ReplicaView};
use multidb_core::{Access, Catalog, Classifier, classify};
use sea_orm::{DatabaseConnection, DbErr};

use crate::config::Config;
use crate::health::{Health, ReplicaHealth};
use crate::metrics::{Metrics, System};
use crate::positions::{Flavor, flavor_of};
use crate::stats::Counters;

pub(crate) struct Inner {
    pub(crate) primary: DatabaseConnection,
    pub(crate) replicas: Vec<DatabaseConnection>,
    pub(crate) config: Config,
    /// The classifier of the backend's dialect; `None`: an unknown backend,
    /// classified under every dialect.
    pub(crate) classifier: Option<Classifier>,
    /// The primary's functions and operators, loaded and refreshed by the
    /// monitor: names the classifier's lists do not know are judged by it.
    pub(crate) catalog: ArcSwapOption<Catalog>,
    pub(crate) health: Vec<Health>,
    /// Each replica's statements in flight and latency, for the policy:
    /// measured around every statement run there.
    pub(crate) load: Box<[LoadMeter]>,
    /// The replicas' names (see `names.rs`), in order.
    pub(crate) names: Vec<String>,
    /// Its metric handles (feature `metrics`).
    pub(crate) metrics: Metrics,
    pub(crate) counters: Counters,
    /// Whether a monitor watches the replicas.
    pub(crate) monitored: bool,
    /// The backend has replication positions (not SQLite, not a mock).
    pub(crate) positions: bool,
    /// Reads after writes wait for the write's position (causal reads).
    pub(crate) causal: bool,
    flavor: OnceLock<Flavor>,
    /// The cluster's identity (see `WritePosition`); 0 = not known yet.
    cluster: AtomicU64,
    /// The causal facts of writes made outside any scope.
    unscoped: Mutex<CausalState>,
    /// Stamp (see [`Inner::now_stamp`]) of the last write outside any
    /// scope; 0 = never.
    last_unscoped_write: AtomicU64,
    created: Instant,
    /// `close` was called: the monitor stops.
    closed: AtomicBool,
}

/// What `Inner::new` takes besides the connections.
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) classifier: Option<Classifier>,
    pub(crate) health: Vec<Health>,
    pub(crate) names: Vec<String>,
    pub(crate) monitored: bool,
    pub(crate) positions: bool,
}

impl Inner {
    pub(crate) fn new(
        primary: DatabaseConnection,
        replicas: Vec<DatabaseConnection>,
        settings: Settings,
    ) -> Self {
        let Settings {
            config,
            classifier,
            health,
            names,
            monitored,
            positions,
        } = settings;
        Inner {
            metrics: Metrics::new(System::of(primary.get_database_backend()), &names),
            names,
            counters: Counters::new(replicas.len()),
            load: replicas.iter().map(|_| LoadMeter::new()).collect(),
            causal: config.causal_reads && positions && monitored,
            health,
            classifier,
            catalog: ArcSwapOption::empty(),
            primary,
            replicas,
            config,
            monitored,
            positions,
            flavor: OnceLock::new(),
            cluster: AtomicU64::new(0),
            unscoped: Mutex::new(CausalState::default()),
            last_unscoped_write: AtomicU64::new(0),
            created: Instant::now(),
            closed: AtomicBool::new(false),
        }
    }

    /// Milliseconds since this `MultiDb` was built, plus one (0 means never).
    pub(crate) fn now_stamp(&self) -> u64 {
        millis(self.created.elapsed()).saturating_add(1)
    }

    pub(crate) fn stamp_of(&self, at: Instant) -> u64 {
        millis(at.saturating_duration_since(self.created)).saturating_add(1)
    }

    pub(crate) fn cluster(&self) -> u64 {
        self.cluster.load(Ordering::Relaxed)
    }

    pub(crate) fn set_cluster(&self, cluster: u64) {
        self.cluster.store(cluster, Ordering::Relaxed);
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Which flavour of server the primary is, asked once.
    pub(crate) async fn flavor(&self) -> Result<Flavor, DbErr> {
        if let Some(flavor) = self.flavor.get() {
            return Ok(*flavor);
        }
        let flavor = flavor_of(&self.primary).await?;
        Ok(*self.flavor.get_or_init(|| flavor))
    }

    /// The flavour if it is known already.
    pub(crate) fn known_flavor(&self) -> Option<Flavor> {
        self.flavor.get().copied()
    }

    pub(crate) fn remember_flavor(&self, flavor: Flavor) -> Flavor {
        *self.flavor.get_or_init(|| flavor)
    }

    /// Read or write, in this connection's dialect.
    pub(crate) fn classify(&self, sql: &str) -> Access {
        match &self.classifier {
            Some(classifier) => classifier.classify_with(sql, self.catalog.load().as_deref()),
            None => classify(sql),
        }
    }

    pub(crate) fn clock(&self) -> Clock {
        self.clock_at(Instant::now())
    }

    /// The clock at `now`, read once by the caller for a whole attempt.
    pub(crate) fn clock_at(&self, now: Instant) -> Clock {
        Clock {
            now: self.stamp_of(now),
            monitored: self.monitored,
            rest: millis(self.config.replica_rest),
        }
    }

    /// What replica `index` can do for a read that must see `must_see`.
    pub(crate) fn state_of(&self, index: usize, clock: Clock, must_see: &MustSee) -> ReplicaState {
        let health = &self.health[index];
        let facts = ReplicaFacts {
            verdict: health.verdict().routing(),
            failed_at: health.failed_at(),
            answered_at: health.answered_at(),
        };
        replica_state(facts, clock, must_see, |positions| {
            let cluster = self.cluster();
            health.with_known(|known| {
                known.is_some_and(|(_, position)| positions.reached_by(cluster, position))
            })
        })
    }

    /// Replica `index`'s health as applications see it.
    pub(crate) fn health_of(&self, index: usize, clock: Clock) -> ReplicaHealth {
        ReplicaHealth::of(self.state_of(index, clock, &MustSee::Nothing))
    }

    /// Whether a write outside any scope happened within the unscoped
    /// write window.
    pub(crate) fn recent_unscoped_write(&self) -> bool {
        self.recent_unscoped_write_at(Instant::now())
    }

    /// [`recent_unscoped_write`](Self::recent_unscoped_write) at `now`.
    pub(crate) fn recent_unscoped_write_at(&self, now: Instant) -> bool {
        let stamp = self.last_unscoped_write.load(Ordering::Acquire);
        stamp != 0
            && self.stamp_of(now) < stamp.saturating_add(millis(self.config.unscoped_write_window))
    }

    /// A write outside any scope was routed.
    pub(crate) fn unscoped_wrote(&self) {
        self.last_unscoped_write
            .fetch_max(self.now_stamp(), Ordering::AcqRel);
        self.with_unscoped(|c| c.wrote(|| None));
    }

    /// Run `f` on the causal facts of the writes outside any scope.
    pub(crate) fn with_unscoped<R>(&self, f: impl FnOnce(&mut CausalState) -> R) -> R {
        let mut causal = self
            .unscoped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut causal)
    }
}

/// Whole milliseconds, saturating far below `u64::MAX` so stamps can add.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 2)
}

/// The replicas as the policy sees them for one read: usable or not (the
/// monitor's verdict, the position the read must see, the replicas this
/// read already failed on), the load of each, and the clock the read took.
pub(crate) struct Replicas<'a, S> {
    pub(crate) load: &'a [LoadMeter],
    pub(crate) tried: &'a [usize],
    pub(crate) state_of: S,
    pub(crate) now: Instant,
}

impl<S: Fn(usize) -> ReplicaState> ReplicaView for Replicas<'_, S> {
    fn len(&self) -> usize {
        self.load.len()
    }

    fn usable(&self, index: usize) -> bool {
        !self.tried.contains(&index) && (self.state_of)(index) == ReplicaState::Usable
    }

    fn load(&self, index: usize) -> &LoadMeter {
        &self.load[index]
    }

    fn now(&self) -> Instant {
        self.now
    }
}
