//! multidb next to what a user would otherwise put in front of their
//! servers: pgpool-II in streaming-replication mode with load balancing.
//! The same work, in one run, in alternating phases, on loopback:
//!
//! * `point`: a point read by primary key (`Entity::find_by_id(id).one(&db)`);
//! * `mix`: 90 % of those reads, 10 % `UPDATE bench_kv SET v = $1 WHERE id = $2`;
//!
//! at 1 and at 32 concurrent clients, each client a tokio task sending one
//! operation after the other. Through pgpool: one SeaORM connection pool to
//! pgpool. Through multidb: `MultiDb` over pools straight to the primary and
//! the replicas, each operation in its own `scope` (as a request would be).
//! Reported: p50 and p99 latency and throughput of each, and their ratios.
//!
//!     MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \
//!       scripts/pgpool.sh run -- cargo bench -p multidb-benches --bench pgpool
//!
//! (`scripts/pgpool.sh` starts the PostgreSQL servers with
//! `scripts/replicas.sh` when they are not running, then pgpool-II in front
//! of them.) `MULTIDB_PGPOOL_BENCH_SECS` (default 1) is the length of one
//! phase; `MULTIDB_PGPOOL_BENCH_ROUNDS` (default 5) the phases per system.

use std::time::{Duration, Instant};

use multidb_benches::stats::{fmt_ns, quantile};
use multidb_benches::{CREATE_KV, Mode, ROWS, insert_kv_sql, kv, machine};
use multidb_seaorm::{MultiDb, Target, scope};
use multidb_tests::servers::Cluster;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
    Statement,
};

const UPDATE: &str = "UPDATE bench_kv SET v = $1 WHERE id = $2";

/// The two ways to reach the servers.
#[derive(Clone)]
enum System {
    Pgpool(DatabaseConnection),
    MultiDb(MultiDb),
}

impl System {
    fn name(&self) -> &'static str {
        match self {
            System::Pgpool(_) => "pgpool-II",
            System::MultiDb(_) => "multidb",
        }
    }

    /// One operation: a point read, or (`write`) an update.
    async fn op(&self, id: i32, write: bool) {
        match self {
            System::Pgpool(db) => op(db, id, write).await,
            System::MultiDb(db) => scope(op(db, id, write)).await,
        }
    }
}

async fn op<C: ConnectionTrait>(db: &C, id: i32, write: bool) {
    if write {
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            UPDATE,
            [format!("updated {id}").into(), id.into()],
        );
        db.execute_raw(stmt)
            .await
            .expect("update failed: are the servers (and pgpool) still up?");
    } else {
        let row = kv::Entity::find_by_id(id)
            .one(db)
            .await
            .expect("point read failed: are the servers (and pgpool) still up?");
        assert!(row.is_some(), "bench_kv has no row {id}");
    }
}

/// What one system did over all its phases of one scenario.
#[derive(Default)]
struct Tally {
    latencies_ns: Vec<f64>,
    ops: u64,
    busy: Duration,
}

impl Tally {
    fn p(&mut self, q: f64) -> f64 {
        quantile(&mut self.latencies_ns, q)
    }

    fn throughput(&self) -> f64 {
        self.ops as f64 / self.busy.as_secs_f64()
    }
}

/// `clients` tasks sending operations for `length`; every latency.
async fn phase(
    system: &System,
    clients: usize,
    write_every: Option<u64>,
    length: Duration,
) -> Tally {
    let start = Instant::now();
    let until = start + length;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let system = system.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(16_384);
                let mut i = 0u64;
                while Instant::now() < until {
                    let write =
                        write_every.is_some_and(|every| (i + client as u64).is_multiple_of(every));
                    // Reads spread over every row; each client writes its own
                    // rows, so writers never wait on each other's row locks.
                    let id = if write {
                        (client as i32 + 32 * (i as i32 % (ROWS / 32))) % ROWS + 1
                    } else {
                        ((i * 37 + client as u64 * 101) % ROWS as u64) as i32 + 1
                    };
                    let t = Instant::now();
                    system.op(id, write).await;
                    latencies.push(t.elapsed().as_nanos() as f64);
                    i += 1;
                }
                latencies
            })
        })
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        let latencies = task.await.expect("a client task panicked");
        tally.ops += latencies.len() as u64;
        tally.latencies_ns.extend(latencies);
    }
    tally.busy = start.elapsed();
    tally
}

async fn connect(url: &str, pool: u32) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(pool)
        .min_connections(pool)
        .sqlx_logging(false);
    Database::connect(options).await.unwrap_or_else(|e| {
        panic!(
            "cannot connect to {url} ({e}): are scripts/replicas.sh and scripts/pgpool.sh running?"
        )
    })
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v: &f64| *v > 0.0)
        .unwrap_or(default)
}

fn main() {
    let mode = Mode::from_args();
    let pg = match Cluster::from_env(DbBackend::Postgres) {
        Ok(pg) => pg,
        Err(error) => {
            eprintln!(
                "pgpool: skipping the PostgreSQL benches: {error}\n\
                 Start the servers around the bench, e.g.:\n  \
                 MULTIDB_REPLICAS=pg MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \\\n    \
                 scripts/replicas.sh run -- cargo bench -p multidb-benches --bench pgpool"
            );
            return;
        }
    };
    let Some(pgpool_url) = std::env::var("MULTIDB_PGPOOL_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "pgpool: MULTIDB_PGPOOL_URL is not set: skipping. Run it under scripts/pgpool.sh:\n  \
             MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \\\n    \
             scripts/pgpool.sh run -- cargo bench -p multidb-benches --bench pgpool"
        );
        return;
    };
    let (length, rounds) = if mode.measure {
        (
            Duration::from_secs_f64(env_f64("MULTIDB_PGPOOL_BENCH_SECS", 1.0)),
            env_f64("MULTIDB_PGPOOL_BENCH_ROUNDS", 5.0) as usize,
        )
    } else {
        (Duration::from_millis(50), 1)
    };
    println!("machine: {}", machine());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        const POOL: u32 = 32;
        let primary = connect(&pg.primary, POOL).await;
        primary.execute_unprepared(CREATE_KV).await.expect("create bench_kv");
        primary.execute_unprepared(&insert_kv_sql()).await.expect("fill bench_kv");
        let mut replicas = vec![connect(&pg.replica, POOL).await];
        replicas.push(connect(&pg.delayed, POOL).await);
        let pgpool = connect(&pgpool_url, POOL).await;
        if std::env::var("MULTIDB_PGPOOL_STATEMENT_LB").is_ok_and(|v| v == "on") {
            println!("pgpool: statement_level_load_balance = on");
        }
        // Every replica (the delayed one too) has the rows before we read.
        let until = Instant::now() + Duration::from_secs(10);
        for replica in &replicas {
            while !matches!(kv::Entity::find_by_id(ROWS).one(replica).await, Ok(Some(_))) {
                assert!(Instant::now() < until, "bench_kv did not reach a replica in 10 s");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let multidb = MultiDb::new(primary, replicas).expect("MultiDb over PostgreSQL");
        let systems = [System::Pgpool(pgpool.clone()), System::MultiDb(multidb.clone())];

        println!(
            "pgpool: {} phases of {:.1} s per system and scenario, alternating; latencies in one table",
            rounds,
            length.as_secs_f64()
        );
        println!(
            "| scenario | clients | pgpool p50 | multidb p50 | p50 ratio | pgpool p99 | multidb p99 | p99 ratio | pgpool ops/s | multidb ops/s | throughput ratio |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        // Warm-up, once: every pooled connection of both systems opened and
        // used (pgpool's children connect to the backends, statements get
        // prepared, pgpool's relation cache fills).
        for system in &systems {
            phase(system, POOL as usize, Some(10), length.max(Duration::from_secs(1))).await;
        }
        for (scenario, write_every) in [("point", None), ("mix 90/10", Some(10))] {
            for clients in [1usize, 32] {
                // A short warm-up at this concurrency.
                for system in &systems {
                    phase(system, clients, write_every, length / 4).await;
                }
                let mut tallies = [Tally::default(), Tally::default()];
                for round in 0..rounds {
                    for k in 0..2 {
                        let which = (k + round) % 2; // who goes first alternates
                        let t = phase(&systems[which], clients, write_every, length).await;
                        let tally = &mut tallies[which];
                        tally.ops += t.ops;
                        tally.busy += t.busy;
                        tally.latencies_ns.extend(t.latencies_ns);
                    }
                }
                let [mut pool, mut ours] = tallies;
                let (pool50, ours50) = (pool.p(0.5), ours.p(0.5));
                let (pool99, ours99) = (pool.p(0.99), ours.p(0.99));
                println!(
                    "| {scenario} | {clients} | {} | {} | {:.2} | {} | {} | {:.2} | {:.0} | {:.0} | {:.2} |",
                    fmt_ns(pool50),
                    fmt_ns(ours50),
                    pool50 / ours50,
                    fmt_ns(pool99),
                    fmt_ns(ours99),
                    pool99 / ours99,
                    pool.throughput(),
                    ours.throughput(),
                    ours.throughput() / pool.throughput(),
                );
            }
        }
        println!("ratios: latency = pgpool / multidb (above 1: pgpool is slower); throughput = multidb / pgpool");
        println!("(pgpool's own counts per backend: scripts/pgpool.sh prints SHOW pool_nodes when it stops)");
        let stats = multidb.stats();
        println!(
            "{}: {} statements on replicas ({}), {} on the primary",
            systems[1].name(),
            stats.total(Target::Replica),
            (0..multidb.replicas().len())
                .map(|i| format!("replica {i}: {}", stats.replica(i)))
                .collect::<Vec<_>>()
                .join(", "),
            stats.total(Target::Primary),
        );
    });
}
