//! Causal reads (read-your-writes by replication position) under real lag:
//! a scope that wrote reads the primary until a replica has replayed its
//! write, then that replica; a job carries the position as a token; the
//! unscoped window waits for a position too; reads within a scope are
//! monotonic.

use std::time::{Duration, Instant};

use multidb_seaorm::{MultiDb, Reason, Target, WritePosition, scope, scope_after};
use sea_orm::Set;
use sea_orm::entity::prelude::*;

use crate::scenarios::Outcome;
use crate::servers::{Cluster, port_of_url, wait_until};

crate::post_entity!(causal_post, "causal_post");
crate::post_entity!(job_post, "job_post");
crate::post_entity!(unscoped_post, "unscoped_post");
crate::post_entity!(fresh_post, "fresh_post");

fn boxed<E: std::fmt::Display>(error: E) -> Box<dyn std::error::Error + Send + Sync> {
    error.to_string().into()
}

/// Causal reads over the delayed replica only, checked every 100 ms.
async fn delayed_causal(c: &Cluster) -> Result<MultiDb, Box<dyn std::error::Error>> {
    Ok(MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(c.delayed.as_str())
        .monitor_interval(Duration::from_millis(100))
        .connect()
        .await?)
}

/// In one scope: insert, read it back at once (the primary: the replica
/// lags), wait, read again: now the replica, which has the row.
pub async fn a_scope_reads_its_write_then_returns_to_the_replica(c: &Cluster) -> Outcome {
    use causal_post::{ActiveModel, Entity};
    c.create_table("causal_post").await.map_err(boxed)?;
    let db = delayed_causal(c).await.map_err(boxed)?;
    let replica = port_of_url(&c.delayed);
    let (first, later, back_after) = scope(async {
        let post = ActiveModel {
            title: Set("causal".into()),
            ..Default::default()
        }
        .insert(&db)
        .await?;
        let written = Instant::now();
        let first = Entity::find_by_id(post.id).one(&db).await?;
        let port_at_once = c.port_of(&db).await?;
        assert_ne!(
            Some(port_at_once),
            replica,
            "the lagging replica served a read after the write"
        );
        let back = wait_until(c.delay * 5, || async {
            c.port_of(&db).await.ok() == replica
        })
        .await
        .map_err(|w| DbErr::Custom(format!("never back on the replica ({w:?})")))?;
        let later = Entity::find_by_id(post.id).one(&db).await?;
        let _ = back;
        Ok::<_, DbErr>((first, later, written.elapsed()))
    })
    .await?;
    assert_eq!(first.map(|p| p.title).as_deref(), Some("causal"));
    assert_eq!(
        later.map(|p| p.title).as_deref(),
        Some("causal"),
        "the replica had the row"
    );
    let stats = db.stats();
    println!(
        "{:?} causal: own write read back on the primary (causal {}), replica again {back_after:?} after the write \
         (delay {:?}; read_after_write {})",
        c.backend,
        stats.count(Target::Primary, Reason::Causal),
        c.delay,
        stats.count(Target::Primary, Reason::ReadAfterWrite),
    );
    assert!(stats.count(Target::Primary, Reason::Causal) >= 1);
    assert!(back_after < c.delay * 4, "{back_after:?}");
    Ok(())
}

/// A handler's position, carried to a job as text: the job reads the row at
/// once (from the primary while the replica lags), and from the replica as
/// soon as it caught up. Positions of another cluster or garbage are refused.
pub async fn a_job_reads_its_handlers_write_through_the_token(c: &Cluster) -> Outcome {
    use job_post::{ActiveModel, Entity};
    c.create_table("job_post").await.map_err(boxed)?;
    let db = delayed_causal(c).await.map_err(boxed)?;
    let (id, token) = scope(async {
        let post = ActiveModel {
            title: Set("for the job".into()),
            ..Default::default()
        }
        .insert(&db)
        .await?;
        Ok::<_, DbErr>((post.id, db.write_position().await?))
    })
    .await?;
    let token = token.ok_or("a writing scope has a position")?;
    let payload = token.to_string();
    let job_db = db.clone();
    let job = tokio::spawn(async move {
        let position: WritePosition = payload.parse().map_err(boxed)?;
        job_db.check_position(&position).map_err(boxed)?;
        scope_after(position, async {
            let found = Entity::find_by_id(id).one(&job_db).await?;
            let at_once = found.map(|p| p.title);
            let started = Instant::now();
            let mut from_replica = None;
            while started.elapsed() < Duration::from_secs(10) {
                let row = Entity::find_by_id(id).one(&job_db).await?;
                assert!(row.is_some(), "the job missed its handler's write");
                if job_db.stats().count(Target::Replica, Reason::Policy) > 0 {
                    from_replica = Some(started.elapsed());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok::<_, DbErr>((at_once, from_replica))
        })
        .await
        .map_err(boxed)
    });
    let (at_once, from_replica) = job.await??;
    assert_eq!(at_once.as_deref(), Some("for the job"));
    let from_replica = from_replica.ok_or("the job never read from the replica")?;
    println!(
        "{:?} token: job read the row at once; from the replica after {from_replica:?}",
        c.backend
    );
    // Refused: garbage, and a position of another cluster.
    assert!("v1.garbage".parse::<WritePosition>().is_err());
    let other = WritePosition::new(token.cluster() ^ 1, token.position().clone());
    assert!(
        db.check_position(&other).is_err(),
        "a foreign cluster's position"
    );
    Ok(())
}

/// A plain `main`: insert with SeaORM (on MariaDB the insert reads its row
/// back), read it, and once the replica caught up, reads return to it
/// within the unscoped window.
pub async fn unscoped_writes_wait_for_their_position(c: &Cluster) -> Outcome {
    use unscoped_post::{ActiveModel, Entity};
    c.create_table("unscoped_post").await.map_err(boxed)?;
    let db = delayed_causal(c).await.map_err(boxed)?;
    for n in 0..3 {
        let post = ActiveModel {
            title: Set(format!("unscoped {n}")),
            ..Default::default()
        }
        .insert(&db)
        .await?;
        assert_eq!(post.title, format!("unscoped {n}"));
        let found = Entity::find_by_id(post.id).one(&db).await?;
        assert_eq!(
            found.map(|p| p.title),
            Some(format!("unscoped {n}")),
            "read back at once"
        );
    }
    let replica = port_of_url(&c.delayed);
    let back = wait_until(c.delay * 5, || async {
        c.port_of(&db).await.ok() == replica
    })
    .await
    .map_err(|w| format!("unscoped reads never returned to the replica ({w:?}, window 15 s)"))?;
    println!(
        "{:?} unscoped: reads back on the replica {back:?} after the last insert",
        c.backend
    );
    assert!(back < Duration::from_secs(10));
    let written_rows = Entity::find().count(&db).await?;
    assert_eq!(written_rows, 3);
    Ok(())
}

/// Within a scope every read goes to the same replica while it is usable
/// (a paginator's COUNT and its rows agree); separate scopes still spread.
pub async fn reads_within_a_scope_are_monotonic(c: &Cluster) -> Outcome {
    let db = c.both_replicas().await.map_err(boxed)?;
    let mut firsts = Vec::new();
    for _ in 0..4 {
        let ports = scope(async {
            let mut ports = Vec::new();
            for _ in 0..5 {
                ports.push(c.port_of(&db).await?);
            }
            Ok::<_, DbErr>(ports)
        })
        .await?;
        assert!(
            ports.iter().all(|p| *p == ports[0]),
            "one scope, one replica: {ports:?}"
        );
        firsts.push(ports[0]);
    }
    firsts.sort_unstable();
    firsts.dedup();
    assert_eq!(firsts.len(), 2, "scopes still spread over both replicas");
    Ok(())
}

/// With the defaults (a monitor every 500 ms), a scope that wrote and reads
/// 150 ms later reads the fast replica, which has had the write for a long
/// time by then although the monitor has not seen it yet: the read asks the
/// replica where it is (one probe) instead of reading the primary. At least
/// 18 times in 20; and the row is always there.
pub async fn a_read_150_ms_after_its_write_goes_to_the_fast_replica(c: &Cluster) -> Outcome {
    use fresh_post::{ActiveModel, Entity};
    c.create_table("fresh_post").await.map_err(boxed)?;
    let db = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(c.replica.as_str())
        .replica(c.delayed.as_str())
        .connect()
        .await
        .map_err(boxed)?;
    let fast = port_of_url(&c.replica).ok_or("no port in the replica's URL")?;
    // The monitor's first check: the flavour and the cluster are known.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut on_fast = 0;
    let mut ports = Vec::new();
    for n in 0..20 {
        let (port, found) = scope(async {
            let post = ActiveModel {
                title: Set(format!("fresh {n}")),
                ..Default::default()
            }
            .insert(&db)
            .await?;
            tokio::time::sleep(Duration::from_millis(150) + c.fast_delay).await;
            let port = c.port_of(&db).await?;
            let found = Entity::find_by_id(post.id).one(&db).await?;
            Ok::<_, DbErr>((port, found.map(|p| p.title)))
        })
        .await?;
        assert_eq!(
            found,
            Some(format!("fresh {n}")),
            "read {n} missed its write"
        );
        on_fast += usize::from(port == fast);
        ports.push(port);
    }
    let stats = db.stats();
    println!(
        "{:?} fresh knowledge: {on_fast}/20 reads 150 ms after the write on the fast replica \
         ({} captures, {} probes)",
        c.backend,
        stats.position_captures(),
        stats.position_probes(),
    );
    assert!(on_fast >= 18, "{on_fast}/20 on the fast replica: {ports:?}");
    Ok(())
}

/// Fifty reads at once that need a write the delayed replica has not
/// replayed, each in a request that came with the write's position (as a
/// pin brings it): what is known of the replica predates the position, so
/// the reads ask it, but they share one probe (a few at most), not fifty.
/// A later request asks once more, at most.
pub async fn concurrent_reads_share_one_probe(c: &Cluster) -> Outcome {
    c.create_table("probe_post").await.map_err(boxed)?;
    let db = MultiDb::builder()
        .primary(c.primary.as_str())
        .replica(c.delayed.as_str())
        .connect()
        .await
        .map_err(boxed)?;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let position = scope(async {
        db.execute_unprepared("INSERT INTO probe_post (title) VALUES ('shared')")
            .await?;
        db.write_position().await
    })
    .await?
    .ok_or("a writing scope has a position")?;
    let before = db.stats().position_probes();
    let reads: Vec<_> = (0..50)
        .map(|_| {
            let (db, c, position) = (db.clone(), c.clone(), position.clone());
            tokio::spawn(scope_after(position, async move { c.port_of(&db).await }))
        })
        .collect();
    let primary = port_of_url(&c.primary).ok_or("no port in the primary's URL")?;
    for read in reads {
        assert_eq!(read.await.map_err(boxed)??, primary, "the replica lags 1 s");
    }
    let probes = db.stats().position_probes() - before;
    let again = db.stats().position_probes();
    scope_after(position, async { c.port_of(&db).await }).await?;
    println!(
        "{:?}: 50 concurrent reads needing one position sent {probes} probe(s)",
        c.backend
    );
    assert!(probes <= 3, "{probes} probes for 50 reads");
    assert!(db.stats().position_probes() - again <= 1);
    Ok(())
}
