//! Failover against a real [`Cluster`]: replicas stopped hard, paused,
//! promoted, the primary stopped. These change servers, so they run one at
//! a time per backend (`tests/tests/failover.rs` holds a lock) and on the
//! spare replica, and they leave the cluster as they found it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use multidb_seaorm::{MultiDb, Reason, ReplicaHealth, Target, scope};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use crate::monitor_scenarios::keep_writing;
use crate::scenarios::Outcome;
use crate::servers::{Cluster, CtlAction, Instance, port_of_url, wait_until};

fn boxed<E: std::fmt::Display>(error: E) -> Box<dyn std::error::Error + Send + Sync> {
    error.to_string().into()
}

const INTERVAL: Duration = Duration::from_millis(200);

/// `MultiDb` over the spare (replica 0) and the fast replica, monitored
/// every [`INTERVAL`], connecting to the replicas as `plain` users or not.
async fn spare_and_replica(
    c: &Cluster,
    plain: bool,
) -> Result<MultiDb, Box<dyn std::error::Error>> {
    let url = |i| if plain { c.plain_url(i) } else { c.url(i) };
    Ok(MultiDb::builder()
        .policy(multidb_seaorm::policy::RoundRobin::starting_at(0))
        .monitor_interval(INTERVAL)
        .max_replica_lag(Duration::from_millis(400))
        .primary(url(Instance::Primary))
        .replica(url(Instance::Spare))
        .replica(url(Instance::Replica))
        .connect()
        .await?)
}

/// Totals of a read load.
#[derive(Debug, Default)]
struct Load {
    attempted: AtomicU64,
    failed: AtomicU64,
    on_spare: AtomicU64,
}

/// 16 tasks reading the answering port in fresh scopes until `stop`.
fn read_load(
    c: &Cluster,
    db: &MultiDb,
    load: &Arc<Load>,
) -> (
    Vec<tokio::task::JoinHandle<()>>,
    tokio::sync::watch::Sender<bool>,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let spare = c.spare_port();
    let tasks = (0..16)
        .map(|_| {
            let (c, db, load, stopped) = (c.clone(), db.clone(), load.clone(), stopped.clone());
            tokio::spawn(async move {
                while !*stopped.borrow() {
                    load.attempted.fetch_add(1, Ordering::Relaxed);
                    match scope(c.port_of(&db)).await {
                        Ok(port) if port == spare => {
                            load.on_spare.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(error) => {
                            load.failed.fetch_add(1, Ordering::Relaxed);
                            eprintln!("failed read: {error}");
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    (tasks, stop)
}

fn health(db: &MultiDb, index: usize) -> ReplicaHealth {
    db.replica_status()[index].health
}

/// Wait up to `limit` until the spare (replica 0) is `wanted`; how long it
/// took, or an error saying `what` did not happen, with the replicas' status.
async fn spare_becomes(
    db: &MultiDb,
    wanted: ReplicaHealth,
    limit: Duration,
    what: &str,
) -> Result<Duration, String> {
    wait_until(limit, || async { health(db, 0) == wanted })
        .await
        .map_err(|w| format!("{what} after {w:?}: {:?}", db.replica_status()))
}

/// Ten fresh-scope reads, none served by the spare.
async fn spare_serves_none(c: &Cluster, db: &MultiDb, what: &str) -> Outcome {
    for _ in 0..10 {
        assert_ne!(
            scope(c.port_of(db)).await?,
            c.spare_port(),
            "{what} served a read"
        );
    }
    Ok(())
}

/// A replica stopped hard in the middle of a 16-task read load: no read
/// fails, the replica is out at once, back within seconds of its restart.
pub async fn a_replica_stopped_hard_under_load_fails_no_read(c: &Cluster) -> Outcome {
    let db = spare_and_replica(c, false).await.map_err(boxed)?;
    let load = Arc::new(Load::default());
    let (tasks, stop) = read_load(c, &db, &load);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = load.on_spare.load(Ordering::Relaxed);
    c.ctl_async(Instance::Spare, CtlAction::Stop).await?;
    let stopped = Instant::now();
    let excluded = spare_becomes(
        &db,
        ReplicaHealth::Down,
        Duration::from_secs(5),
        "not excluded",
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let while_down = load.on_spare.load(Ordering::Relaxed);
    let started = Instant::now(); // the restart takes ~0.15 s itself
    c.ctl_async(Instance::Spare, CtlAction::Start).await?;
    let readmitted = wait_until(Duration::from_secs(10), || async {
        load.on_spare.load(Ordering::Relaxed) > while_down
    })
    .await
    .map_err(|w| format!("not back in rotation {w:?} after its restart"))?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = stop.send(true);
    for task in tasks {
        task.await?;
    }
    let stats = db.stats();
    let status = db.replica_status();
    println!(
        "{:?} stop -m immediate / kill -9 of a replica under 16 readers: reads attempted {}, failed {}, \
         retried {} (fallback to the other replica {}, to the primary {}), failures seen on it {}; \
         excluded {excluded:?} after the stop, back in rotation {readmitted:?} after its restart began \
         ({:?} stop→start)",
        c.backend,
        load.attempted.load(Ordering::Relaxed),
        load.failed.load(Ordering::Relaxed),
        status[0].failures,
        stats.count(Target::Replica, Reason::Fallback),
        stats.count(Target::Primary, Reason::Fallback),
        status[0].failures,
        started.duration_since(stopped),
    );
    assert_eq!(load.failed.load(Ordering::Relaxed), 0, "a read failed");
    assert!(before > 0, "the spare served reads before");
    assert!(excluded <= INTERVAL * 2, "excluded in {excluded:?}");
    assert!(
        readmitted < Duration::from_secs(5),
        "readmitted in {readmitted:?}"
    );
    Ok(())
}

/// Every replica down: reads are served by the primary, writes unaffected.
pub async fn all_replicas_down_reads_go_to_the_primary(c: &Cluster) -> Outcome {
    c.create_table("failover_all_down").await.map_err(boxed)?;
    let db = MultiDb::builder()
        .monitor_interval(INTERVAL)
        .primary(c.primary.as_str())
        .replica(c.spare.as_str())
        .connect()
        .await?;
    c.ctl_async(Instance::Spare, CtlAction::Stop).await?;
    let primary = port_of_url(&c.primary);
    for _ in 0..10 {
        assert_eq!(Some(scope(c.port_of(&db)).await?), primary);
    }
    db.execute_unprepared("INSERT INTO failover_all_down (title) VALUES ('w')")
        .await?;
    c.ctl_async(Instance::Spare, CtlAction::Start).await?;
    let stats = db.stats();
    println!(
        "{:?} all replicas down: 10 reads on the primary (down {}, fallback {}), 1 write",
        c.backend,
        stats.count(Target::Primary, Reason::Down),
        stats.count(Target::Primary, Reason::Fallback)
    );
    // At most the first read met the replica before it was known down (and
    // was then served by the primary, as the ports show).
    assert!(stats.total(Target::Replica) <= 1, "{stats:?}");
    Ok(())
}

/// Replication paused while the primary writes: the replica is excluded
/// once it lags past the limit, included again after resume. Both with the
/// application user and with one that may not run `SHOW SLAVE STATUS`.
pub async fn paused_replication_excludes_the_replica_until_resumed(c: &Cluster) -> Outcome {
    c.create_table("failover_paused").await.map_err(boxed)?;
    for plain in [false, true] {
        let db = spare_and_replica(c, plain).await.map_err(boxed)?;
        wait_until(Duration::from_secs(5), || async {
            db.replica_status()[0].position.is_some()
        })
        .await
        .map_err(|w| format!("no position after {w:?}"))?;
        let (writer, stop) = keep_writing(c, "failover_paused", Duration::from_millis(20));
        c.ctl_async(Instance::Spare, CtlAction::Pause).await?;
        let paused = Instant::now();
        let excluded = spare_becomes(
            &db,
            ReplicaHealth::Lagging,
            Duration::from_secs(5),
            "paused replica not excluded",
        )
        .await?;
        spare_serves_none(c, &db, "a paused replica").await?;
        let status = db.replica_status();
        c.ctl_async(Instance::Spare, CtlAction::Resume).await?;
        let resumed = Instant::now();
        let _ = stop.send(true);
        writer.await?;
        let readmitted = spare_becomes(
            &db,
            ReplicaHealth::Up,
            Duration::from_secs(5),
            "not readmitted",
        )
        .await?;
        println!(
            "{:?} replay paused ({} user): excluded {excluded:?} after the pause (lag {:?}, {:?} bytes), \
             readmitted {readmitted:?} after resume ({:?} paused); replication threads seen: {:?}",
            c.backend,
            if plain { "plain" } else { "app" },
            status[0].lag,
            status[0].lag_bytes,
            resumed.duration_since(paused),
            status[0].replication_running,
        );
        if c.backend == DbBackend::MySql {
            // SHOW SLAVE STATUS: the app user may, the plain one may not.
            assert_eq!(
                status[0].replication_running.is_some(),
                !plain,
                "{status:?}"
            );
        }
    }
    Ok(())
}

/// A promoted replica gets no more replica reads; then it is rebuilt.
pub async fn a_promoted_replica_gets_no_reads(c: &Cluster) -> Outcome {
    let db = spare_and_replica(c, true).await.map_err(boxed)?;
    let admin = Database::connect(c.spare_admin.as_str()).await?;
    let promote = match c.backend {
        DbBackend::Postgres => vec!["SELECT pg_promote(true, 10)"],
        _ => vec!["STOP SLAVE", "SET GLOBAL read_only = 0"],
    };
    for sql in promote {
        admin
            .execute_raw(Statement::from_string(c.backend, sql))
            .await?;
    }
    let promoted = Instant::now();
    let excluded = spare_becomes(
        &db,
        ReplicaHealth::NotReplica,
        Duration::from_secs(5),
        "promoted replica still in rotation",
    )
    .await?;
    spare_serves_none(c, &db, "a promoted replica").await?;
    drop(admin);
    c.ctl_async(Instance::Spare, CtlAction::Rebuild).await?;
    let readmitted = spare_becomes(
        &db,
        ReplicaHealth::Up,
        Duration::from_secs(10),
        "rebuilt replica not readmitted",
    )
    .await?;
    println!(
        "{:?} replica promoted (plain user): excluded {excluded:?} after the promotion, \
         readmitted {readmitted:?} after its rebuild ({:?} in all)",
        c.backend,
        promoted.elapsed()
    );
    Ok(())
}

/// The primary stopped: reads are still served by the replica, an insert
/// fails within seconds, and nothing lands on a replica.
pub async fn the_primary_stopped_reads_go_on_writes_fail_fast(c: &Cluster) -> Outcome {
    c.create_table("failover_primary").await.map_err(boxed)?;
    let db = MultiDb::builder()
        .monitor_interval(INTERVAL)
        .primary(c.primary.as_str())
        .replica(c.replica.as_str())
        .connect()
        .await?;
    c.ctl_async(Instance::Primary, CtlAction::Stop).await?;
    let outcome = async {
        let replica = port_of_url(&c.replica);
        for _ in 0..10 {
            assert_eq!(Some(scope(c.port_of(&db)).await?), replica);
        }
        let tried = Instant::now();
        let insert = scope(db.execute_unprepared(
            "INSERT INTO failover_primary (title) VALUES ('lost?')",
        ))
        .await;
        let failed_after = tried.elapsed();
        let error = insert.expect_err("the primary is down");
        println!(
            "{:?} primary stopped: 10 reads served by the replica; the insert failed after {failed_after:?}: {error}",
            c.backend
        );
        assert!(failed_after < Duration::from_secs(3), "{failed_after:?}");
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    c.ctl_async(Instance::Primary, CtlAction::Start).await?;
    outcome?;
    // Nothing landed on the replica, and replication works again for the
    // tests that follow (the replicas reconnect by themselves).
    let primary = Database::connect(c.primary.as_str()).await?;
    primary
        .execute_unprepared("INSERT INTO failover_primary (title) VALUES ('after')")
        .await?;
    for url in [&c.replica, &c.delayed, &c.spare] {
        let replica = Database::connect(url.as_str()).await?;
        let sql = "SELECT COUNT(*) AS n FROM failover_primary";
        wait_until(Duration::from_secs(30), || async {
            let row = replica
                .query_one_raw(Statement::from_string(c.backend, sql))
                .await
                .ok()
                .flatten();
            row.and_then(|r| r.try_get::<i64>("", "n").ok()) == Some(1)
        })
        .await
        .map_err(|w| format!("{url} did not get exactly the one later row in {w:?}"))?;
    }
    Ok(())
}

/// With the builder's defaults, a replica killed under a read load slows
/// no read past 250 ms and fails none; and start-up with that replica down
/// takes at most 0.3 s longer than with all up.
pub async fn a_dead_replica_costs_no_read_more_than_a_moment(c: &Cluster) -> Outcome {
    let connect = || {
        MultiDb::builder()
            .primary(c.url(Instance::Primary))
            .replica(c.url(Instance::Spare))
            .replica(c.url(Instance::Replica))
            .connect()
    };
    let began = Instant::now();
    let db = connect().await?;
    let all_up = began.elapsed();
    let seen = Arc::new(crate::membership_scenarios::Seen::default());
    let slowest = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (c, db, seen, slowest, stopped) = (
                c.clone(),
                db.clone(),
                seen.clone(),
                slowest.clone(),
                stopped.clone(),
            );
            tokio::spawn(async move {
                while !*stopped.borrow() {
                    let started = Instant::now();
                    let result = scope(c.port_of(&db)).await;
                    let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                    slowest.fetch_max(took, Ordering::Relaxed);
                    match result {
                        Ok(port) => seen.reads.lock().map(|mut r| r.push((started, port))).ok(),
                        Err(error) => seen
                            .failed
                            .lock()
                            .map(|mut f| f.push(error.to_string()))
                            .ok(),
                    };
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = slowest.swap(0, Ordering::Relaxed);
    c.ctl_async(Instance::Spare, CtlAction::Stop).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop.send(true);
    for task in tasks {
        task.await?;
    }
    let after_death = Duration::from_micros(slowest.load(Ordering::Relaxed));
    db.close().await?;
    let began = Instant::now();
    let down_db = connect().await?;
    let one_down = began.elapsed();
    down_db.close().await?;
    c.ctl_async(Instance::Spare, CtlAction::Start).await?;
    let reads = seen.reads.lock().map(|r| r.len()).unwrap_or(0);
    let failed = seen.failed.lock().map(|f| f.clone()).unwrap_or_default();
    println!(
        "{:?} defaults, 8 readers, replica killed: {reads} reads, {} failed, slowest read {:?} \
         before the kill, {after_death:?} from the kill on; start-up {all_up:?} all up, \
         {one_down:?} with it down",
        c.backend,
        failed.len(),
        Duration::from_micros(before),
    );
    assert!(failed.is_empty(), "failed reads: {failed:?}");
    assert!(
        after_death <= Duration::from_millis(250),
        "slowest read {after_death:?} after the kill"
    );
    assert!(
        one_down <= all_up + Duration::from_millis(300),
        "start-up {one_down:?} with a replica down, {all_up:?} with all up"
    );
    Ok(())
}

/// Resumes the spare's replay when dropped, whatever happened.
struct SpareResumed(Cluster);

impl Drop for SpareResumed {
    fn drop(&mut self) {
        let _ = self.0.ctl(Instance::Spare, CtlAction::Resume);
    }
}

/// The spare paused and left behind by a write, long enough that it lags
/// more than the delayed replica: of the two, only the delayed one can
/// catch up with a new write. A `MultiDb` over both, with `causal_wait`
/// and the monitor checking every `monitor`.
async fn only_the_delayed_can_catch_up(
    c: &Cluster,
    budget: Duration,
    monitor: Duration,
) -> Result<(MultiDb, SpareResumed), Box<dyn std::error::Error + Send + Sync>> {
    c.ctl_async(Instance::Spare, CtlAction::Pause).await?;
    let resumed = SpareResumed(c.clone());
    let primary = Database::connect(c.primary.as_str()).await?;
    primary
        .execute_unprepared("DROP TABLE IF EXISTS wait_mark")
        .await?;
    primary
        .execute_unprepared("CREATE TABLE wait_mark (id INT)")
        .await?;
    let db = MultiDb::builder()
        .monitor_interval(monitor)
        .causal_wait(budget)
        .primary(c.primary.as_str())
        .replica(c.spare.as_str())
        .replica(c.delayed.as_str())
        .connect()
        .await
        .map_err(boxed)?;
    // The delayed replica has the new table (MariaDB: within its delay and
    // a second; the old table, which an earlier test left there, has no
    // mark), and the monitor saw it catch up; the spare lags since.
    primary
        .execute_unprepared("INSERT INTO wait_mark (id) VALUES (-1)")
        .await?;
    let delayed = Database::connect(c.delayed.as_str()).await?;
    let mark = Statement::from_string(c.backend, "SELECT id FROM wait_mark WHERE id = -1");
    wait_until(c.delay * 10, || async {
        matches!(delayed.query_one_raw(mark.clone()).await, Ok(Some(_)))
    })
    .await
    .map_err(|waited| format!("the delayed replica lacks the new wait_mark after {waited:?}"))?;
    delayed.close().await?;
    wait_until(c.delay * 10, || async {
        db.replica_status()[1].lag == Some(Duration::ZERO)
    })
    .await
    .map_err(|waited| {
        format!("the monitor did not see the delayed replica catch up in {waited:?}")
    })?;
    Ok((db, resumed))
}

/// One write then, at once, a read in the same scope: the port that
/// answered and how long the read took.
async fn write_then_read(c: &Cluster, db: &MultiDb) -> Result<(i64, Duration), sea_orm::DbErr> {
    scope(async {
        db.execute_unprepared("INSERT INTO wait_mark (id) VALUES (1)")
            .await?;
        let started = Instant::now();
        let port = c.port_of(db).await?;
        Ok((port, started.elapsed()))
    })
    .await
}

/// `causal_wait(4 s)`, the spare paused: every read right after a write
/// waits for the delayed replica (about its delay), within the budget,
/// and is served there. A read whose request is dropped stops waiting.
/// The monitor checks every 5 ms, so that one of its checks is in flight
/// when the wait sees the position: that check's older answer must not
/// undo what the wait saw (it did, and the read went to the primary).
pub async fn a_causal_wait_is_served_by_the_replica_that_catches_up(c: &Cluster) -> Outcome {
    const BUDGET: Duration = Duration::from_secs(4);
    let (db, _resumed) = only_the_delayed_can_catch_up(c, BUDGET, Duration::from_millis(5)).await?;
    let delayed = c.port(Instance::Delayed);
    let mut waits = Vec::new();
    for n in 0..3 {
        let (port, took) = write_then_read(c, &db).await?;
        assert_eq!(
            port, delayed,
            "read {n} ({took:?}) not served by the delayed replica"
        );
        assert!(
            took <= BUDGET + Duration::from_millis(100),
            "read {n} took {took:?}"
        );
        waits.push(took);
    }
    // A dropped request stops its wait: no more polls or waits after it.
    let cancelled = tokio::time::timeout(Duration::from_millis(300), write_then_read(c, &db)).await;
    assert!(cancelled.is_err(), "the wait should outlast 300 ms");
    let asked = |db: &MultiDb| db.stats().position_probes() + db.stats().position_waits();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let after_cancel = asked(&db);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(asked(&db), after_cancel, "a cancelled read kept waiting");
    let stats = db.stats();
    println!(
        "{:?} causal_wait(4 s): reads served by the delayed replica after {waits:?} \
         ({} probes, {} waits, {} captures)",
        c.backend,
        stats.position_probes(),
        stats.position_waits(),
        stats.position_captures(),
    );
    Ok(())
}

/// `causal_wait(200 ms)`, the spare paused and the delayed replica a
/// second or more behind: the read gives up within the budget and reads
/// the primary.
pub async fn a_short_causal_wait_falls_back_to_the_primary_in_time(c: &Cluster) -> Outcome {
    const BUDGET: Duration = Duration::from_millis(200);
    let (db, _resumed) =
        only_the_delayed_can_catch_up(c, BUDGET, Duration::from_millis(500)).await?;
    let primary = port_of_url(&c.primary).ok_or("no port in the primary's URL")?;
    for n in 0..3 {
        let (port, took) = write_then_read(c, &db).await?;
        assert_eq!(port, primary, "read {n} ({took:?}) not on the primary");
        assert!(
            took >= BUDGET - Duration::from_millis(20),
            "read {n} did not wait: {took:?}"
        );
        assert!(
            took <= BUDGET + Duration::from_millis(150),
            "read {n} took {took:?}"
        );
    }
    println!(
        "{:?} causal_wait(200 ms): reads fell back to the primary ({:?})",
        c.backend,
        db.stats().count(Target::Primary, Reason::Causal)
    );
    Ok(())
}
