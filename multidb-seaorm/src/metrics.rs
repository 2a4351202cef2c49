//! What multidb records through the `metrics` crate facade (feature
//! `metrics`): the names and labels are public promises, listed in the
//! README. [`Metrics`] holds one `MultiDb`'s handles, registered with the
//! recorder installed when it is built: recording is then an atomic add or
//! a histogram push, with no registry look-up. Without the feature it is
//! empty and every method compiles to nothing.
//!
//! Label values are bounded: fixed words, and replica names (host:port or a
//! name the user gave), never SQL text nor credentials.

use std::time::Duration;

use multidb_core::__private::Route;
use multidb_core::Target;
use sea_orm::{DbBackend, DbErr};

use crate::failover::Failure;

/// `db.system.name` as OpenTelemetry spells it. MariaDB shares SeaORM's
/// MySQL backend and is reported as `mysql`: the flavour is only known
/// after a round trip, and a label that changed then would split the series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum System {
    Postgresql,
    Mysql,
    Sqlite,
}

impl System {
    pub(crate) fn of(backend: DbBackend) -> Self {
        match backend {
            DbBackend::Postgres => System::Postgresql,
            DbBackend::Sqlite => System::Sqlite,
            _ => System::Mysql,
        }
    }

    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            System::Postgresql => "postgresql",
            System::Mysql => "mysql",
            System::Sqlite => "sqlite",
        }
    }
}

/// Times one statement run: [`Timer::at`] its start, run it, then
/// [`Metrics::operation`] (or [`Metrics::operation_ended`] when the caller
/// read the clock at its end already).
#[derive(Debug)]
#[must_use]
pub(crate) struct Timer {
    #[cfg(feature = "metrics")]
    started: std::time::Instant,
}

impl Timer {
    /// A statement run that started at `started` (the read path reads the
    /// clock once per attempt and shares it).
    #[inline]
    pub(crate) fn at(started: std::time::Instant) -> Timer {
        #[cfg(not(feature = "metrics"))]
        let _ = started;
        Timer {
            #[cfg(feature = "metrics")]
            started,
        }
    }
}

/// One `MultiDb`'s metric handles.
#[derive(Debug)]
pub(crate) struct Metrics {
    #[cfg(feature = "metrics")]
    handles: imp::Handles,
}

impl Metrics {
    /// Describe the metrics and register the handles of a `MultiDb` over
    /// `system`, with the recorder installed now.
    pub(crate) fn new(system: System) -> Self {
        #[cfg(not(feature = "metrics"))]
        let _ = system;
        Metrics {
            #[cfg(feature = "metrics")]
            handles: imp::Handles::new(system),
        }
    }

    /// `multidb.route.decisions{route, reason}` +1.
    #[inline]
    pub(crate) fn decision(&self, route: Route) {
        #[cfg(feature = "metrics")]
        self.handles.decision(route.target, route.reason);
        #[cfg(not(feature = "metrics"))]
        let _ = route;
    }

    /// One sample of `db.client.operation.duration{db.system.name,
    /// multidb.route[, error.type]}`: the time since `timer` started.
    #[inline]
    pub(crate) fn operation(&self, timer: Timer, target: Target, error: Option<&DbErr>) {
        #[cfg(feature = "metrics")]
        self.handles
            .operation(target, timer.started.elapsed(), error);
        #[cfg(not(feature = "metrics"))]
        let _ = (timer, target, error);
    }

    /// [`operation`](Self::operation) that took `took`: no clock read.
    #[inline]
    pub(crate) fn operation_took(
        &self,
        took: std::time::Duration,
        target: Target,
        error: Option<&DbErr>,
    ) {
        #[cfg(feature = "metrics")]
        self.handles.operation(target, took, error);
        #[cfg(not(feature = "metrics"))]
        let _ = (took, target, error);
    }

    /// `multidb.position.captures` +1: one round trip to the primary for
    /// its write position.
    #[inline]
    pub(crate) fn position_capture(&self) {
        #[cfg(feature = "metrics")]
        self.handles.captures.increment(1);
    }
}

/// One replica's metric handles (label `replica`: its name), registered
/// with the recorder installed when the replica joined.
#[derive(Debug)]
pub(crate) struct ReplicaMetrics {
    #[cfg(feature = "metrics")]
    handles: imp::Replica,
}

impl ReplicaMetrics {
    pub(crate) fn new(name: &str) -> Self {
        #[cfg(not(feature = "metrics"))]
        let _ = name;
        ReplicaMetrics {
            #[cfg(feature = "metrics")]
            handles: imp::Replica::new(name),
        }
    }

    /// `multidb.failovers{replica, cause}` +1: a read failed on this
    /// replica for a reason that retries it elsewhere (a final failure is
    /// not retried, and not counted).
    #[inline]
    pub(crate) fn failover(&self, failure: Failure) {
        #[cfg(feature = "metrics")]
        self.handles.failover(failure);
        #[cfg(not(feature = "metrics"))]
        let _ = failure;
    }

    /// `multidb.replica.{lag, lag_bytes, usable}{replica}` after a monitor
    /// check (a lag not measured leaves its gauge as it was).
    #[inline]
    pub(crate) fn gauges(&self, lag: Option<Duration>, lag_bytes: Option<u64>, usable: bool) {
        #[cfg(feature = "metrics")]
        self.handles.gauges(lag, lag_bytes, usable);
        #[cfg(not(feature = "metrics"))]
        let _ = (lag, lag_bytes, usable);
    }
}

#[cfg(feature = "metrics")]
mod imp {
    use std::time::Duration;

    use metrics::{Counter, Gauge, Histogram, Unit};
    use multidb_core::{Reason, Target};
    use sea_orm::DbErr;

    use super::System;
    use crate::failover::Failure;

    const DECISIONS: &str = "multidb.route.decisions";
    const DURATION: &str = "db.client.operation.duration";
    const FAILOVERS: &str = "multidb.failovers";
    const LAG: &str = "multidb.replica.lag";
    const LAG_BYTES: &str = "multidb.replica.lag_bytes";
    const USABLE: &str = "multidb.replica.usable";
    const CAPTURES: &str = "multidb.position.captures";

    const TARGETS: [Target; 2] = [Target::Primary, Target::Replica];

    /// `error.type` values: the kinds of SeaORM error.
    const ERROR_TYPES: [&str; 9] = [
        "connection_acquire",
        "connection",
        "exec",
        "query",
        "record_not_found",
        "custom",
        "type",
        "json",
        "other",
    ];

    fn target_str(target: Target) -> &'static str {
        match target {
            Target::Primary => "primary",
            Target::Replica => "replica",
        }
    }

    fn target_index(target: Target) -> usize {
        match target {
            Target::Primary => 0,
            Target::Replica => 1,
        }
    }

    /// The index of `error`'s kind in [`ERROR_TYPES`].
    fn error_type(error: &DbErr) -> usize {
        match error {
            DbErr::ConnectionAcquire(_) => 0,
            DbErr::Conn(_) => 1,
            DbErr::Exec(_) => 2,
            DbErr::Query(_) => 3,
            DbErr::RecordNotFound(_) => 4,
            DbErr::Custom(_) => 5,
            DbErr::Type(_) => 6,
            DbErr::Json(_) => 7,
            _ => 8,
        }
    }

    /// A replica's handles.
    #[derive(Debug)]
    pub(super) struct Replica {
        /// `multidb.failovers` by cause: unreachable, transient, read_only.
        failovers: [Counter; 3],
        lag: Gauge,
        lag_bytes: Gauge,
        usable: Gauge,
    }

    #[derive(Debug)]
    pub(super) struct Handles {
        /// By target, then `Reason::index`.
        decisions: Vec<Counter>,
        /// Successful statements, by target.
        durations: [Histogram; 2],
        /// Failed statements, by target, then `ERROR_TYPES` index.
        failed: Vec<Histogram>,
        pub(super) captures: Counter,
    }

    impl Handles {
        pub(super) fn new(system: System) -> Self {
            describe();
            let system = system.as_str();
            let decisions = TARGETS
                .into_iter()
                .flat_map(|target| {
                    Reason::ALL.iter().map(move |reason| {
                        metrics::counter!(
                            DECISIONS,
                            "route" => target_str(target),
                            "reason" => reason.as_str(),
                        )
                    })
                })
                .collect();
            let durations = TARGETS.map(|target| {
                metrics::histogram!(
                    DURATION,
                    "db.system.name" => system,
                    "multidb.route" => target_str(target),
                )
            });
            let failed = TARGETS
                .into_iter()
                .flat_map(|target| {
                    ERROR_TYPES.into_iter().map(move |error| {
                        metrics::histogram!(
                            DURATION,
                            "db.system.name" => system,
                            "multidb.route" => target_str(target),
                            "error.type" => error,
                        )
                    })
                })
                .collect();
            Handles {
                decisions,
                durations,
                failed,
                captures: metrics::counter!(CAPTURES),
            }
        }

        pub(super) fn decision(&self, target: Target, reason: Reason) {
            let index = target_index(target) * Reason::COUNT + reason.index();
            if let Some(counter) = self.decisions.get(index) {
                counter.increment(1);
            }
        }

        pub(super) fn operation(&self, target: Target, elapsed: Duration, error: Option<&DbErr>) {
            let histogram = match error {
                None => Some(&self.durations[target_index(target)]),
                Some(error) => self
                    .failed
                    .get(target_index(target) * ERROR_TYPES.len() + error_type(error)),
            };
            if let Some(histogram) = histogram {
                histogram.record(elapsed.as_secs_f64());
            }
        }
    }

    impl Replica {
        pub(super) fn new(name: &str) -> Self {
            Replica {
                failovers: ["unreachable", "transient", "read_only"].map(|cause| {
                    metrics::counter!(FAILOVERS, "replica" => name.to_owned(), "cause" => cause)
                }),
                lag: metrics::gauge!(LAG, "replica" => name.to_owned()),
                lag_bytes: metrics::gauge!(LAG_BYTES, "replica" => name.to_owned()),
                usable: metrics::gauge!(USABLE, "replica" => name.to_owned()),
            }
        }

        pub(super) fn failover(&self, failure: Failure) {
            let cause = match failure {
                Failure::Unreachable => 0,
                Failure::Transient => 1,
                Failure::ReadOnly => 2,
                Failure::Final => return,
            };
            self.failovers[cause].increment(1);
        }

        pub(super) fn gauges(&self, lag: Option<Duration>, lag_bytes: Option<u64>, usable: bool) {
            if let Some(lag) = lag {
                self.lag.set(lag.as_secs_f64());
            }
            if let Some(bytes) = lag_bytes {
                // f64 is exact to 2^53 bytes (8 PiB) of lag.
                self.lag_bytes.set(bytes as f64);
            }
            self.usable.set(if usable { 1.0 } else { 0.0 });
        }
    }

    /// Name, unit and help text of every metric, for exporters that print
    /// them (Prometheus `# HELP`).
    fn describe() {
        metrics::describe_counter!(
            DECISIONS,
            Unit::Count,
            "Routing decisions, by where the statement went (route) and why (reason)"
        );
        metrics::describe_histogram!(
            DURATION,
            Unit::Seconds,
            "Duration of each statement run, retries included"
        );
        metrics::describe_counter!(
            FAILOVERS,
            Unit::Count,
            "Reads that failed on a replica and were retried elsewhere"
        );
        metrics::describe_gauge!(
            LAG,
            Unit::Seconds,
            "How far behind the primary the replica was at the monitor's last check"
        );
        metrics::describe_gauge!(
            LAG_BYTES,
            Unit::Bytes,
            "How many WAL bytes behind the primary the replica was (PostgreSQL)"
        );
        metrics::describe_gauge!(
            USABLE,
            "1 while the replica takes reads, 0 while it is down, lagging or not a replica"
        );
        metrics::describe_counter!(
            CAPTURES,
            Unit::Count,
            "Round trips to the primary to capture a write position"
        );
    }
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use metrics::{
        Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata,
        Recorder, SharedString, Unit,
    };
    use multidb_core::Reason;

    use super::*;

    /// One sample: (kind, key as text, value).
    type Sample = (&'static str, String, f64);

    /// Every sample recorded.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<Sample>>>);

    struct Handle(Capture, &'static str, String);

    impl CounterFn for Handle {
        fn increment(&self, value: u64) {
            self.0.push(self.1, &self.2, value as f64);
        }
        fn absolute(&self, value: u64) {
            self.0.push(self.1, &self.2, value as f64);
        }
    }
    impl GaugeFn for Handle {
        fn increment(&self, value: f64) {
            self.0.push(self.1, &self.2, value);
        }
        fn decrement(&self, value: f64) {
            self.0.push(self.1, &self.2, -value);
        }
        fn set(&self, value: f64) {
            self.0.push(self.1, &self.2, value);
        }
    }
    impl HistogramFn for Handle {
        fn record(&self, value: f64) {
            self.0.push(self.1, &self.2, value);
        }
    }

    impl Capture {
        fn push(&self, kind: &'static str, key: &str, value: f64) {
            self.0
                .lock()
                .expect("capture lock")
                .push((kind, key.to_owned(), value));
        }
        fn samples(&self) -> Vec<Sample> {
            self.0.lock().expect("capture lock").clone()
        }
        fn handle(&self, kind: &'static str, key: &Key) -> Arc<Handle> {
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            Arc::new(Handle(
                self.clone(),
                kind,
                format!("{}{{{}}}", key.name(), labels.join(",")),
            ))
        }
    }

    impl Recorder for Capture {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(self.handle("counter", key))
        }
        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::from_arc(self.handle("gauge", key))
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::from_arc(self.handle("histogram", key))
        }
    }

    /// The samples `f` records through a `Metrics` of `system` and the
    /// handles of replicas `eu-1` and `eu-2`, registered with a recorder of
    /// its own.
    fn recorded(system: System, f: impl FnOnce(&Metrics, &[ReplicaMetrics; 2])) -> Vec<Sample> {
        let capture = Capture::default();
        let (metrics, replicas) = metrics::with_local_recorder(&capture, || {
            (
                Metrics::new(system),
                [ReplicaMetrics::new("eu-1"), ReplicaMetrics::new("eu-2")],
            )
        });
        f(&metrics, &replicas);
        capture.samples()
    }

    #[test]
    fn every_decision_has_its_route_and_reason_labels() {
        for target in [Target::Primary, Target::Replica] {
            for &reason in Reason::ALL {
                let samples = recorded(System::Postgresql, |metrics, _| {
                    let mut route = Route::primary(reason);
                    route.target = target;
                    metrics.decision(route)
                });
                assert_eq!(
                    samples,
                    vec![(
                        "counter",
                        format!("multidb.route.decisions{{route={target},reason={reason}}}"),
                        1.0
                    )]
                );
            }
        }
    }

    #[test]
    fn operations_carry_the_system_the_route_and_on_failure_the_error_type() {
        let key = |system: DbBackend, target: Target, error: Option<DbErr>| {
            let samples = recorded(System::of(system), |metrics, _| {
                metrics.operation(Timer::at(Instant::now()), target, error.as_ref())
            });
            assert_eq!(samples.len(), 1, "{samples:?}");
            assert_eq!(samples[0].0, "histogram");
            samples[0].1.clone()
        };
        assert_eq!(
            key(DbBackend::Postgres, Target::Replica, None),
            "db.client.operation.duration{db.system.name=postgresql,multidb.route=replica}"
        );
        assert_eq!(
            key(
                DbBackend::MySql,
                Target::Primary,
                Some(DbErr::Custom("boom".into()))
            ),
            "db.client.operation.duration{db.system.name=mysql,multidb.route=primary,\
             error.type=custom}"
        );
        assert_eq!(
            key(
                DbBackend::Sqlite,
                Target::Primary,
                Some(DbErr::Conn(sea_orm::RuntimeErr::Internal("x".into())))
            ),
            "db.client.operation.duration{db.system.name=sqlite,multidb.route=primary,\
             error.type=connection}"
        );
    }

    #[test]
    fn a_timer_or_a_duration_records_one_sample() {
        let samples = recorded(System::Postgresql, |metrics, _| {
            let timer = Timer::at(Instant::now());
            std::thread::sleep(Duration::from_millis(5));
            metrics.operation(timer, Target::Primary, None);
            metrics.operation_took(Duration::from_millis(7), Target::Primary, None);
        });
        assert_eq!(samples.len(), 2);
        assert!(samples[0].2 >= 0.005, "{samples:?}");
        assert!((samples[1].2 - 0.007).abs() < 1e-9, "{samples:?}");
    }

    #[test]
    fn failovers_gauges_and_captures() {
        let samples = recorded(System::Mysql, |metrics, [eu1, eu2]| {
            eu1.failover(Failure::Unreachable);
            eu2.failover(Failure::ReadOnly);
            eu2.failover(Failure::Transient);
            eu2.failover(Failure::Final);
            eu1.gauges(Some(Duration::from_millis(250)), Some(4096), true);
            eu2.gauges(None, None, false);
            metrics.position_capture();
        });
        let text: Vec<String> = samples
            .iter()
            .map(|(kind, key, value)| format!("{kind} {key} {value}"))
            .collect();
        assert_eq!(
            text,
            [
                "counter multidb.failovers{replica=eu-1,cause=unreachable} 1",
                "counter multidb.failovers{replica=eu-2,cause=read_only} 1",
                "counter multidb.failovers{replica=eu-2,cause=transient} 1",
                "gauge multidb.replica.lag{replica=eu-1} 0.25",
                "gauge multidb.replica.lag_bytes{replica=eu-1} 4096",
                "gauge multidb.replica.usable{replica=eu-1} 1",
                "gauge multidb.replica.usable{replica=eu-2} 0",
                "counter multidb.position.captures{} 1",
            ]
        );
    }
}
