//! Replicas added and removed at runtime against a real [`Cluster`], under
//! a read load. They change no server: the delayed replica is the one that
//! comes and goes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use multidb_seaorm::{MultiDb, MultiDbError, scope};
use sea_orm::Database;

use crate::scenarios::Outcome;
use crate::servers::{Cluster, Instance, wait_until};

fn boxed<E: std::fmt::Display>(error: E) -> Box<dyn std::error::Error + Send + Sync> {
    error.to_string().into()
}

/// What the readers saw: when each read started and which port served
/// it, and the reads that failed.
#[derive(Debug, Default)]
pub struct Seen {
    pub reads: Mutex<Vec<(Instant, i64)>>,
    pub failed: Mutex<Vec<String>>,
}

/// `tasks` readers in fresh scopes on `db` until `stop`.
pub fn readers(
    c: &Cluster,
    db: &MultiDb,
    tasks: usize,
    seen: &Arc<Seen>,
) -> (
    Vec<tokio::task::JoinHandle<()>>,
    tokio::sync::watch::Sender<bool>,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handles = (0..tasks)
        .map(|_| {
            let (c, db, seen, stopped) = (c.clone(), db.clone(), seen.clone(), stopped.clone());
            tokio::spawn(async move {
                while !*stopped.borrow() {
                    let started = Instant::now();
                    match scope(c.port_of(&db)).await {
                        Ok(port) => seen
                            .reads
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push((started, port)),
                        Err(error) => seen
                            .failed
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(error.to_string()),
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        })
        .collect();
    (handles, stop)
}

/// When reads on a port started.
impl Seen {
    pub fn first_on(&self, port: i64, after: Instant) -> Option<Instant> {
        self.reads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(at, p)| *p == port && *at >= after)
            .map(|(at, _)| *at)
            .min()
    }

    pub fn last_on(&self, port: i64) -> Option<Instant> {
        self.reads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(_, p)| *p == port)
            .map(|(at, _)| *at)
            .max()
    }
}

/// Under 4 readers: a replica added serves reads within 5 s; removed, it
/// serves none after `remove_replica` returned and its pool is closed
/// within 5 s; no read fails. Wrong additions are refused and change
/// nothing.
pub async fn replicas_added_and_removed_under_read_load(c: &Cluster) -> Outcome {
    let db = MultiDb::builder()
        .primary(c.url(Instance::Primary))
        .replica(c.url(Instance::Replica))
        .connect()
        .await?;
    // Refused, and nothing changes.
    let the_primary = Database::connect(c.url(Instance::Primary)).await?;
    let refused = db.add_replica(the_primary).await;
    assert!(
        matches!(refused, Err(MultiDbError::NotAReplica { .. })),
        "{refused:?}"
    );
    let sqlite = Database::connect("sqlite::memory:").await?;
    let refused = db.add_replica(sqlite).await;
    assert!(
        matches!(refused, Err(MultiDbError::BackendMismatch { .. })),
        "{refused:?}"
    );
    assert_eq!(
        db.replica_status().len(),
        1,
        "refused additions changed the set"
    );

    let seen = Arc::new(Seen::default());
    let (tasks, stop) = readers(c, &db, 4, &seen);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let delayed = c.port(Instance::Delayed);
    let connection = Database::connect(c.url(Instance::Delayed)).await?;
    let asked = Instant::now();
    let id = db.add_replica(connection.clone()).await.map_err(boxed)?;
    let added = Instant::now();
    wait_until(Duration::from_secs(5), || async {
        seen.first_on(delayed, added).is_some()
    })
    .await
    .map_err(|w| format!("the added replica served no read within {w:?}"))?;
    let first = seen.first_on(delayed, added).map(|at| at - added);
    assert_eq!(db.replica_status()[1].id, id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    db.remove_replica(id).await.map_err(boxed)?;
    let removed = Instant::now();
    let closed = wait_until(Duration::from_secs(5), || async {
        connection.ping().await.is_err()
    })
    .await
    .map_err(|w| format!("the removed replica's pool still open after {w:?}"))?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(true);
    for task in tasks {
        task.await?;
    }
    let again = db.remove_replica(id).await;
    assert!(
        matches!(again, Err(MultiDbError::UnknownReplica(i)) if i == id),
        "{again:?}"
    );
    let last = seen.last_on(delayed);
    let reads = seen.reads.lock().map(|r| r.len()).unwrap_or(0);
    let failed = seen.failed.lock().map(|f| f.clone()).unwrap_or_default();
    println!(
        "{:?} 4 readers, {reads} reads, {} failed: add_replica took {:?}, first read on it {:?} \
         after it returned; remove_replica: last read on it started {:?} before it returned, \
         pool closed {closed:?} after",
        c.backend,
        failed.len(),
        added - asked,
        first,
        last.map(|last| removed.saturating_duration_since(last)),
    );
    assert!(failed.is_empty(), "failed reads: {failed:?}");
    assert!(
        last.is_some_and(|last| last < removed),
        "a read started after remove_replica returned was served by the removed replica"
    );
    Ok(())
}
