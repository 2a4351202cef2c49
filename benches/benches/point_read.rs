//! A point read by primary key (`Entity::find_by_id(id).one(&db)`) through
//! `MultiDb`, routed to a replica, next to the same read on that replica's
//! bare `DatabaseConnection`: what routing adds to a real read. Target:
//! ratio ≤ 1.02.
//!
//!     cargo bench -p multidb-benches --bench point_read
//!
//! On in-memory SQLite always; on the PostgreSQL replica of
//! `scripts/replicas.sh` (over loopback) when its variables are set:
//!
//!     MULTIDB_REPLICAS=pg MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \
//!       scripts/replicas.sh run -- cargo bench -p multidb-benches --bench point_read
//!
//! Both sides read through the very same replica connection (pool), so the
//! only difference is multidb's routing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use multidb_benches::stats::{fmt_ns, quantile};
use multidb_benches::{Mode, ROWS, kv, machine, paired, pg_kv, sqlite_kv};
use multidb_seaorm::{MultiDb, Reason, Target};
use multidb_tests::servers::Cluster;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// `n` point reads on `db`, cycling over the ids; the time they took.
fn reads<C: ConnectionTrait>(rt: &Runtime, db: &C, n: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for i in 0..n {
            let id = (i % ROWS as u64) as i32 + 1;
            let row = kv::Entity::find_by_id(id)
                .one(db)
                .await
                .expect("point read failed: is the database still up?");
            black_box(row);
        }
        start.elapsed()
    })
}

/// Both sides find the row, and the routed one really read the replica.
fn check(rt: &Runtime, bare: &DatabaseConnection, db: &MultiDb) {
    rt.block_on(async {
        let want = kv::Entity::find_by_id(7)
            .one(bare)
            .await
            .expect("bare read");
        let got = kv::Entity::find_by_id(7)
            .one(db)
            .await
            .expect("routed read");
        assert!(want.is_some(), "bench_kv has no row 7");
        assert_eq!(
            want, got,
            "MultiDb read another row than the bare connection"
        );
    });
    let stats = db.stats();
    assert_eq!(
        stats.count(Target::Replica, Reason::Policy),
        stats.total(Target::Replica) + stats.total(Target::Primary),
        "the routed reads did not all go to the replica"
    );
}

fn bench(
    c: &mut Criterion,
    mode: &Mode,
    group: &str,
    rt: &Runtime,
    bare: &DatabaseConnection,
    db: &MultiDb,
) {
    check(rt, bare, db);
    if let Some(profile) = &mode.profile {
        profile.maybe(&format!("{group}/bare"), |n| reads(rt, bare, n));
        profile.maybe(&format!("{group}/multidb"), |n| reads(rt, db, n));
        return;
    }
    let mut g = c.benchmark_group(group);
    g.bench_function("bare", |b| b.iter_custom(|n| reads(rt, bare, n)));
    g.bench_function("multidb", |b| b.iter_custom(|n| reads(rt, db, n)));
    g.finish();
    if mode.wants(group) {
        paired::compare(group, mode, |n| reads(rt, bare, n), |n| reads(rt, db, n));
        alternating(group, mode, rt, bare, db);
        check(rt, bare, db);
    }
}

/// The finest interleaving: single reads, bare and routed in turn (which
/// goes first alternates), each timed alone; the median of the ratios of
/// adjacent pairs, and each side's median latency. With hundreds of
/// thousands of pairs the medians are sharp even when single reads are
/// noisy, and any drift in the machine's load hits both sides alike.
fn alternating(group: &str, mode: &Mode, rt: &Runtime, bare: &DatabaseConnection, db: &MultiDb) {
    let (mut b, mut r, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        let until = Instant::now() + mode.budget();
        let mut i = 0u64;
        while Instant::now() < until || i < 2 {
            let id = (i % ROWS as u64) as i32 + 1;
            let time = |first: bool| async move {
                let t = Instant::now();
                let row = if first {
                    kv::Entity::find_by_id(id).one(bare).await
                } else {
                    kv::Entity::find_by_id(id).one(db).await
                };
                black_box(row.expect("point read failed: is the database still up?"));
                t.elapsed().as_nanos() as f64
            };
            let (tb, tr) = if i.is_multiple_of(2) {
                let tb = time(true).await;
                (tb, time(false).await)
            } else {
                let tr = time(false).await;
                (time(true).await, tr)
            };
            b.push(tb);
            r.push(tr);
            ratios.push(tr / tb);
            i += 1;
        }
    });
    let ratio = quantile(&mut ratios, 0.5);
    let (lo, hi) = paired::median_ci95(&mut ratios);
    let (mb, mr) = (quantile(&mut b, 0.5), quantile(&mut r, 0.5));
    println!(
        "alternating {group}: {} pairs of single reads; median latency bare {}, multidb {} \
         (ratio of medians {:.3}, difference {}); median pair ratio {ratio:.3} [95% CI {lo:.3}..{hi:.3}]{}",
        b.len(),
        fmt_ns(mb),
        fmt_ns(mr),
        mr / mb,
        fmt_ns(mr - mb),
        if mode.measure {
            ""
        } else {
            " (test run: not a measurement)"
        },
    );
}

fn sqlite(c: &mut Criterion, mode: &Mode) {
    let rt = runtime();
    let (bare, db) = rt.block_on(async {
        let replica = sqlite_kv().await;
        let db =
            MultiDb::new(sqlite_kv().await, vec![replica.clone()]).expect("MultiDb over SQLite");
        (replica, db)
    });
    bench(c, mode, "point_read/sqlite", &rt, &bare, &db);
}

fn postgres(c: &mut Criterion, mode: &Mode) {
    let pg = match Cluster::from_env(DbBackend::Postgres) {
        Ok(pg) => pg,
        Err(error) => {
            eprintln!(
                "point_read: skipping the PostgreSQL benches: {error}\n\
                 Start the servers around the bench, e.g.:\n  \
                 MULTIDB_REPLICAS=pg MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \\\n    \
                 scripts/replicas.sh run -- cargo bench -p multidb-benches --bench point_read"
            );
            return;
        }
    };
    let rt = runtime();
    let (bare, db) = rt.block_on(async {
        let (primary, replica) = pg_kv(&pg.primary, &pg.replica).await;
        let db = MultiDb::new(primary, vec![replica.clone()]).expect("MultiDb over PostgreSQL");
        (replica, db)
    });
    bench(c, mode, "point_read/postgres", &rt, &bare, &db);
}

fn main() {
    let mode = Mode::from_args();
    println!("machine: {}", machine());
    let mut c = multidb_benches::criterion();
    sqlite(&mut c, &mode);
    postgres(&mut c, &mode);
    if let Some(profile) = &mode.profile {
        profile.unknown(&[
            "point_read/sqlite/bare",
            "point_read/sqlite/multidb",
            "point_read/postgres/bare",
            "point_read/postgres/multidb",
        ]);
    }
    c.final_summary();
}
