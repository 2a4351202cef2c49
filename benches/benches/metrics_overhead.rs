//! What the `metrics` feature costs a point read (`find_by_id(id).one(&db)`
//! routed to a replica), side by side in one run: the bare replica
//! connection, `MultiDb` with no recorder installed, and the same `MultiDb`
//! recording into a Prometheus recorder. Target: with the recorder, the
//! PostgreSQL read's ratio to bare grows by at most 0.005.
//!
//!     MULTIDB_REPLICAS=pg MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \
//!       scripts/replicas.sh run -- \
//!       cargo bench -p multidb-benches --features metrics --bench metrics_overhead
//!
//! Single reads in adjacent pairs, each timed alone, in turn: bare and no
//! recorder (either first), no recorder and recorder (either first). The
//! median pair ratio of no recorder to bare, and of recorder to no
//! recorder, with their 95% CIs; the ratio to bare grows by
//! `(no recorder / bare) × (recorder / no recorder − 1)`.
//!
//! A `MultiDb` registers its metric handles with the recorder installed
//! when it is built: the routed sides are two `MultiDb`s over the same
//! replica pool, one built with no recorder, the other with a Prometheus
//! recorder installed for this thread only (`metrics`'
//! `with_local_recorder`), so that both live in one process.
//!
//! For callgrind (`benches/callgrind.sh diff metrics_overhead …`), the cases
//! `metrics/{sqlite,postgres}/{bare,off,recorder}`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use multidb_benches::stats::{fmt_ns, quantile};
use multidb_benches::{Mode, ROWS, kv, machine, paired, pg_kv, sqlite_kv};
use multidb_seaorm::MultiDb;
use multidb_tests::servers::Cluster;
use sea_orm::{DatabaseConnection, DbBackend, EntityTrait};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The three sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Bare,
    Off,
    Recorder,
}

/// The connections of the three sides.
struct Sides {
    bare: DatabaseConnection,
    /// Built with no recorder.
    off: MultiDb,
    /// Built with the recorder.
    recorded: MultiDb,
}

impl Sides {
    /// `primary` and `replica` routed twice: without and with `recorder`.
    fn new(
        primary: DatabaseConnection,
        replica: DatabaseConnection,
        recorder: &PrometheusRecorder,
    ) -> Self {
        let build = || MultiDb::new(primary.clone(), vec![replica.clone()]).expect("MultiDb");
        let off = build();
        let recorded = metrics::with_local_recorder(recorder, build);
        Sides {
            bare: replica,
            off,
            recorded,
        }
    }
}

/// One point read of row `id` on `side`, timed.
async fn read(side: Side, id: i32, sides: &Sides) -> Duration {
    let start = Instant::now();
    let row = match side {
        Side::Bare => kv::Entity::find_by_id(id).one(&sides.bare).await,
        Side::Off => kv::Entity::find_by_id(id).one(&sides.off).await,
        Side::Recorder => kv::Entity::find_by_id(id).one(&sides.recorded).await,
    };
    black_box(row.expect("point read failed: is the database still up?"));
    start.elapsed()
}

/// `n` reads on `side`, for callgrind.
fn reads(rt: &Runtime, side: Side, sides: &Sides, n: u64) -> Duration {
    rt.block_on(async {
        let mut took = Duration::ZERO;
        for i in 0..n {
            let id = (i % ROWS as u64) as i32 + 1;
            took += read(side, id, sides).await;
        }
        took
    })
}

fn compare(group: &str, mode: &Mode, rt: &Runtime, sides: &Sides, recorder: &PrometheusRecorder) {
    if let Some(profile) = &mode.profile {
        for (name, side) in [
            ("bare", Side::Bare),
            ("off", Side::Off),
            ("recorder", Side::Recorder),
        ] {
            profile.maybe(&format!("{group}/{name}"), |n| reads(rt, side, sides, n));
        }
        return;
    }
    if !mode.wants(group) {
        return;
    }
    // Adjacent pairs, in turn: (bare, no recorder), (no recorder, bare),
    // (no recorder, recorder), (recorder, no recorder).
    let (mut off_to_bare, mut on_to_off) = (Vec::new(), Vec::new());
    let (mut t_bare, mut t_off, mut t_on) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        let until = Instant::now() + mode.budget();
        let mut i = 0u64;
        while Instant::now() < until || i < 4 {
            let id = (i % ROWS as u64) as i32 + 1;
            let (first, second) = match i % 4 {
                0 => (Side::Bare, Side::Off),
                1 => (Side::Off, Side::Bare),
                2 => (Side::Off, Side::Recorder),
                _ => (Side::Recorder, Side::Off),
            };
            let mut times = [0.0; 3];
            for side in [first, second] {
                times[side as usize] = read(side, id, sides).await.as_nanos() as f64;
            }
            let [b, o, r] = times;
            if i % 4 < 2 {
                off_to_bare.push(o / b);
                t_bare.push(b);
            } else {
                on_to_off.push(r / o);
                t_on.push(r);
            }
            t_off.push(o);
            i += 1;
        }
    });
    let off = quantile(&mut off_to_bare, 0.5);
    let (off_lo, off_hi) = paired::median_ci95(&mut off_to_bare);
    let on = quantile(&mut on_to_off, 0.5);
    let (on_lo, on_hi) = paired::median_ci95(&mut on_to_off);
    let (mb, mo, mr) = (
        quantile(&mut t_bare, 0.5),
        quantile(&mut t_off, 0.5),
        quantile(&mut t_on, 0.5),
    );
    println!(
        "{group}: {} + {} pairs of single reads; median latency bare {}, no recorder {}, \
         recorder {}; no recorder / bare {off:.4} [95% CI {off_lo:.4}..{off_hi:.4}]; \
         recorder / no recorder {on:.4} [95% CI {on_lo:.4}..{on_hi:.4}]: the ratio to bare \
         grows by {:.4} [{:.4}..{:.4}]{}",
        off_to_bare.len(),
        on_to_off.len(),
        fmt_ns(mb),
        fmt_ns(mo),
        fmt_ns(mr),
        off * (on - 1.0),
        off * (on_lo - 1.0),
        off * (on_hi - 1.0),
        if mode.measure {
            ""
        } else {
            " (test run: not a measurement)"
        },
    );
    // The recorder really recorded the routed reads.
    let text = recorder.handle().render();
    assert!(
        text.contains("multidb_route_decisions{route=\"replica\",reason=\"policy\"}"),
        "nothing recorded:\n{text}"
    );
}

fn sqlite(mode: &Mode, recorder: &PrometheusRecorder) {
    let rt = runtime();
    let sides = rt.block_on(async { Sides::new(sqlite_kv().await, sqlite_kv().await, recorder) });
    compare("metrics/sqlite", mode, &rt, &sides, recorder);
}

fn postgres(mode: &Mode, recorder: &PrometheusRecorder) {
    let pg = match Cluster::from_env(DbBackend::Postgres) {
        Ok(pg) => pg,
        Err(error) => {
            eprintln!(
                "metrics_overhead: skipping the PostgreSQL benches: {error}\n\
                 Start the servers around the bench (see point_read)"
            );
            return;
        }
    };
    let rt = runtime();
    let sides = rt.block_on(async {
        let (primary, replica) = pg_kv(&pg.primary, &pg.replica).await;
        Sides::new(primary, replica, recorder)
    });
    compare("metrics/postgres", mode, &rt, &sides, recorder);
}

fn main() {
    let mode = Mode::from_args();
    println!("machine: {}", machine());
    // As the forum configures it (examples/forum/prometheus.rs).
    let recorder = PrometheusBuilder::new()
        .set_buckets(&[
            0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
        ])
        .expect("valid buckets")
        .build_recorder();
    sqlite(&mode, &recorder);
    postgres(&mode, &recorder);
    if let Some(profile) = &mode.profile {
        profile.unknown(&[
            "metrics/sqlite/bare",
            "metrics/sqlite/off",
            "metrics/sqlite/recorder",
            "metrics/postgres/bare",
            "metrics/postgres/off",
            "metrics/postgres/recorder",
        ]);
    }
}
