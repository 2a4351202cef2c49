//! The state every clone of a `MultiDb` shares: the connections, the
//! settings, what is known of each replica, the counters, and the causal
//! facts of writes made outside any scope.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use multidb_core::__private::{
    CausalState, Clock, MustSee, ReplicaFacts, ReplicaState, replica_state,
};
use multidb_core::policy::{LoadMeter, ReplicaView, stamp_ms};
use multidb_core::{Access, Catalog, Classifier, classify};
use sea_orm::{DatabaseConnection, DbErr};

use crate::catalog::may_change_catalog;
use crate::config::Config;
use crate::health::ReplicaHealth;
use crate::metrics::{Metrics, System};
use crate::positions::{Flavor, flavor_of};
use crate::replica_set::{Member, ReplicaId, ReplicaSet};
use crate::stats::Counters;

pub(crate) struct Inner {
    pub(crate) primary: DatabaseConnection,
    /// The replicas now: loaded once per read, swapped whole on a change.
    pub(crate) replicas: ArcSwap<ReplicaSet>,
    /// Taken while the set is changed, so that two changes do not lose
    /// one another (reads never take it).
    changing: Mutex<()>,
    /// The next [`ReplicaId`]: ids are never reused.
    next_id: AtomicUsize,
    pub(crate) config: Config,
    /// The classifier of the backend's dialect; `None`: an unknown backend,
    /// classified under every dialect.
    pub(crate) classifier: Option<Classifier>,
    /// The primary's functions and operators, loaded and refreshed by the
    /// monitor: names the classifier's lists do not know are judged by it.
    pub(crate) catalog: ArcSwapOption<Catalog>,
    /// When (`now_stamp`) a statement that may change the catalog was last
    /// classified, 0 if never: the monitor checks the catalog on its next
    /// ticks instead of waiting for the periodic check.
    pub(crate) catalog_changed: AtomicU64,
    /// Its metric handles (feature `metrics`); each replica has its own.
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
    /// `close` was called: the monitor stops.
    closed: AtomicBool,
}

/// One replica the `MultiDb` starts with.
pub(crate) struct Initial {
    pub(crate) connection: DatabaseConnection,
    pub(crate) name: String,
    pub(crate) health: ReplicaHealth,
    pub(crate) address: Option<(String, u16)>,
}

/// What `Inner::new` takes besides the connections.
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) classifier: Option<Classifier>,
    pub(crate) monitored: bool,
    pub(crate) positions: bool,
}

impl Inner {
    pub(crate) fn new(
        primary: DatabaseConnection,
        replicas: Vec<Initial>,
        settings: Settings,
    ) -> Self {
        let Settings {
            config,
            classifier,
            monitored,
            positions,
        } = settings;
        let members = replicas
            .into_iter()
            .enumerate()
            .map(|(index, replica)| {
                // Without a monitor nothing would bring a replica counted
                // down back: it rests instead, as after a failed read.
                let rests = !monitored && replica.health == ReplicaHealth::Down;
                let member = Member::new(
                    ReplicaId(index),
                    replica.connection,
                    replica.name,
                    if rests {
                        ReplicaHealth::Up
                    } else {
                        replica.health
                    },
                    replica.address,
                );
                if rests {
                    member.health.failed(1);
                }
                Arc::new(member)
            })
            .collect::<Box<[_]>>();
        Inner {
            metrics: Metrics::new(System::of(primary.get_database_backend())),
            counters: Counters::default(),
            causal: config.causal_reads && positions && monitored,
            classifier,
            catalog: ArcSwapOption::empty(),
            catalog_changed: AtomicU64::new(0),
            primary,
            next_id: AtomicUsize::new(members.len()),
            replicas: ArcSwap::from_pointee(ReplicaSet { members }),
            changing: Mutex::new(()),
            config,
            monitored,
            positions,
            flavor: OnceLock::new(),
            cluster: AtomicU64::new(0),
            unscoped: Mutex::new(CausalState::default()),
            last_unscoped_write: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// The stamp of now: milliseconds on the meters' clock
    /// ([`stamp_ms`]), plus one (0 means never).
    pub(crate) fn now_stamp(&self) -> u64 {
        self.stamp_of(Instant::now())
    }

    pub(crate) fn stamp_of(&self, at: Instant) -> u64 {
        stamp_ms(at).saturating_add(1)
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
        let access = match &self.classifier {
            Some(classifier) => classifier.classify_with(sql, self.catalog.load().as_deref()),
            None => classify(sql),
        };
        if access == Access::Write && may_change_catalog(sql) {
            self.catalog_changed
                .store(self.now_stamp(), Ordering::Relaxed);
        }
        access
    }

    pub(crate) fn clock(&self) -> Clock {
        self.clock_at(self.now_stamp())
    }

    /// The clock at stamp `now`, read once by the caller for a whole
    /// attempt.
    pub(crate) fn clock_at(&self, now: u64) -> Clock {
        Clock {
            now,
            monitored: self.monitored,
            rest: millis(self.config.replica_rest),
        }
    }

    /// A new replica id, never given before.
    pub(crate) fn new_id(&self) -> ReplicaId {
        ReplicaId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Replace the replica set by `change(current)`; `None` changes nothing.
    /// Returns what `change` returned.
    pub(crate) fn change_set<R>(
        &self,
        change: impl FnOnce(&ReplicaSet) -> Result<(ReplicaSet, R), crate::MultiDbError>,
    ) -> Result<R, crate::MultiDbError> {
        let _changing = self
            .changing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (set, result) = change(&self.replicas.load())?;
        self.replicas.store(Arc::new(set));
        Ok(result)
    }

    /// What `member` can do for a read that must see `must_see`. A pool
    /// that reaches several servers never counts as having a position:
    /// the server the read lands on may not be the one checked.
    pub(crate) fn state_of(
        &self,
        member: &Member,
        clock: Clock,
        must_see: &MustSee,
    ) -> ReplicaState {
        let health = &member.health;
        let facts = ReplicaFacts {
            verdict: health.verdict().routing(),
            failed_at: health.failed_at(),
            answered_at: health.answered_at(),
        };
        replica_state(facts, clock, must_see, |positions| {
            let cluster = self.cluster();
            !member.is_load_balanced()
                && health.with_known(|known| {
                    known.is_some_and(|(_, position)| positions.reached_by(cluster, position))
                })
        })
    }

    /// `member`'s health as applications see it.
    pub(crate) fn health_of(&self, member: &Member, clock: Clock) -> ReplicaHealth {
        ReplicaHealth::of(self.state_of(member, clock, &MustSee::Nothing))
    }

    /// Whether a write outside any scope happened within the unscoped
    /// write window.
    pub(crate) fn recent_unscoped_write(&self) -> bool {
        self.recent_unscoped_write_at(self.now_stamp())
    }

    /// [`recent_unscoped_write`](Self::recent_unscoped_write) at stamp
    /// `now`.
    pub(crate) fn recent_unscoped_write_at(&self, now: u64) -> bool {
        let stamp = self.last_unscoped_write.load(Ordering::Acquire);
        stamp != 0 && now < stamp.saturating_add(millis(self.config.unscoped_write_window))
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
    pub(crate) set: &'a ReplicaSet,
    pub(crate) tried: &'a [usize],
    pub(crate) state_of: S,
    pub(crate) now: Instant,
}

impl<S: Fn(usize) -> ReplicaState> ReplicaView for Replicas<'_, S> {
    fn len(&self) -> usize {
        self.set.len()
    }

    fn usable(&self, index: usize) -> bool {
        !self.tried.contains(&index) && (self.state_of)(index) == ReplicaState::Usable
    }

    fn load(&self, index: usize) -> &LoadMeter {
        &self.set.members[index].load
    }

    fn id(&self, index: usize) -> usize {
        self.set.members[index].id.0
    }

    fn now(&self) -> Instant {
        self.now
    }
}
