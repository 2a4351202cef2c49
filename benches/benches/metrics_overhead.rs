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
//! Single reads in rotating triples (bare, no recorder, recorder; which
//! goes first rotates), each timed alone: the median ratio of each routed
//! read to the bare read of its triple, and the median of the per-triple
//! growth `(recorder − no recorder) / bare`, with its 95% CI.
//!
//! The recorder is installed for this thread only (`metrics`'
//! `set_default_local_recorder`, around the recorded read), so the same
//! `MultiDb` serves both routed sides; the runtime is current-thread.
//!
//! For callgrind (`benches/callgrind.sh diff metrics_overhead …`), the cases
//! `metrics/{sqlite,postgres}/{bare,off,recorder}`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use multidb_benches::stats::{fmt_ns, quantile};
use multidb_benches::{CREATE_KV, Mode, PgHarness, ROWS, insert_kv_sql, kv, machine, paired};
use multidb_seaorm::MultiDb;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait};
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

/// One point read of row `id` on `side`, timed; the recorder is this
/// thread's only while the `Recorder` side reads.
async fn read(
    side: Side,
    id: i32,
    bare: &DatabaseConnection,
    db: &MultiDb,
    recorder: &PrometheusRecorder,
) -> Duration {
    let start = Instant::now();
    let row = match side {
        Side::Bare => kv::Entity::find_by_id(id).one(bare).await,
        Side::Off => kv::Entity::find_by_id(id).one(db).await,
        Side::Recorder => {
            let _local = metrics::set_default_local_recorder(recorder);
            kv::Entity::find_by_id(id).one(db).await
        }
    };
    black_box(row.expect("point read failed: is the database still up?"));
    start.elapsed()
}

/// `n` reads on `side`, for callgrind.
fn reads(
    rt: &Runtime,
    side: Side,
    bare: &DatabaseConnection,
    db: &MultiDb,
    recorder: &PrometheusRecorder,
    n: u64,
) -> Duration {
    rt.block_on(async {
        let mut took = Duration::ZERO;
        for i in 0..n {
            let id = (i % ROWS as u64) as i32 + 1;
            took += read(side, id, bare, db, recorder).await;
        }
        took
    })
}

fn compare(
    group: &str,
    mode: &Mode,
    rt: &Runtime,
    bare: &DatabaseConnection,
    db: &MultiDb,
    recorder: &PrometheusRecorder,
) {
    if let Some(profile) = &mode.profile {
        for (name, side) in [
            ("bare", Side::Bare),
            ("off", Side::Off),
            ("recorder", Side::Recorder),
        ] {
            profile.maybe(&format!("{group}/{name}"), |n| {
                reads(rt, side, bare, db, recorder, n)
            });
        }
        return;
    }
    if !mode.wants(group) {
        return;
    }
    let (mut off, mut on, mut growth) = (Vec::new(), Vec::new(), Vec::new());
    let (mut t_bare, mut t_off, mut t_on) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        let until = Instant::now() + mode.budget();
        let mut i = 0u64;
        while Instant::now() < until || i < 3 {
            let id = (i % ROWS as u64) as i32 + 1;
            let mut order = [Side::Bare, Side::Off, Side::Recorder];
            order.rotate_left((i % 3) as usize);
            let mut times = [0.0; 3];
            for side in order {
                let took = read(side, id, bare, db, recorder).await.as_nanos() as f64;
                times[side as usize] = took;
            }
            let [b, o, r] = times;
            off.push(o / b);
            on.push(r / b);
            growth.push((r - o) / b);
            t_bare.push(b);
            t_off.push(o);
            t_on.push(r);
            i += 1;
        }
    });
    let (lo, hi) = paired::median_ci95(&mut growth);
    let (mb, mo, mr) = (
        quantile(&mut t_bare, 0.5),
        quantile(&mut t_off, 0.5),
        quantile(&mut t_on, 0.5),
    );
    println!(
        "{group}: {} triples of single reads; median latency bare {}, no recorder {}, \
         recorder {}; median ratio to bare: no recorder {:.4}, recorder {:.4}; \
         median growth (recorder − no recorder)/bare {:.4} [95% CI {lo:.4}..{hi:.4}]{}",
        t_bare.len(),
        fmt_ns(mb),
        fmt_ns(mo),
        fmt_ns(mr),
        quantile(&mut off, 0.5),
        quantile(&mut on, 0.5),
        quantile(&mut growth, 0.5),
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
    let (bare, db) = rt.block_on(async {
        let open = || async {
            let conn = Database::connect("sqlite::memory:")
                .await
                .expect("open in-memory SQLite");
            conn.execute_unprepared(CREATE_KV)
                .await
                .expect("create bench_kv");
            conn.execute_unprepared(&insert_kv_sql())
                .await
                .expect("fill bench_kv");
            conn
        };
        let replica = open().await;
        let db = MultiDb::new(open().await, vec![replica.clone()]).expect("MultiDb over SQLite");
        (replica, db)
    });
    compare("metrics/sqlite", mode, &rt, &bare, &db, recorder);
}

fn postgres(mode: &Mode, recorder: &PrometheusRecorder) {
    let Some(pg) = PgHarness::from_env("metrics_overhead") else {
        return;
    };
    let rt = runtime();
    let (bare, db) = rt.block_on(async {
        let connect = |url: &str| {
            let mut options = ConnectOptions::new(url);
            options.sqlx_logging(false);
            async move {
                Database::connect(options)
                    .await
                    .expect("connect to the harness's PostgreSQL (scripts/replicas.sh)")
            }
        };
        let primary = connect(&pg.primary).await;
        primary
            .execute_unprepared(CREATE_KV)
            .await
            .expect("create bench_kv on the primary");
        primary
            .execute_unprepared(&insert_kv_sql())
            .await
            .expect("fill bench_kv on the primary");
        let replica = connect(&pg.replica).await;
        let until = Instant::now() + Duration::from_secs(10);
        while !matches!(
            kv::Entity::find_by_id(ROWS).one(&replica).await,
            Ok(Some(_))
        ) {
            assert!(Instant::now() < until, "bench_kv did not reach the replica");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let db = MultiDb::new(primary, vec![replica.clone()]).expect("MultiDb over PostgreSQL");
        (replica, db)
    });
    compare("metrics/postgres", mode, &rt, &bare, &db, recorder);
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
