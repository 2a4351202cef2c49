//! DNS discovery of replicas against a real DNS server (Debian's dnsmasq,
//! started by `scripts/dnsmasq.sh`) whose records change under a read load.
//! The replicas answer on distinct loopback addresses (127.0.0.2, 127.0.0.3)
//! through TCP forwarders (`scripts/haproxy.sh`, one server each), as they
//! would on distinct hosts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use multidb_seaorm::{Discovery, MultiDb};
use sea_orm::DbBackend;

use crate::balancer_scenarios::Balancer;
use crate::membership_scenarios::{Seen, readers};
use crate::scenarios::Outcome;
use crate::servers::{Cluster, Instance, run_script, wait_until};

const REFRESH: Duration = Duration::from_millis(500);

/// dnsmasq on a loopback port, stopped when dropped.
struct Dns {
    dir: String,
    port: u16,
}

fn dnsmasq(args: &[&str]) -> Result<(), String> {
    run_script("dnsmasq.sh", args)
}

impl Dns {
    fn start(dir: String, port: u16) -> Result<Self, String> {
        dnsmasq(&["start", &dir, &port.to_string()])?;
        Ok(Dns { dir, port })
    }

    fn set(&self, name: &str, addresses: &[&str]) -> Result<(), String> {
        let mut args = vec!["set", self.dir.as_str(), name];
        args.extend(addresses);
        dnsmasq(&args)
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        if let Err(error) = dnsmasq(&["stop", &self.dir]) {
            eprintln!("{error}");
        }
    }
}

/// Ports of this test: `MULTIDB_PG_PORT` (default 25432) + 30 for the
/// forwarders (+ 1 for MariaDB), + 32 for dnsmasq (+ 1 for MariaDB).
fn ports(c: &Cluster) -> (u16, u16) {
    let base = std::env::var("MULTIDB_PG_PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(25432);
    let b = u16::from(c.backend != DbBackend::Postgres);
    (base + 30 + b, base + 32 + b)
}

/// A record added is in rotation within one refresh plus a health check,
/// one removed is drained within one refresh, an empty answer keeps the
/// set; no read fails throughout (4 readers).
pub async fn replicas_follow_dns_records_under_read_load(c: &Cluster) -> Outcome {
    let (forward, dns_port) = ports(c);
    let (fast, delayed) = (c.port(Instance::Replica), c.port(Instance::Delayed));
    let dir = format!("{}/dns-{}", c.state_dir, c.stack());
    let _a = Balancer::start_at(c, &dir, &format!("127.0.0.2:{forward}"), &[fast])?;
    let _b = Balancer::start_at(c, &dir, &format!("127.0.0.3:{forward}"), &[delayed])?;
    let dns = Dns::start(dir.clone(), dns_port)?;
    let name = format!("replicas-{}.multidb.test", c.stack());
    dns.set(&name, &["127.0.0.2"])?;
    let url = c
        .url(Instance::Replica)
        .replace(&format!("127.0.0.1:{fast}"), &format!("{name}:{forward}"));
    let db = MultiDb::builder()
        .primary(c.url(Instance::Primary))
        .discover_replicas(
            Discovery::a_records(url)
                .refresh(REFRESH)
                .nameserver(([127, 0, 0, 1], dns.port).into()),
        )
        .connect()
        .await?;
    let names =
        |db: &MultiDb| -> Vec<String> { db.replica_status().into_iter().map(|r| r.name).collect() };
    assert_eq!(names(&db), [format!("127.0.0.2:{forward}")]);
    let seen = Arc::new(Seen::default());
    let (tasks, stop) = readers(c, &db, 4, &seen);
    tokio::time::sleep(Duration::from_millis(300)).await;

    dns.set(&name, &["127.0.0.2", "127.0.0.3"])?;
    let added_at = Instant::now();
    wait_until(Duration::from_secs(5), || async {
        seen.first_on(delayed, added_at).is_some()
    })
    .await
    .map_err(|w| {
        format!(
            "the added record served no read within {w:?}: {:?}",
            names(&db)
        )
    })?;
    let added = seen.first_on(delayed, added_at).map(|at| at - added_at);

    dns.set(&name, &["127.0.0.3"])?;
    let removed_at = Instant::now();
    let drained = wait_until(Duration::from_secs(5), || async { names(&db).len() == 1 })
        .await
        .map_err(|w| format!("the removed record still in the set after {w:?}"))?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let last_fast = seen.last_on(fast);

    dns.set(&name, &[])?;
    tokio::time::sleep(REFRESH * 3).await;
    let kept = names(&db);
    let _ = stop.send(true);
    for task in tasks {
        task.await?;
    }
    let reads = seen.reads.lock().map(|r| r.len()).unwrap_or(0);
    let failed = seen.failed.lock().map(|f| f.clone()).unwrap_or_default();
    println!(
        "{:?} DNS discovery (dnsmasq, refresh {REFRESH:?}), 4 readers, {reads} reads, {} failed: \
         record added → first read on it {added:?}; record removed → out of the set {drained:?}, \
         last read on it started {:?} after the change; empty answer kept {kept:?}",
        c.backend,
        failed.len(),
        last_fast.map(|at| at.saturating_duration_since(removed_at)),
    );
    assert!(failed.is_empty(), "failed reads: {failed:?}");
    assert!(
        added.is_some_and(|a| a <= REFRESH * 2 + Duration::from_millis(500)),
        "added record in rotation after {added:?}"
    );
    assert!(
        drained <= REFRESH * 2,
        "removed record drained after {drained:?}"
    );
    assert_eq!(
        kept,
        [format!("127.0.0.3:{forward}")],
        "empty answer changed the set"
    );
    Ok(())
}
