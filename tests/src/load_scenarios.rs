//! Load-aware replica choice on a real cluster: one of two replicas made
//! slow (not lagging, not down) through the delay proxy that
//! `scripts/replicas.sh` puts in front of its `replica` instance
//! (`MULTIDB_<stack>_SLOWABLE_REPLICA_URL`, `ctl <stack> replica slow
//! <ms>|fast`). The other replica is the spare, reached directly: the
//! proxy's extra hop (a python3 process) keeps the first one a little
//! slower even when it is "fast", so its share once fast again is measured
//! against what it settles at, not against 50 %.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use multidb_seaorm::MultiDb;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::scenarios::Outcome;
use crate::servers::{Cluster, port_of_url};

const READERS: usize = 8;
const SLOW_MS: u64 = 20;
/// How long the replica stays slow while the readers read.
const SLOW_FOR: Duration = Duration::from_secs(6);
/// How long the readers go on after it is fast again.
const FAST_FOR: Duration = Duration::from_secs(13);

/// The replica behind the delay proxy, slowed for as long as this lives
/// (fast again on drop, also when the test fails: other tests share it).
struct Slowed {
    cluster: Cluster,
    fast: bool,
}

impl Slowed {
    fn new(cluster: &Cluster, ms: u64) -> Result<Self, String> {
        ctl(cluster, &["slow", &ms.to_string()])?;
        Ok(Slowed {
            cluster: cluster.clone(),
            fast: false,
        })
    }

    fn fast(mut self) -> Result<(), String> {
        self.fast = true;
        ctl(&self.cluster, &["fast"])
    }
}

impl Drop for Slowed {
    fn drop(&mut self) {
        if self.fast {
            return;
        }
        if let Err(error) = ctl(&self.cluster, &["fast"]) {
            eprintln!("could not make the replica fast again: {error}");
        }
    }
}

/// `scripts/replicas.sh ctl <stack> replica <action...>`.
fn ctl(cluster: &Cluster, action: &[&str]) -> Result<(), String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/replicas.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["ctl", cluster.stack(), "replica"])
        .args(action)
        .env("MULTIDB_REPLICAS_STATE_DIR", &cluster.state_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "replicas.sh ctl {} replica {} failed: {}",
            cluster.stack(),
            action.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The slowable replica's URL (`MULTIDB_<stack>_SLOWABLE_REPLICA_URL`).
fn slowable_url(cluster: &Cluster) -> Result<String, String> {
    let name = match cluster.backend {
        DbBackend::Postgres => "MULTIDB_PG_SLOWABLE_REPLICA_URL",
        _ => "MULTIDB_MYSQL_SLOWABLE_REPLICA_URL",
    };
    std::env::var(name)
        .ok()
        .filter(|url| !url.is_empty())
        .ok_or_else(|| format!("{name} is not set: run the tests under scripts/replicas.sh"))
}

/// One read: when it started (since the test began), how long it took, and
/// the port of the server that answered (the slowable replica answers with
/// its own port, not the proxy's).
struct Read {
    at: Duration,
    took: Duration,
    port: i64,
}

fn p99(reads: &[&Read]) -> Duration {
    let mut took: Vec<Duration> = reads.iter().map(|r| r.took).collect();
    took.sort();
    took.get((took.len() * 99 / 100).min(took.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// One of two replicas 20 ms slow under 8 concurrent readers, with the
/// default policy: at most 5 % of the reads go to it, no read fails, and
/// within 10 s of becoming fast again it has its share back: over some
/// second, at least 80 % of the share it settles at (the last 3 s), which
/// must be 15 % or more.
pub async fn a_slow_replica_gets_few_reads_and_its_share_back(c: &Cluster) -> Outcome {
    let slowable = slowable_url(c)?;
    let slow_port = c.port_of(&Cluster::connect(&c.replica).await?).await?;
    let spare_port = port_of_url(&c.spare).ok_or("no port in the spare's URL")?;
    let db = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(slowable.as_str())
        .replica(c.spare.as_str())
        .connect()
        .await?;
    let query = c.port_query();
    let backend = c.backend;

    let slowed = Slowed::new(c, SLOW_MS)?;
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (db, stop) = (db.clone(), stop.clone());
            tokio::spawn(async move {
                let mut reads = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let row = db
                        .query_one_raw(Statement::from_string(backend, query))
                        .await?
                        .ok_or("the port query gave no row")?;
                    reads.push(Read {
                        at: t - start,
                        took: t.elapsed(),
                        port: row.try_get::<i64>("", "port")?,
                    });
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(reads)
            })
        })
        .collect();
    tokio::time::sleep(SLOW_FOR).await;
    let fast_at = start.elapsed();
    tokio::task::spawn_blocking(move || slowed.fast()).await??;
    tokio::time::sleep(FAST_FOR).await;
    stop.store(true, Ordering::Relaxed);
    let mut reads = Vec::new();
    for reader in readers {
        // A failed read fails the test here.
        reads.extend(reader.await??);
    }

    assert!(
        reads
            .iter()
            .all(|r| r.port == slow_port || r.port == spare_port),
        "a read was answered by neither replica (the primary?)"
    );
    let window = |from: Duration, to: Duration| -> Vec<&Read> {
        reads.iter().filter(|r| r.at >= from && r.at < to).collect()
    };
    let share = |reads: &[&Read]| {
        reads.iter().filter(|r| r.port == slow_port).count() as f64 / reads.len().max(1) as f64
    };
    let slow_phase = window(Duration::ZERO, fast_at);
    let on_slow = share(&slow_phase);
    let healthy = window(fast_at + Duration::from_secs(10), start.elapsed());
    let settled = share(&healthy);
    // Recovered: the first second-long window after it became fast (in
    // 100 ms steps) with 80 % of its settled share or more.
    let back = (0..=100u32)
        .map(|step| fast_at + Duration::from_millis(100) * step)
        .find(|&from| share(&window(from, from + Duration::from_secs(1))) >= 0.8 * settled)
        .map(|from| from - fast_at);
    println!(
        "{backend:?}: one replica +{SLOW_MS} ms, {READERS} readers: {} reads, {:.2} % on the slow \
         replica, p99 {:?}; fast again: share back after {back:?}; then {} reads, {:.1} % on it, \
         p99 {:?}",
        slow_phase.len(),
        on_slow * 100.0,
        p99(&slow_phase),
        healthy.len(),
        settled * 100.0,
        p99(&healthy),
    );
    assert!(
        on_slow <= 0.05,
        "{:.2} % of the reads went to the slow replica (at most 5 %)",
        on_slow * 100.0
    );
    assert!(
        slow_phase.len() >= 100,
        "only {} reads in {SLOW_FOR:?}",
        slow_phase.len()
    );
    assert!(
        settled >= 0.15,
        "once fast again it settles at {:.1} % of the reads (at least 15 %)",
        settled * 100.0
    );
    assert!(
        back.is_some_and(|after| after <= Duration::from_secs(10)),
        "the replica fast again did not get its share back within 10 s ({back:?})"
    );
    Ok(())
}
