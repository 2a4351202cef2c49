//! Point reads by primary key from 16 concurrent readers over two
//! PostgreSQL replicas, under `RoundRobin`, `LeastOutstanding` and
//! `PeakEwma`, with both replicas healthy and with one of them +5, +20 and
//! +100 ms slow: the p50, p99 and p99.9 latency of a read, and the share
//! of reads the slow replica served. Goals (issue 20): with one replica
//! slow, the default policy's p99 within 1.2× of its all-healthy p99; its
//! healthy p50 no worse than round-robin's (ratio ≤ 1.02).
//!
//! The readers offer 3,000 reads/s in all by default, paced
//! (`MULTIDB_BENCH_RATE`; 0 for back to back). At saturation on this
//! 2-core machine the one replica left when a policy avoids the slow one
//! queues all 16 readers on the cores the servers and the bench share, and
//! the tail measures the scheduler; and a policy that leaves readers stuck
//! on the slow replica lightens the load on the fast one, which flatters
//! its own tail.
//!
//!     MULTIDB_REPLICAS=pg MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \
//!       scripts/replicas.sh run -- cargo bench -p multidb-benches --bench policies
//!
//! The slow replica is `scripts/replicas.sh`'s `replica` behind its delay
//! proxy (`MULTIDB_PG_SLOWABLE_REPLICA_URL`, made slow with `replicas.sh
//! ctl pg replica slow <ms>`); the other is the `spare`, reached directly.
//! Healthy means no proxy at all: both replicas reached directly
//! (`MULTIDB_PG_REPLICA_URL` and the spare), so the one-slow runs also pay
//! for the proxy's own work on the slow replica. (Earlier rounds put a
//! second delay proxy, without delay, in front of the spare: that single
//! Python process then carried every read a policy moved off the slow
//! replica, and set the tail it was meant to measure.) Side by side: for
//! each slowness, the three policies take turns in rounds
//! (`MULTIDB_BENCH_SECS` each, default 4 s, 3 rounds), each round after
//! 0.5 s of warm-up that is not counted. The replica monitor checks every
//! 2 s (its check times out after 1 s), so the +100 ms replica stays up:
//! what is measured is the policy, not the monitor.
//!
//! First, without servers: the cost of the choice itself, `decide` with
//! each policy's `choose` over 1, 2, 16 and 64 usable replicas as the
//! router calls it (the policies draw two replicas, never scan): it should
//! stay flat.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use multidb_benches::stats::{fmt_ns, quantile};
use multidb_benches::{CREATE_KV, Mode, ROWS, insert_kv_sql, kv, machine};
use multidb_core::__private::{Facts, Op, ReplicaState, decide};
use multidb_core::Access;
use multidb_core::policy::{LoadMeter, ReplicaPolicy, ReplicaView};
use multidb_seaorm::policy::{LeastOutstanding, PeakEwma, RoundRobin};
use multidb_seaorm::{MultiDb, Target};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use tokio::runtime::Runtime;

const READERS: usize = 16;
/// Reads per second offered by all the readers together, unless
/// `MULTIDB_BENCH_RATE` says otherwise: about a quarter of what this
/// machine's two replicas serve at saturation, as a production database
/// runs, well below its limit.
const DEFAULT_RATE: u64 = 3_000;
const SLOWNESS_MS: [u64; 4] = [0, 5, 20, 100];
const ROUNDS: usize = 3;
const WARM_UP: Duration = Duration::from_millis(500);
const POLICIES: [&str; 3] = ["RoundRobin", "LeastOutstanding", "PeakEwma"];
/// The policy `Config::default()` uses.
const DEFAULT_POLICY: &str = "PeakEwma";

fn routed(primary: &DatabaseConnection, replicas: &[DatabaseConnection], name: &str) -> MultiDb {
    let builder = MultiDb::builder().monitor_interval(Duration::from_secs(2));
    let builder = match name {
        "RoundRobin" => builder.policy(RoundRobin::new()),
        "LeastOutstanding" => builder.policy(LeastOutstanding::new()),
        _ => builder.policy(PeakEwma::new()),
    };
    builder
        .build(primary.clone(), replicas.to_vec())
        .expect("a MultiDb over the PostgreSQL cluster")
}

/// The environment this bench needs, from `scripts/replicas.sh`.
struct Cluster {
    primary: String,
    /// `replica`, directly.
    direct: String,
    /// `replica` behind its delay proxy.
    slowable: String,
    spare: String,
    replicas_sh: PathBuf,
}

impl Cluster {
    fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(primary), Some(direct), Some(slowable), Some(spare)) = (
            var("MULTIDB_PG_PRIMARY_URL"),
            var("MULTIDB_PG_REPLICA_URL"),
            var("MULTIDB_PG_SLOWABLE_REPLICA_URL"),
            var("MULTIDB_PG_SPARE_REPLICA_URL"),
        ) else {
            eprintln!(
                "policies: MULTIDB_PG_PRIMARY_URL / MULTIDB_PG_REPLICA_URL / \
                 MULTIDB_PG_SLOWABLE_REPLICA_URL / MULTIDB_PG_SPARE_REPLICA_URL are not set: \
                 skipping.\n\
                 Start the servers around the bench, e.g.:\n  \
                 MULTIDB_REPLICAS=pg MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \\\n    \
                 scripts/replicas.sh run -- cargo bench -p multidb-benches --bench policies"
            );
            return None;
        };
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts");
        Some(Cluster {
            primary,
            direct,
            slowable,
            spare,
            replicas_sh: scripts.join("replicas.sh"),
        })
    }

    /// `replicas.sh ctl pg replica slow <ms>` (0: fast).
    fn slow(&self, ms: u64) {
        let mut ctl = Command::new(&self.replicas_sh);
        ctl.args(["ctl", "pg", "replica"]);
        if ms == 0 {
            ctl.arg("fast");
        } else {
            ctl.args(["slow", &ms.to_string()]);
        }
        let status = ctl.status().expect("scripts/replicas.sh runs");
        assert!(
            status.success(),
            "replicas.sh ctl pg replica slow {ms} failed"
        );
    }
}

async fn pool(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(READERS as u32 * 2)
        .min_connections(READERS as u32 / 2)
        .acquire_timeout(Duration::from_secs(5))
        // No ping before each read: one round trip per read, so a replica
        // "+N ms" answers each read N ms late (with the ping, 2N).
        .test_before_acquire(false)
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .expect("connect to the PostgreSQL cluster")
}

/// The offered load: `MULTIDB_BENCH_RATE` reads per second over all the
/// readers (default [`DEFAULT_RATE`]); 0: every reader reads again as soon
/// as its read returns (saturation).
fn rate() -> u64 {
    std::env::var("MULTIDB_BENCH_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(DEFAULT_RATE)
}

/// `READERS` readers reading for `warm_up + span`, each at `rate / READERS`
/// reads per second (0: back to back); the latency of each read started
/// after the warm-up, in nanoseconds, from its start.
async fn read_for(db: &MultiDb, warm_up: Duration, span: Duration, rate: u64) -> Vec<f64> {
    let start = Instant::now();
    let (count_from, until) = (start + warm_up, start + warm_up + span);
    let every = (rate > 0).then(|| Duration::from_secs_f64(READERS as f64 / rate as f64));
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = r as u64 * 61;
                // Readers start spread over one period, not all at once.
                let mut next = every.map(|every| start + every * r as u32 / READERS as u32);
                loop {
                    if let Some(at) = next {
                        tokio::time::sleep_until(at.into()).await;
                    }
                    let t = Instant::now();
                    if t >= until {
                        return latencies;
                    }
                    let id = (i % ROWS as u64) as i32 + 1;
                    let row = kv::Entity::find_by_id(id)
                        .one(&db)
                        .await
                        .expect("point read failed: is the cluster still up?");
                    assert!(row.is_some(), "bench_kv has no row {id}");
                    if t >= count_from {
                        latencies.push(t.elapsed().as_nanos() as f64);
                    }
                    i += 1;
                    // Behind schedule (a slow read): the next one at once,
                    // then on the period again; no burst to catch up.
                    next = next
                        .zip(every)
                        .map(|(at, every)| (at + every).max(Instant::now()));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for reader in readers {
        all.extend(reader.await.expect("a reader panicked"));
    }
    all
}

/// What one policy did at one slowness, over every round.
#[derive(Default)]
struct Cell {
    latencies: Vec<f64>,
    on_slow: u64,
    on_replicas: u64,
}

impl Cell {
    fn p(&mut self, q: f64) -> f64 {
        quantile(&mut self.latencies, q)
    }
}

/// Every replica usable, each with some load.
struct Usable(Vec<LoadMeter>);

impl ReplicaView for Usable {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn usable(&self, _index: usize) -> bool {
        true
    }

    fn load(&self, index: usize) -> &LoadMeter {
        &self.0[index]
    }
}

/// Nanoseconds per `decide` with each policy's `choose`, over 1 to 64
/// replicas.
fn choice_cost(mode: &Mode) {
    let per_case = if mode.measure { 2_000_000 } else { 1_000 };
    println!("decide + choose, ns per read (all replicas usable):");
    println!("| replicas | RoundRobin | LeastOutstanding | PeakEwma |\n|---:|---:|---:|---:|");
    for replicas in [1usize, 2, 16, 64] {
        let view = Usable((0..replicas).map(|_| LoadMeter::new()).collect());
        for (i, meter) in view.0.iter().enumerate() {
            let started = meter.start_at(Instant::now() - Duration::from_micros(100 + i as u64));
            meter.finish(started);
        }
        let facts = Facts::new(Op::Statement(Access::Read), replicas);
        let policies: [Box<dyn ReplicaPolicy>; 3] = [
            Box::new(RoundRobin::new()),
            Box::new(LeastOutstanding::new()),
            Box::new(PeakEwma::new()),
        ];
        let cells: Vec<String> = policies
            .iter()
            .map(|policy| {
                let start = Instant::now();
                for _ in 0..per_case {
                    std::hint::black_box(decide(
                        std::hint::black_box(&facts),
                        || policy.choose(&view),
                        |_| ReplicaState::Usable,
                    ))
                    .ok();
                }
                format!("{:.1}", start.elapsed().as_nanos() as f64 / per_case as f64)
            })
            .collect();
        println!("| {replicas} | {} |", cells.join(" | "));
    }
    println!();
}

fn main() {
    let mode = Mode::from_args();
    choice_cost(&mode);
    let Some(cluster) = Cluster::from_env() else {
        return;
    };
    let rt: Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let span = mode.budget();
    let rate = rate();
    let (rounds, warm_up) = if mode.measure {
        (ROUNDS, WARM_UP)
    } else {
        (1, Duration::from_millis(50))
    };
    let (primary, direct, slowable) = rt.block_on(async {
        let primary = pool(&cluster.primary).await;
        primary
            .execute_unprepared(CREATE_KV)
            .await
            .expect("create bench_kv");
        primary
            .execute_unprepared(&insert_kv_sql())
            .await
            .expect("fill bench_kv");
        let spare = pool(&cluster.spare).await;
        let direct = vec![pool(&cluster.direct).await, spare.clone()];
        let slowable = vec![pool(&cluster.slowable).await, spare];
        for replica in direct.iter().chain(&slowable) {
            let deadline = Instant::now() + Duration::from_secs(30);
            while kv::Entity::find_by_id(ROWS)
                .one(replica)
                .await
                .ok()
                .flatten()
                .is_none()
            {
                assert!(
                    Instant::now() < deadline,
                    "bench_kv never reached a replica"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        (primary, direct, slowable)
    });
    println!("machine: {}", machine());
    let offered = match rate {
        0 => "back to back (saturation)".to_owned(),
        rate => format!("{rate} reads/s in all"),
    };
    println!(
        "policies: {READERS} readers, {offered}, point reads on 2 PostgreSQL replicas (healthy: both \
         direct; one slow: `replica` behind its delay proxy, the spare direct), {rounds} round(s) of {span:?} per policy and slowness, after {warm_up:?} of warm-up"
    );
    let mut table: Vec<(u64, Vec<(&str, Cell)>)> = Vec::new();
    for slow_ms in SLOWNESS_MS {
        if !mode.wants(&format!("slow_{slow_ms}ms")) {
            continue;
        }
        cluster.slow(slow_ms);
        let replicas = if slow_ms == 0 { &direct } else { &slowable };
        let dbs: Vec<(&str, MultiDb)> = POLICIES
            .iter()
            .map(|&name| {
                (
                    name,
                    rt.block_on(async { routed(&primary, replicas, name) }),
                )
            })
            .collect();
        let mut cells: Vec<(&str, Cell)> = POLICIES.iter().map(|&n| (n, Cell::default())).collect();
        for _ in 0..rounds {
            for ((_, db), (_, cell)) in dbs.iter().zip(cells.iter_mut()) {
                let before = db.stats();
                cell.latencies
                    .extend(rt.block_on(read_for(db, warm_up, span, rate)));
                let after = db.stats();
                cell.on_slow += after.replica(0) - before.replica(0);
                cell.on_replicas += after.total(Target::Replica) - before.total(Target::Replica);
            }
        }
        // Dropped, not closed: the pools are shared. Their monitors end.
        drop(dbs);
        table.push((slow_ms, cells));
    }
    cluster.slow(0);
    // Control: the spare alone takes every read, as it does when a policy
    // avoids the slow replica: what that costs the tail with no slow
    // replica and no policy at work.
    let mut alone = Cell::default();
    if mode.wants("alone") {
        let db = rt.block_on(async { routed(&primary, &direct[1..], DEFAULT_POLICY) });
        for _ in 0..rounds {
            alone
                .latencies
                .extend(rt.block_on(read_for(&db, warm_up, span, rate)));
        }
    }
    print_table(&mut table);
    if !alone.latencies.is_empty() {
        println!(
            "\ncontrol, the spare alone (healthy, every read on one replica): {} reads, p50 {}, \
             p99 {}, p99.9 {}",
            alone.latencies.len(),
            fmt_ns(alone.p(0.5)),
            fmt_ns(alone.p(0.99)),
            fmt_ns(alone.p(0.999))
        );
    }
}

fn print_table(table: &mut [(u64, Vec<(&str, Cell)>)]) {
    println!(
        "\n| slow replica | policy | reads | on the slow one | p50 | p99 | p99.9 |\n\
         |---|---|---:|---:|---:|---:|---:|"
    );
    let mut healthy: Vec<(String, f64, f64)> = Vec::new();
    for (slow_ms, cells) in table.iter_mut() {
        for (name, cell) in cells.iter_mut() {
            let (p50, p99, p999) = (cell.p(0.5), cell.p(0.99), cell.p(0.999));
            let share = cell.on_slow as f64 / cell.on_replicas.max(1) as f64;
            let slow = if *slow_ms == 0 {
                healthy.push((name.to_string(), p50, p99));
                "none (healthy)".to_owned()
            } else {
                format!("+{slow_ms} ms")
            };
            println!(
                "| {slow} | {name} | {} | {:.2} % | {} | {} | {} |",
                cell.latencies.len(),
                share * 100.0,
                fmt_ns(p50),
                fmt_ns(p99),
                fmt_ns(p999)
            );
        }
    }
    let of = |name: &str| healthy.iter().find(|(n, _, _)| n == name);
    if let (Some(default), Some(rr)) = (of(DEFAULT_POLICY), of("RoundRobin")) {
        println!(
            "\nhealthy p50, {DEFAULT_POLICY} / RoundRobin: {:.3} (goal ≤ 1.02)",
            default.1 / rr.1
        );
        for (slow_ms, cells) in table.iter_mut().filter(|(ms, _)| *ms > 0) {
            if let Some((_, cell)) = cells.iter_mut().find(|(n, _)| *n == DEFAULT_POLICY) {
                println!(
                    "+{slow_ms} ms: {DEFAULT_POLICY} p99 / its healthy p99: {:.2} (goal ≤ 1.2)",
                    cell.p(0.99) / default.2
                );
            }
        }
    }
}
