//! Point reads by primary key from 16 concurrent readers over two
//! PostgreSQL replicas, under `RoundRobin`, `LeastOutstanding` and
//! `PeakEwma`, with both replicas healthy and with one of them +5, +20 and
//! +100 ms slow: the p50, p99 and p99.9 latency of a read, and the share
//! of reads the slow replica served. Goals (issue 20): with one replica
//! slow, the default policy's p99 within 1.2× of its all-healthy p99; its
//! healthy p50 no worse than round-robin's (ratio ≤ 1.02).
//!
//!     MULTIDB_REPLICAS=pg MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \
//!       scripts/replicas.sh run -- cargo bench -p multidb-benches --bench policies
//!
//! The slow replica is `scripts/replicas.sh`'s `replica` behind its delay
//! proxy (`MULTIDB_PG_SLOWABLE_REPLICA_URL`, made slow with `replicas.sh
//! ctl pg replica slow <ms>`); the other is the `spare`, behind a second
//! delay proxy that this bench starts without delay, so that both replicas
//! are reached the same way. Side by side: for each slowness, the three
//! policies take turns in rounds (`MULTIDB_BENCH_SECS` each, default 4 s,
//! 3 rounds), each round after 0.5 s of warm-up that is not counted. The
//! replica monitor checks every 2 s (its check times out after 1 s), so the
//! +100 ms replica stays up: what is measured is the policy, not the
//! monitor.
//!
//! First, without servers: the cost of the choice itself, `decide` with
//! each policy's `choose` over 1, 2, 16 and 64 usable replicas as the
//! router calls it (the policies draw two replicas, never scan): it should
//! stay flat.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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
    slowable: String,
    spare_port: u16,
    replicas_sh: PathBuf,
}

impl Cluster {
    fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(primary), Some(slowable), Some(spare)) = (
            var("MULTIDB_PG_PRIMARY_URL"),
            var("MULTIDB_PG_SLOWABLE_REPLICA_URL"),
            var("MULTIDB_PG_SPARE_REPLICA_URL"),
        ) else {
            eprintln!(
                "policies: MULTIDB_PG_PRIMARY_URL / MULTIDB_PG_SLOWABLE_REPLICA_URL / \
                 MULTIDB_PG_SPARE_REPLICA_URL are not set: skipping.\n\
                 Start the servers around the bench, e.g.:\n  \
                 MULTIDB_REPLICAS=pg MULTIDB_PG_PORT=27432 MULTIDB_REPLICAS_DIR=/dev/shm/mdb-bench \\\n    \
                 scripts/replicas.sh run -- cargo bench -p multidb-benches --bench policies"
            );
            return None;
        };
        let spare_port = port_of(&spare).expect("MULTIDB_PG_SPARE_REPLICA_URL has a port");
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts");
        Some(Cluster {
            primary,
            slowable,
            spare_port,
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

fn port_of(url: &str) -> Option<u16> {
    let authority = url.split("://").nth(1)?.split('/').next()?;
    authority.rsplit(':').next()?.parse().ok()
}

/// A delay proxy without delay in front of the spare, like the one in
/// front of the slowable replica: the same way to both. Stopped on drop.
struct SpareProxy {
    child: Child,
    url: String,
    control: PathBuf,
}

impl SpareProxy {
    fn start(cluster: &Cluster) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let control =
            std::env::temp_dir().join(format!("multidb-policies-{}.sock", std::process::id()));
        let script = cluster.replicas_sh.with_file_name("delay-proxy.py");
        let child = Command::new("python3")
            .arg(&script)
            .args(["serve", "--listen", &port.to_string(), "--upstream"])
            .arg(cluster.spare_port.to_string())
            .arg("--control")
            .arg(&control)
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 scripts/delay-proxy.py starts");
        let proxy = SpareProxy {
            child,
            url: cluster.slowable.replace(
                &format!(":{}/", port_of(&cluster.slowable).expect("a port")),
                &format!(":{port}/"),
            ),
            control,
        };
        let ready = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            Command::new("python3")
                .arg(&script)
                .args(["set", "--control"])
                .arg(&proxy.control)
                .arg("0")
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        assert!(ready, "the spare's delay proxy did not start");
        proxy
    }
}

impl Drop for SpareProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.control);
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

/// `READERS` readers reading for `warm_up + span`; the latency of each read
/// started after the warm-up, in nanoseconds.
async fn read_for(db: &MultiDb, warm_up: Duration, span: Duration) -> Vec<f64> {
    let start = Instant::now();
    let (count_from, until) = (start + warm_up, start + warm_up + span);
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = r as u64 * 61;
                loop {
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
    let (rounds, warm_up) = if mode.measure {
        (ROUNDS, WARM_UP)
    } else {
        (1, Duration::from_millis(50))
    };
    let spare = SpareProxy::start(&cluster);
    let (primary, replicas) = rt.block_on(async {
        let primary = pool(&cluster.primary).await;
        primary
            .execute_unprepared(CREATE_KV)
            .await
            .expect("create bench_kv");
        primary
            .execute_unprepared(&insert_kv_sql())
            .await
            .expect("fill bench_kv");
        let replicas = vec![pool(&cluster.slowable).await, pool(&spare.url).await];
        for replica in &replicas {
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
        (primary, replicas)
    });
    println!("machine: {}", machine());
    println!(
        "policies: {READERS} readers, point reads on 2 PostgreSQL replicas (each behind a delay \
         proxy), {rounds} round(s) of {span:?} per policy and slowness, after {warm_up:?} of warm-up"
    );
    let mut table: Vec<(u64, Vec<(&str, Cell)>)> = Vec::new();
    for slow_ms in SLOWNESS_MS {
        if !mode.wants(&format!("slow_{slow_ms}ms")) {
            continue;
        }
        cluster.slow(slow_ms);
        let dbs: Vec<(&str, MultiDb)> = POLICIES
            .iter()
            .map(|&name| {
                (
                    name,
                    rt.block_on(async { routed(&primary, &replicas, name) }),
                )
            })
            .collect();
        let mut cells: Vec<(&str, Cell)> = POLICIES.iter().map(|&n| (n, Cell::default())).collect();
        for _ in 0..rounds {
            for ((_, db), (_, cell)) in dbs.iter().zip(cells.iter_mut()) {
                let before = db.stats();
                cell.latencies
                    .extend(rt.block_on(read_for(db, warm_up, span)));
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
    print_table(&mut table);
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
