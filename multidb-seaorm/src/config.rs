//! Every setting of a [`MultiDb`](crate::MultiDb), with its default: one
//! place. The builder fills a [`Config`]; the connection keeps it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use multidb_core::policy::{PeakEwma, ReplicaPolicy};
use sea_orm::metric::Info;

/// How long, by default, reads go to the primary after a write made outside
/// any scope (see [`MultiDbBuilder::unscoped_write_window`](crate::MultiDbBuilder::unscoped_write_window)).
pub(crate) const DEFAULT_UNSCOPED_WRITE_WINDOW: Duration = Duration::from_secs(15);

/// How long, by default, reads skip a replica after a read failed on it,
/// when no monitor watches it (see [`MultiDbBuilder::replica_rest`](crate::MultiDbBuilder::replica_rest)).
pub(crate) const DEFAULT_REPLICA_REST: Duration = Duration::from_secs(5);

/// How often, by default, the monitor checks every replica (see
/// [`MultiDbBuilder::monitor_interval`](crate::MultiDbBuilder::monitor_interval)).
pub(crate) const DEFAULT_MONITOR_INTERVAL: Duration = Duration::from_millis(500);

/// Connect and acquire timeout given to replica pools whose
/// `ConnectOptions` set none: a dead replica then costs a read at most this
/// long before it is retried elsewhere (sqlx retries a refused connect until
/// the acquire timeout, 30 s by default).
pub(crate) const DEFAULT_REPLICA_TIMEOUT: Duration = Duration::from_secs(1);

/// Connect and acquire timeout given to the primary's pool when its
/// `ConnectOptions` set none: with the primary down, a write fails after
/// this long instead of hanging for sqlx's 30 s. Raise it (on your own
/// `ConnectOptions`) if your primary pool is often exhausted under load.
pub(crate) const DEFAULT_PRIMARY_TIMEOUT: Duration = Duration::from_secs(2);

/// A callback SeaORM calls after each statement (see
/// [`MultiDbBuilder::metric_callback`](crate::MultiDbBuilder::metric_callback)).
pub(crate) type MetricCallback = Arc<dyn Fn(&Info<'_>) + Send + Sync>;

/// The settings of one `MultiDb`.
pub(crate) struct Config {
    pub(crate) policy: Box<dyn ReplicaPolicy>,
    pub(crate) unscoped_write_window: Duration,
    pub(crate) replica_rest: Duration,
    pub(crate) monitor_interval: Duration,
    pub(crate) max_replica_lag: Option<Duration>,
    pub(crate) max_replica_lag_bytes: Option<u64>,
    pub(crate) fallback_to_primary: bool,
    pub(crate) causal_reads: bool,
    /// How long a causal read may wait for a replica to reach its
    /// position before it goes to the primary; zero: it does not wait.
    pub(crate) causal_wait: Duration,
    pub(crate) read_only_functions: Vec<String>,
    pub(crate) metric_callback: Option<MetricCallback>,
    /// The replicas' names, in order (see `names.rs`); missing ones are
    /// derived.
    pub(crate) replica_names: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            policy: Box::new(PeakEwma::new()),
            unscoped_write_window: DEFAULT_UNSCOPED_WRITE_WINDOW,
            replica_rest: DEFAULT_REPLICA_REST,
            monitor_interval: DEFAULT_MONITOR_INTERVAL,
            max_replica_lag: None,
            max_replica_lag_bytes: None,
            fallback_to_primary: true,
            causal_reads: true,
            causal_wait: Duration::ZERO,
            read_only_functions: Vec::new(),
            metric_callback: None,
            replica_names: Vec::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("policy", &self.policy)
            .field("unscoped_write_window", &self.unscoped_write_window)
            .field("replica_rest", &self.replica_rest)
            .field("monitor_interval", &self.monitor_interval)
            .field("max_replica_lag", &self.max_replica_lag)
            .field("max_replica_lag_bytes", &self.max_replica_lag_bytes)
            .field("fallback_to_primary", &self.fallback_to_primary)
            .field("causal_reads", &self.causal_reads)
            .field("causal_wait", &self.causal_wait)
            .field("read_only_functions", &self.read_only_functions)
            .field("metric_callback", &self.metric_callback.is_some())
            .field("replica_names", &self.replica_names)
            .finish()
    }
}
