//! The replica monitor against a real replication [`Cluster`]: positions,
//! lag, lag-aware routing, replicas down at start. These share the cluster
//! with the other scenarios and change no server; the ones that stop,
//! pause or promote a server are in [`crate::failover_scenarios`].

use std::time::{Duration, Instant};

use multidb_seaorm::{MultiDb, Reason, ReplicaHealth, Target, scope};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend};

use crate::scenarios::Outcome;
use crate::servers::{Cluster, port_of_url, wait_until};

fn boxed<E: std::fmt::Display>(error: E) -> Box<dyn std::error::Error + Send + Sync> {
    error.to_string().into()
}

/// A URL on which nothing listens, of the cluster's backend.
pub fn dead_url(c: &Cluster) -> &'static str {
    match c.backend {
        DbBackend::Postgres => "postgres://postgres@127.0.0.1:1/postgres",
        _ => "mysql://multidb_app:multidb@127.0.0.1:1/multidb",
    }
}

/// Insert a row into `table` on the primary every `every` until `stop`.
pub fn keep_writing(
    c: &Cluster,
    table: &str,
    every: Duration,
) -> (
    tokio::task::JoinHandle<u64>,
    tokio::sync::watch::Sender<bool>,
) {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let url = c.primary.clone();
    let sql = format!("INSERT INTO {table} (title) VALUES ('tick')");
    let handle = tokio::spawn(async move {
        let Ok(primary) = Database::connect(url.as_str()).await else {
            return 0;
        };
        let mut written = 0;
        while !*stopped.borrow() {
            if primary.execute_unprepared(&sql).await.is_ok() {
                written += 1;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stopped.changed() => {}
            }
        }
        written
    });
    (handle, stop)
}

/// The monitor reads every replica's position and derives its lag: the
/// delayed replica lags about its delay while the primary writes, the fast
/// one a few ms, and neither lags once the primary is idle.
pub async fn the_monitor_measures_positions_and_lag(c: &Cluster) -> Outcome {
    c.create_table("monitor_lag").await.map_err(boxed)?;
    let db = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(c.replica.as_str())
        .replica(c.delayed.as_str())
        .monitor_interval(Duration::from_millis(100))
        .connect()
        .await?;
    wait_until(Duration::from_secs(5), || async {
        db.replica_status().iter().all(|s| s.position.is_some())
    })
    .await
    .map_err(|waited| format!("no positions after {waited:?}: {:?}", db.replica_status()))?;
    let (writer, stop) = keep_writing(c, "monitor_lag", Duration::from_millis(50));
    let mut worst = [Duration::ZERO; 2];
    let until = Instant::now() + c.delay * 2;
    while Instant::now() < until {
        for status in db.replica_status() {
            assert_eq!(status.health, ReplicaHealth::Up, "{status:?}");
            assert!(status.position.is_some(), "{status:?}");
            worst[status.index] = worst[status.index].max(status.lag.unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    let written = writer.await?;
    println!(
        "{:?}: {written} writes; worst lag seen: replica {:?}, delayed {:?} (delay {:?})",
        c.backend, worst[0], worst[1], c.delay
    );
    assert!(written > 10, "the primary kept writing");
    assert!(worst[0] < c.delay / 2, "the fast replica: {:?}", worst[0]);
    assert!(
        worst[1] >= c.least_lag() / 2,
        "the delayed replica: {:?}",
        worst[1]
    );
    if c.backend == DbBackend::Postgres {
        assert!(db.replica_status()[1].lag_bytes.is_some());
    }
    // Idle primary: both catch up and lag nothing, whatever the last
    // replayed transaction's age.
    let waited = wait_until(c.delay * 4, || async {
        db.replica_status()
            .iter()
            .all(|s| s.lag == Some(Duration::ZERO))
    })
    .await
    .map_err(|waited| {
        format!(
            "replicas still lag after {waited:?}: {:?}",
            db.replica_status()
        )
    })?;
    println!(
        "{:?}: both at zero lag {waited:?} after the writes stopped",
        c.backend
    );
    Ok(())
}

/// With a lag limit, a replica that lags past it gets no reads while the
/// primary writes, and gets them again once it caught up.
pub async fn a_lagging_replica_gets_no_reads_until_it_catches_up(c: &Cluster) -> Outcome {
    c.create_table("monitor_limit").await.map_err(boxed)?;
    let db = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(c.delayed.as_str())
        .replica(c.replica.as_str())
        .monitor_interval(Duration::from_millis(100))
        .max_replica_lag(c.least_lag() / 2)
        .connect()
        .await?;
    let (delayed, fast) = (port_of_url(&c.delayed), port_of_url(&c.replica));
    let (writer, stop) = keep_writing(c, "monitor_limit", Duration::from_millis(50));
    let started = Instant::now();
    let excluded = wait_until(c.delay * 3, || async {
        db.replica_status()[0].health == ReplicaHealth::Lagging
    })
    .await
    .map_err(|waited| format!("the delayed replica was not excluded in {waited:?}"))?;
    for _ in 0..20 {
        let port = scope(c.port_of(&db)).await?;
        assert_eq!(Some(port), fast, "a lagging replica served a read");
    }
    let _ = stop.send(true);
    writer.await?;
    let stopped = Instant::now();
    let readmitted = wait_until(c.delay * 4, || async {
        db.replica_status()[0].health == ReplicaHealth::Up
    })
    .await
    .map_err(|waited| format!("the delayed replica was not readmitted in {waited:?}"))?;
    // Back in rotation. The default policy decides each read between the
    // two: the delayed replica has no latency yet, so each is a coin toss
    // (four reads all missed it one run in sixteen); were it slow, it would
    // get a probe every PROBE_EVERY. Within a second, one lands there.
    let mut ports = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(1);
    while !ports.contains(&delayed) && Instant::now() < deadline {
        ports.push(Some(scope(c.port_of(&db)).await?));
    }
    assert!(
        ports.contains(&delayed),
        "not back in rotation after {} reads",
        ports.len()
    );
    println!(
        "{:?}: lagging replica excluded {excluded:?} after writes began ({:?} in), readmitted {readmitted:?} after they stopped ({:?}), read again at read {}",
        c.backend,
        started.elapsed(),
        stopped.elapsed(),
        ports.len()
    );
    Ok(())
}

/// `connect()` succeeds with every replica down (start degraded); reads go
/// to the primary, as reason `down`; with `fallback_to_primary(false)` they
/// fail with an error that says why; `require_all_replicas(true)` refuses to
/// start. Nothing waits for sqlx's 30 s.
pub async fn replicas_down_at_start_and_all_replicas_down(c: &Cluster) -> Outcome {
    let started = Instant::now();
    let db = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(dead_url(c))
        .replica(dead_url(c))
        .connect()
        .await?;
    let connected = started.elapsed();
    assert!(
        db.replica_status()
            .iter()
            .all(|s| s.health == ReplicaHealth::Down)
    );
    let primary = port_of_url(&c.primary);
    for _ in 0..3 {
        assert_eq!(Some(scope(c.port_of(&db)).await?), primary);
    }
    assert_eq!(db.stats().count(Target::Primary, Reason::Down), 3);
    let strict = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(dead_url(c))
        .fallback_to_primary(false)
        .connect()
        .await?;
    let error = scope(c.port_of(&strict))
        .await
        .expect_err("no replica and no fallback");
    assert!(
        error.to_string().contains("no replica can take this read"),
        "{error}"
    );
    let refused_at = Instant::now();
    let required = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(dead_url(c))
        .require_all_replicas(true)
        .connect()
        .await;
    let refused = refused_at.elapsed();
    let error = required.expect_err("a replica is down");
    assert!(error.to_string().contains("replica #0"), "{error}");
    println!(
        "{:?}: connect with 2 dead replicas took {connected:?}; require_all refused in {refused:?}",
        c.backend
    );
    assert!(connected < Duration::from_secs(5) && refused < Duration::from_secs(5));
    Ok(())
}

/// `MultiDb::new` over pools the application opened gets the monitor too,
/// until `close` stops it.
pub async fn the_monitor_watches_pools_given_to_new_until_closed(c: &Cluster) -> Outcome {
    let primary = Database::connect(c.primary.as_str()).await?;
    let mut options = ConnectOptions::new(c.replica.as_str());
    options.acquire_timeout(Duration::from_secs(1));
    let replica = Database::connect(options).await?;
    let db = MultiDb::new(primary, vec![replica])?;
    wait_until(Duration::from_secs(5), || async {
        db.replica_status()[0].position.is_some()
    })
    .await
    .map_err(|waited| format!("no position after {waited:?}: {:?}", db.replica_status()))?;
    assert_eq!(db.replica_status()[0].health, ReplicaHealth::Up);

    // `close` stops the monitor: no check runs after it (default interval
    // 500 ms), and `ping` reports the closed pools.
    db.close_by_ref().await?;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let checked_ago = db.replica_status()[0].checked_ago.ok_or("never checked")?;
    println!("{:?}: last check {checked_ago:?} after close", c.backend);
    assert!(
        checked_ago >= Duration::from_millis(1500),
        "checked {checked_ago:?} ago"
    );
    assert!(db.ping().await.is_err(), "closed pools do not answer");
    Ok(())
}

/// Failover recognises real servers' errors by their code, also when the
/// server speaks German (PostgreSQL `lc_messages`): a write refused by a
/// replica, a connection terminated by the server, a refused connect.
pub async fn driver_errors_are_recognised_by_code(c: &Cluster) -> Outcome {
    use crate::private::failure_of;
    c.create_table("errors_post").await.map_err(boxed)?;
    let mut options = ConnectOptions::new(c.replica.as_str());
    options.max_connections(1);
    let replica = Database::connect(options).await?;
    let german = c.backend == DbBackend::Postgres;
    if german {
        replica
            .execute_unprepared("SET lc_messages TO 'de_DE.UTF-8'")
            .await
            .map_err(|e| {
                format!(
                    "no German messages (scripts/replicas.sh generates de_DE.UTF-8 as root): {e}"
                )
            })?;
    }
    let mut seen = Vec::new();
    let refused = replica
        .execute_unprepared("INSERT INTO errors_post (title) VALUES ('x')")
        .await
        .expect_err("a replica refuses writes");
    seen.push((
        "write on a replica",
        failure_of(&refused),
        refused.to_string(),
    ));
    let kill = match c.backend {
        DbBackend::Postgres => "SELECT pg_terminate_backend(pg_backend_pid())",
        _ => "KILL CONNECTION CONNECTION_ID()",
    };
    let killed = replica
        .execute_unprepared(kill)
        .await
        .expect_err("the server ends the connection");
    seen.push((
        "connection terminated",
        failure_of(&killed),
        killed.to_string(),
    ));
    let mut dead = ConnectOptions::new(dead_url(c));
    dead.connect_lazy(true)
        .acquire_timeout(Duration::from_millis(300));
    let dead = Database::connect(dead).await?;
    let unreachable = dead
        .execute_unprepared("SELECT 1")
        .await
        .expect_err("nothing listens");
    seen.push((
        "connect refused",
        failure_of(&unreachable),
        unreachable.to_string(),
    ));
    for (what, found, text) in &seen {
        println!("{:?} {what}: {found:?} ({text})", c.backend);
    }
    let code = |kind: &str| (kind.to_string(), "Code".to_string());
    match c.backend {
        DbBackend::Postgres => {
            assert_eq!(seen[0].1, code("ReadOnly"), "25006, in German");
            assert!(
                !seen[0].2.contains("read-only transaction"),
                "the message is German: {}",
                seen[0].2
            );
            assert_eq!(seen[1].1, code("Unreachable"), "57P01, in German");
        }
        _ => {
            // 1290's SQLSTATE is the generic HY000: recognised by its text.
            assert_eq!(seen[0].1, ("ReadOnly".to_string(), "Text".to_string()));
            assert_eq!(seen[1].1.0, "Unreachable");
        }
    }
    assert_eq!(seen[2].1, code("Unreachable"));
    Ok(())
}
