//! What multidb records through the `metrics` crate facade (feature
//! `metrics`): the names and labels are public promises, listed in the
//! README. Every function here is a no-op without the feature, and costs a
//! look-up of the (absent) recorder with it but no recorder installed.
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

/// Why a read failed over (`cause` of `multidb.failovers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    Unreachable,
    Transient,
    ReadOnly,
}

impl Cause {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn as_str(self) -> &'static str {
        match self {
            Cause::Unreachable => "unreachable",
            Cause::Transient => "transient",
            Cause::ReadOnly => "read_only",
        }
    }
}

/// Times one statement run: [`timer`], run it, then
/// [`Timer::operation`].
#[derive(Debug)]
#[must_use]
pub(crate) struct Timer {
    #[cfg(feature = "metrics")]
    started: std::time::Instant,
}

/// Start timing a statement run.
#[inline]
pub(crate) fn timer() -> Timer {
    Timer {
        #[cfg(feature = "metrics")]
        started: std::time::Instant::now(),
    }
}

#[cfg(feature = "metrics")]
mod imp {
    use std::sync::LazyLock;
    use std::time::Duration;

    use metrics::{Key, Label, Level, Metadata, Unit};
    use multidb_core::{Reason, Target};
    use sea_orm::DbErr;

    use super::{Cause, System};

    pub(super) const DECISIONS: &str = "multidb.route.decisions";
    pub(super) const DURATION: &str = "db.client.operation.duration";
    pub(super) const FAILOVERS: &str = "multidb.failovers";
    pub(super) const LAG: &str = "multidb.replica.lag";
    pub(super) const LAG_BYTES: &str = "multidb.replica.lag_bytes";
    pub(super) const USABLE: &str = "multidb.replica.usable";
    pub(super) const CAPTURES: &str = "multidb.position.captures";

    static METADATA: Metadata<'static> =
        Metadata::new("multidb", Level::INFO, Some(module_path!()));

    fn target_str(target: Target) -> &'static str {
        match target {
            Target::Primary => "primary",
            Target::Replica => "replica",
        }
    }

    /// One key per (target, reason), built once: recording a decision
    /// allocates nothing and hashes nothing.
    static DECISION_KEYS: LazyLock<Vec<Key>> = LazyLock::new(|| {
        [Target::Primary, Target::Replica]
            .into_iter()
            .flat_map(|target| {
                Reason::ALL.iter().map(move |reason| {
                    let labels: &'static [Label] = Box::leak(Box::new([
                        Label::from_static_parts("route", target_str(target)),
                        Label::from_static_parts("reason", reason.as_str()),
                    ]));
                    Key::from_static_parts(DECISIONS, labels)
                })
            })
            .collect()
    });

    /// The keys of successful statements, per (system, target).
    static DURATION_KEYS: LazyLock<Vec<Key>> = LazyLock::new(|| {
        [System::Postgresql, System::Mysql, System::Sqlite]
            .into_iter()
            .flat_map(|system| {
                [Target::Primary, Target::Replica]
                    .into_iter()
                    .map(move |target| {
                        let labels: &'static [Label] = Box::leak(Box::new([
                            Label::from_static_parts("db.system.name", system.as_str()),
                            Label::from_static_parts("multidb.route", target_str(target)),
                        ]));
                        Key::from_static_parts(DURATION, labels)
                    })
            })
            .collect()
    });

    fn target_index(target: Target) -> usize {
        match target {
            Target::Primary => 0,
            Target::Replica => 1,
        }
    }

    pub(super) fn describe() {
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

    pub(super) fn decision(target: Target, reason: Reason) {
        let index = target_index(target) * Reason::COUNT + reason.index();
        if let Some(key) = DECISION_KEYS.get(index) {
            metrics::with_recorder(|r| r.register_counter(key, &METADATA)).increment(1);
        }
    }

    pub(super) fn operation(
        system: System,
        target: Target,
        elapsed: Duration,
        error: Option<&DbErr>,
    ) {
        let seconds = elapsed.as_secs_f64();
        match error {
            None => {
                let index = system as usize * 2 + target_index(target);
                if let Some(key) = DURATION_KEYS.get(index) {
                    metrics::with_recorder(|r| r.register_histogram(key, &METADATA))
                        .record(seconds);
                }
            }
            Some(error) => metrics::histogram!(
                DURATION,
                "db.system.name" => system.as_str(),
                "multidb.route" => target_str(target),
                "error.type" => error_type(error),
            )
            .record(seconds),
        }
    }

    /// `error.type`: the kind of SeaORM error, a fixed word.
    fn error_type(error: &DbErr) -> &'static str {
        match error {
            DbErr::ConnectionAcquire(_) => "connection_acquire",
            DbErr::Conn(_) => "connection",
            DbErr::Exec(_) => "exec",
            DbErr::Query(_) => "query",
            DbErr::RecordNotFound(_) => "record_not_found",
            DbErr::Custom(_) => "custom",
            DbErr::Type(_) => "type",
            DbErr::Json(_) => "json",
            _ => "other",
        }
    }

    pub(super) fn failover(replica: &str, cause: Cause) {
        metrics::counter!(
            FAILOVERS,
            "replica" => replica.to_owned(),
            "cause" => cause.as_str(),
        )
        .increment(1);
    }

    pub(super) fn replica_gauges(
        replica: &str,
        lag: Option<Duration>,
        lag_bytes: Option<u64>,
        usable: bool,
    ) {
        if let Some(lag) = lag {
            metrics::gauge!(LAG, "replica" => replica.to_owned()).set(lag.as_secs_f64());
        }
        if let Some(bytes) = lag_bytes {
            // f64 is exact to 2^53 bytes (8 PiB) of lag.
            metrics::gauge!(LAG_BYTES, "replica" => replica.to_owned()).set(bytes as f64);
        }
        metrics::gauge!(USABLE, "replica" => replica.to_owned()).set(if usable {
            1.0
        } else {
            0.0
        });
    }

    pub(super) fn position_capture() {
        metrics::counter!(CAPTURES).increment(1);
    }
}

/// Name, unit and help text of every metric, for exporters that print
/// them (Prometheus `# HELP`): once per `MultiDb`, after the application
/// installed its recorder.
#[inline]
pub(crate) fn describe() {
    #[cfg(feature = "metrics")]
    imp::describe();
}

/// `multidb.route.decisions{route, reason}` +1.
#[inline]
pub(crate) fn decision(route: Route) {
    #[cfg(feature = "metrics")]
    imp::decision(route.target, route.reason);
    #[cfg(not(feature = "metrics"))]
    let _ = route;
}

impl Timer {
    /// One sample of `db.client.operation.duration{db.system.name,
    /// multidb.route[, error.type]}`: the time since [`timer`].
    #[inline]
    pub(crate) fn operation(self, system: System, target: Target, error: Option<&DbErr>) {
        #[cfg(feature = "metrics")]
        imp::operation(system, target, self.started.elapsed(), error);
        #[cfg(not(feature = "metrics"))]
        let _ = (system, target, error);
    }
}

/// `multidb.failovers{replica, cause}` +1: a read failed on `replica` for
/// a reason that retries it elsewhere (a final failure is not retried, and
/// not counted).
#[inline]
pub(crate) fn failover(replica: &str, failure: Failure) {
    let cause = match failure {
        Failure::Unreachable => Cause::Unreachable,
        Failure::Transient => Cause::Transient,
        Failure::ReadOnly => Cause::ReadOnly,
        Failure::Final => return,
    };
    #[cfg(feature = "metrics")]
    imp::failover(replica, cause);
    #[cfg(not(feature = "metrics"))]
    let _ = (replica, cause);
}

/// `multidb.replica.{lag, lag_bytes, usable}{replica}` after a monitor
/// check (a lag not measured leaves its gauge as it was).
#[inline]
pub(crate) fn replica_gauges(
    replica: &str,
    lag: Option<Duration>,
    lag_bytes: Option<u64>,
    usable: bool,
) {
    #[cfg(feature = "metrics")]
    imp::replica_gauges(replica, lag, lag_bytes, usable);
    #[cfg(not(feature = "metrics"))]
    let _ = (replica, lag, lag_bytes, usable);
}

/// `multidb.position.captures` +1: one round trip to the primary for its
/// write position.
#[inline]
pub(crate) fn position_capture() {
    #[cfg(feature = "metrics")]
    imp::position_capture();
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use std::sync::{Arc, Mutex};

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

    fn recorded(f: impl FnOnce()) -> Vec<Sample> {
        let capture = Capture::default();
        metrics::with_local_recorder(&capture, f);
        capture.samples()
    }

    #[test]
    fn every_decision_has_its_route_and_reason_labels() {
        for target in [Target::Primary, Target::Replica] {
            for &reason in Reason::ALL {
                let samples = recorded(|| {
                    let mut route = Route::primary(reason);
                    route.target = target;
                    decision(route)
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
        let samples = recorded(|| {
            imp::operation(
                System::of(DbBackend::Postgres),
                Target::Replica,
                Duration::from_millis(1500),
                None,
            );
            imp::operation(
                System::of(DbBackend::MySql),
                Target::Primary,
                Duration::from_millis(2),
                Some(&DbErr::Custom("boom".into())),
            );
            imp::operation(
                System::of(DbBackend::Sqlite),
                Target::Primary,
                Duration::ZERO,
                None,
            );
        });
        assert_eq!(
            samples,
            vec![
                (
                    "histogram",
                    "db.client.operation.duration{db.system.name=postgresql,multidb.route=replica}"
                        .to_owned(),
                    1.5
                ),
                (
                    "histogram",
                    "db.client.operation.duration{db.system.name=mysql,multidb.route=primary,\
                     error.type=custom}"
                        .to_owned(),
                    0.002
                ),
                (
                    "histogram",
                    "db.client.operation.duration{db.system.name=sqlite,multidb.route=primary}"
                        .to_owned(),
                    0.0
                ),
            ]
        );
    }

    #[test]
    fn a_timer_records_one_sample_of_the_time_it_ran() {
        let samples = recorded(|| {
            let timer = timer();
            std::thread::sleep(Duration::from_millis(5));
            timer.operation(System::Postgresql, Target::Primary, None);
        });
        assert_eq!(samples.len(), 1);
        assert!(samples[0].2 >= 0.005, "{samples:?}");
    }

    #[test]
    fn failovers_gauges_and_captures() {
        let samples = recorded(|| {
            failover("10.0.0.7:5432", Failure::Unreachable);
            failover("eu-1", Failure::ReadOnly);
            failover("eu-1", Failure::Transient);
            failover("eu-1", Failure::Final);
            replica_gauges("eu-1", Some(Duration::from_millis(250)), Some(4096), true);
            replica_gauges("eu-2", None, None, false);
            position_capture();
        });
        let text: Vec<String> = samples
            .iter()
            .map(|(kind, key, value)| format!("{kind} {key} {value}"))
            .collect();
        assert_eq!(
            text,
            [
                "counter multidb.failovers{replica=10.0.0.7:5432,cause=unreachable} 1",
                "counter multidb.failovers{replica=eu-1,cause=read_only} 1",
                "counter multidb.failovers{replica=eu-1,cause=transient} 1",
                "gauge multidb.replica.lag{replica=eu-1} 0.25",
                "gauge multidb.replica.lag_bytes{replica=eu-1} 4096",
                "gauge multidb.replica.usable{replica=eu-1} 1",
                "gauge multidb.replica.usable{replica=eu-2} 0",
                "counter multidb.position.captures{} 1",
            ]
        );
    }
}
