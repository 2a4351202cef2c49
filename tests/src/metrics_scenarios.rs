//! Metrics and the status page against a real [`Cluster`], served by the
//! forum's own operator routes (`examples/forum/observe.rs`) and Prometheus
//! recorder (`examples/forum/prometheus.rs`), scraped over HTTP.
//!
//! The recorder is global to the process and the decision counters carry
//! no backend label, so these run in their own test binary
//! (`tests/tests/metrics.rs`), one at a time. They stop and pause the spare
//! replica, and leave it running.

#[path = "../../examples/forum/observe.rs"]
mod observe;
#[path = "../../examples/forum/prometheus.rs"]
mod prometheus;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use multidb_seaorm::policy::RoundRobin;
use multidb_seaorm::{MultiDb, ReplicaHealth, Target, scope};
use sea_orm::{ConnectionTrait, Database, DbBackend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::scenarios::Outcome;
use crate::servers::{Cluster, CtlAction, Instance, wait_until};

type Error = Box<dyn std::error::Error + Send + Sync>;

const INTERVAL: Duration = Duration::from_millis(200);

/// The process's Prometheus recorder, installed once.
fn scrape() -> Result<observe::Scrape, Error> {
    static SCRAPE: OnceLock<observe::Scrape> = OnceLock::new();
    if let Some(scrape) = SCRAPE.get() {
        return Ok(scrape.clone());
    }
    let scrape = prometheus::install()?;
    Ok(SCRAPE.get_or_init(|| scrape).clone())
}

/// The forum's `/multidb` and `/metrics` for `db`, on `127.0.0.1:0`.
struct Served {
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Served {
    async fn start(db: &MultiDb) -> Result<Self, Error> {
        let router = observe::routes(db.clone(), Some(scrape()?));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Served { addr, server })
    }

    /// `GET path`: the status and body.
    async fn get(&self, path: &str) -> Result<(u16, String), Error> {
        let mut stream = TcpStream::connect(self.addr).await?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        let raw = String::from_utf8(raw)?;
        let (head, body) = raw.split_once("\r\n\r\n").ok_or("no end of headers")?;
        let status = head.split(' ').nth(1).ok_or("no status code")?.parse()?;
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return Err("chunked response: the routes answer with a length".into());
        }
        Ok((status, body.to_owned()))
    }

    /// The metrics now, scraped from `/metrics`.
    async fn metrics(&self) -> Result<Scraped, Error> {
        let (status, body) = self.get("/metrics").await?;
        if status != 200 {
            return Err(format!("GET /metrics answered {status}: {body}").into());
        }
        Scraped::parse(&body)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One scrape: each series (`name{labels}`, labels sorted) and its value.
#[derive(Clone, Debug, Default)]
struct Scraped {
    series: Vec<(String, BTreeMap<String, String>, f64)>,
    text: String,
}

impl Scraped {
    fn parse(text: &str) -> Result<Self, Error> {
        let mut series = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (key, value) = line.rsplit_once(' ').ok_or("no value")?;
            let value: f64 = value.parse().map_err(|_| format!("bad value: {line}"))?;
            let (name, labels) = match key.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}').ok_or("no }")?),
                None => (key, ""),
            };
            let mut map = BTreeMap::new();
            // Our label values hold no `",`.
            for pair in labels.split("\",").filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once("=\"").ok_or("bad label")?;
                map.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
            }
            series.push((name.to_owned(), map, value));
        }
        Ok(Scraped {
            series,
            text: text.to_owned(),
        })
    }

    /// The sum of the series named `name` whose labels include `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.series
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| v)
            .sum()
    }

    /// The value of one gauge, if present.
    fn gauge(&self, name: &str, replica: &str) -> Option<f64> {
        self.series
            .iter()
            .find(|(n, l, _)| n == name && l.get("replica").map(String::as_str) == Some(replica))
            .map(|(_, _, v)| *v)
    }
}

/// `host:port` of a cluster URL: the `replica` label multidb derives.
fn label(url: &str) -> String {
    let after_at = url.rsplit_once('@').map_or(url, |(_, rest)| rest);
    after_at
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Scrape until `check` holds (every 50 ms, up to `limit`).
async fn scrape_until(
    served: &Served,
    limit: Duration,
    what: &str,
    mut check: impl FnMut(&Scraped) -> bool,
) -> Result<Scraped, Error> {
    let start = Instant::now();
    loop {
        let scraped = served.metrics().await?;
        if check(&scraped) {
            return Ok(scraped);
        }
        if start.elapsed() > limit {
            return Err(format!(
                "{what}: not within {limit:?}; last scrape:\n{}",
                scraped.text
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Restarts and resumes the spare when dropped, whatever happened.
struct SpareBack(Cluster);

impl Drop for SpareBack {
    fn drop(&mut self) {
        if self
            .0
            .ctl_status(Instance::Spare)
            .is_ok_and(|s| s.contains("stopped"))
        {
            let _ = self.0.ctl(Instance::Spare, CtlAction::Start);
        }
        let _ = self.0.ctl(Instance::Spare, CtlAction::Resume);
    }
}

/// A read load through `MultiDb` over the spare and the fast replica, the
/// spare killed and restarted, then paused and resumed, scraped from the
/// forum's `/metrics` over HTTP all along:
/// - the decision counters add up to the statements run (each retried read
///   counts one decision more, and so does the duration histogram);
/// - `multidb.replica.usable` of the spare goes to 0, and back to 1;
/// - `multidb.failovers` counts exactly the retried reads;
/// - the spare's `multidb.replica.lag` follows it while paused;
/// - `multidb.position.captures` counts the position a scope asks for.
pub async fn metrics_follow_a_replica_killed_restarted_and_paused(c: &Cluster) -> Outcome {
    let _spare_back = SpareBack(c.clone());
    let table = "metrics_ticks";
    c.create_table(table).await.map_err(|e| e.to_string())?;
    scrape()?; // installed before the MultiDb describes its metrics
    let db = MultiDb::builder()
        .policy(RoundRobin::starting_at(0))
        .monitor_interval(INTERVAL)
        .primary(c.primary.as_str())
        .replica(c.spare.as_str())
        .replica(c.replica.as_str())
        .connect()
        .await?;
    let spare = label(&c.spare);
    assert_eq!(db.replica_status()[0].name, spare);
    let served = Served::start(&db).await?;
    let system = match c.backend {
        DbBackend::Postgres => "postgresql",
        _ => "mysql",
    };
    let usable = |s: &Scraped| s.gauge("multidb_replica_usable", &spare);
    scrape_until(&served, Duration::from_secs(5), "the spare usable", |s| {
        usable(s) == Some(1.0)
    })
    .await?;

    let before = served.metrics().await?;
    let stats_before = db.stats();
    let mut statements = 0u64;
    let mut read = async || -> Result<(), Error> {
        statements += 1;
        c.port_of(&db).await?;
        Ok(())
    };
    for _ in 0..50 {
        read().await?;
    }
    c.ctl_async(Instance::Spare, CtlAction::Stop).await?;
    // Reads go on while the monitor notices; none fails.
    let down_at = Instant::now();
    let mut saw_down = false;
    while down_at.elapsed() < Duration::from_secs(5) {
        for _ in 0..20 {
            read().await?;
        }
        if usable(&served.metrics().await?) == Some(0.0) {
            saw_down = true;
            break;
        }
    }
    assert!(
        saw_down,
        "multidb.replica.usable never went to 0 for {spare}"
    );
    c.ctl_async(Instance::Spare, CtlAction::Start).await?;
    let up_at = Instant::now();
    let mut saw_up = false;
    while up_at.elapsed() < Duration::from_secs(10) {
        for _ in 0..20 {
            read().await?;
        }
        if usable(&served.metrics().await?) == Some(1.0) {
            saw_up = true;
            break;
        }
    }
    assert!(
        saw_up,
        "multidb.replica.usable never came back to 1 for {spare}"
    );
    for _ in 0..50 {
        read().await?;
    }
    let after = served.metrics().await?;
    let stats_after = db.stats();

    let delta =
        |name: &str, labels: &[(&str, &str)]| after.sum(name, labels) - before.sum(name, labels);
    let decisions = delta("multidb_route_decisions", &[]);
    let failovers = delta("multidb_failovers", &[]);
    let retried = delta("multidb_route_decisions", &[("reason", "fallback")]);
    let samples = delta(
        "db_client_operation_duration_count",
        &[("db_system_name", system)],
    );
    let failed_samples = delta(
        "db_client_operation_duration_count",
        &[("db_system_name", system), ("error_type", "connection")],
    ) + delta(
        "db_client_operation_duration_count",
        &[
            ("db_system_name", system),
            ("error_type", "connection_acquire"),
        ],
    ) + delta(
        "db_client_operation_duration_count",
        &[("db_system_name", system), ("error_type", "query")],
    ) + delta(
        "db_client_operation_duration_count",
        &[("db_system_name", system), ("error_type", "exec")],
    );
    let routed = |stats: &multidb_seaorm::RoutingStats| {
        stats.total(Target::Primary) + stats.total(Target::Replica)
    };
    println!(
        "{system}: {statements} statements, {decisions} decisions ({retried} retried), \
         {failovers} failovers, {samples} duration samples ({failed_samples} failed)"
    );
    assert!(failovers >= 1.0, "no read failed over:\n{}", after.text);
    assert_eq!(
        failovers,
        delta(
            "multidb_failovers",
            &[("replica", spare.as_str()), ("cause", "unreachable")]
        ),
        "every failover was the killed spare, unreachable:\n{}",
        after.text
    );
    assert_eq!(failovers, retried, "one failover per retried read");
    assert_eq!(
        decisions,
        statements as f64 + retried,
        "decisions = statements run + retries"
    );
    assert_eq!(
        decisions as u64,
        routed(&stats_after) - routed(&stats_before),
        "the metrics and db.stats() agree"
    );
    assert_eq!(samples, decisions, "one duration sample per statement run");
    assert_eq!(
        failed_samples, failovers,
        "the failed attempts carry error.type"
    );

    // The lag gauge follows the paused spare while the primary writes.
    let writer = Database::connect(c.primary.as_str()).await?;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let ticks = tokio::spawn(async move {
        let insert = format!("INSERT INTO {table} (title) VALUES ('tick')");
        while !*stopped.borrow_and_update() {
            writer.execute_unprepared(&insert).await?;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = stopped.changed() => {}
            }
        }
        Ok::<_, sea_orm::DbErr>(())
    });
    let lag = |s: &Scraped| s.gauge("multidb_replica_lag", &spare).unwrap_or(0.0);
    c.ctl_async(Instance::Spare, CtlAction::Pause).await?;
    let paused = scrape_until(
        &served,
        Duration::from_secs(10),
        "the lag grows past 1 s",
        |s| lag(s) >= 1.0,
    )
    .await?;
    if c.backend == DbBackend::Postgres {
        let bytes = paused.gauge("multidb_replica_lag_bytes", &spare);
        assert!(
            bytes.is_some_and(|b| b > 0.0),
            "lag_bytes {bytes:?} while paused"
        );
    }
    c.ctl_async(Instance::Spare, CtlAction::Resume).await?;
    scrape_until(
        &served,
        Duration::from_secs(10),
        "the lag back under 0.5 s",
        |s| lag(s) < 0.5,
    )
    .await?;
    let _ = stop.send(true);
    ticks.await??;

    // One capture for the position a scope asks for.
    let captures = |s: &Scraped| s.sum("multidb_position_captures", &[]);
    let before = captures(&served.metrics().await?);
    let position = scope(async {
        db.execute_unprepared(&format!("INSERT INTO {table} (title) VALUES ('w')"))
            .await?;
        db.write_position().await
    })
    .await?;
    assert!(position.is_some());
    assert_eq!(captures(&served.metrics().await?) - before, 1.0);
    db.close().await?;
    Ok(())
}

/// The Chromium of `scripts/test-deps.sh`, or why it is missing.
fn chromium() -> Result<PathBuf, String> {
    for name in ["chromium", "chromium-browser"] {
        for dir in ["/usr/bin", "/usr/local/bin"] {
            let path = PathBuf::from(dir).join(name);
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    Err(
        "Chromium is missing: install it with `bash scripts/test-deps.sh` (Debian's chromium)"
            .into(),
    )
}

/// Run headless Chromium on `url` with `args` (a fresh profile, 60 s at
/// most): its standard output.
async fn headless(browser: PathBuf, url: String, args: Vec<String>) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir()?;
        let mut child = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let start = Instant::now();
        while child.try_wait()?.is_none() {
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                return Err("Chromium ran for 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(format!(
                "Chromium failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(String::from_utf8(out.stdout)?)
    })
    .await?
}

/// The status page of a `MultiDb` over the three replicas, one of them
/// lagging (the delayed one, past a lag limit under its delay, after a
/// write) and one stopped, as headless Chromium renders it: each replica's
/// row with its health, and the decisions. The screenshot goes to
/// `MULTIDB_STATUS_SCREENSHOT` when set (`multidb-seaorm/docs/status.png`
/// is one).
pub async fn the_status_page_in_headless_chromium(c: &Cluster) -> Outcome {
    let browser = chromium()?;
    let _spare_back = SpareBack(c.clone());
    let table = "metrics_page";
    c.create_table(table).await.map_err(|e| e.to_string())?;
    let db = MultiDb::builder()
        .monitor_interval(INTERVAL)
        .max_replica_lag(c.delay / 4)
        .primary(c.primary.as_str())
        .replica(c.replica.as_str())
        .replica(c.delayed.as_str())
        .replica(c.spare.as_str())
        .connect()
        .await?;
    let names: Vec<String> = [&c.replica, &c.delayed, &c.spare]
        .into_iter()
        .map(|url| label(url))
        .collect();
    for _ in 0..30 {
        c.port_of(&db).await?;
    }
    // Writes every 50 ms, which the delayed replica applies `delay` late:
    // it lags for as long as they go on.
    let writer = Database::connect(c.primary.as_str()).await?;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let writes = tokio::spawn(async move {
        let insert = format!("INSERT INTO {table} (title) VALUES ('x')");
        while !*stopped.borrow_and_update() {
            writer.execute_unprepared(&insert).await?;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = stopped.changed() => {}
            }
        }
        Ok::<_, sea_orm::DbErr>(())
    });
    c.ctl_async(Instance::Spare, CtlAction::Stop).await?;
    let wanted = [
        ReplicaHealth::Up,
        ReplicaHealth::Lagging,
        ReplicaHealth::Down,
    ];
    wait_until(Duration::from_secs(10), || async {
        db.replica_status().iter().map(|r| r.health).eq(wanted)
    })
    .await
    .map_err(|w| {
        format!(
            "replicas not up/lagging/down after {w:?}: {:?}",
            db.replica_status()
        )
    })?;
    for _ in 0..10 {
        c.port_of(&db).await?;
    }

    let served = Served::start(&db).await?;
    let url = format!("http://{}/multidb", served.addr);
    let dom = headless(browser.clone(), url.clone(), vec!["--dump-dom".into()]).await?;
    for (name, health) in names.iter().zip(wanted) {
        let row = format!("<tr data-replica=\"{name}\" data-health=\"{health}\">");
        assert!(dom.contains(&row), "no {row} in the rendered page:\n{dom}");
    }
    assert!(dom.contains("<title>multidb status</title>"), "{dom}");
    assert!(
        dom.contains("<tr data-reason=\"policy\"><td>policy</td>"),
        "{dom}"
    );
    assert!(
        dom.contains("3 replicas, 1 taking reads"),
        "the summary counts the usable replicas:\n{dom}"
    );

    let shot = match std::env::var_os("MULTIDB_STATUS_SCREENSHOT") {
        Some(path) => PathBuf::from(path),
        None => std::env::temp_dir().join(format!("multidb-status-{}.png", std::process::id())),
    };
    headless(
        browser,
        url,
        vec![
            format!("--screenshot={}", shot.display()),
            "--window-size=1200,820".into(),
        ],
    )
    .await?;
    let png = std::fs::read(&shot)?;
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "no screenshot at {}",
        shot.display()
    );
    println!(
        "status page screenshot: {} ({} bytes)",
        shot.display(),
        png.len()
    );
    let _ = stop.send(true);
    writes.await??;
    db.close().await?;
    Ok(())
}
