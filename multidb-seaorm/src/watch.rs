//! A read that waits on a dead replica moves on at once.
//!
//! When a replica dies, reads already routed to it wait in its pool: sqlx
//! retries a refused connect until the pool's acquire timeout (1 s by
//! default here). A read on a replica therefore also waits for its
//! replica's `gone` notification, which fires when a read fails on it, the
//! monitor counts it down, or a bare TCP connect to it is refused: the read
//! is then dropped and retried elsewhere (it is a read: running it twice is
//! harmless). No timer is armed per read. Instead one task per `MultiDb`
//! ([`spawn`]) looks every [`TICK`] for a replica with reads in flight of
//! which none finished for [`SUSPECT_AFTER`], and starts a TCP connect to
//! it (at most one per [`CHECK_GAP`] per replica), which tells a dead
//! server (refused, or no answer within [`TCP_CHECK`]) from a slow query in
//! about a millisecond.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sea_orm::{ConnAcquireErr, DbBackend, DbErr};

use crate::gone::Watch;
use crate::inner::{Inner, millis};
use crate::read_path::Pending;
use crate::replica_set::{Member, ReplicaId};

/// How often the stall watch looks at the replicas with reads in flight.
const TICK: Duration = Duration::from_millis(20);

/// A replica with reads in flight and none finished for this long gets its
/// server checked for accepting connections.
const SUSPECT_AFTER: Duration = Duration::from_millis(60);

/// At most one TCP check per replica this often (PostgreSQL).
const CHECK_GAP: Duration = Duration::from_secs(1);

/// At most one TCP check per MariaDB/MySQL replica this often.
const CHECK_GAP_MYSQL: Duration = Duration::from_secs(5);

/// A server that does not accept a TCP connection within this is taken
/// for down (the monitor brings it back once it answers).
const TCP_CHECK: Duration = Duration::from_millis(150);

/// Run `read` on `member`, or give up on it as soon as `member` is known
/// gone; the error then says so and counts as unreachable.
pub(crate) fn guarded<'a, T>(member: &'a Member, read: Pending<'a, T>) -> Guarded<'a, T> {
    Guarded {
        member,
        // Made before the read starts, so that a failure from now on counts
        // even before it is first polled; takes a waker slot only if the
        // read waits.
        gone: member.health.watch_gone(),
        read,
    }
}

/// The future of [`guarded`]: the read, then, while it waits, the watch.
/// A plain `poll` over the boxed read, with no state machine around it.
pub(crate) struct Guarded<'a, T> {
    member: &'a Member,
    gone: Watch<'a>,
    read: Pending<'a, T>,
}

impl<T> Future for Guarded<'_, T> {
    type Output = Result<T, DbErr>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match this.read.as_mut().poll(cx) {
            Poll::Pending if this.gone.gone(cx) => Poll::Ready(Err(moved_on(this.member))),
            answered => answered,
        }
    }
}

/// The error of a read given up on because its replica is gone.
#[cold]
fn moved_on(member: &Member) -> DbErr {
    tracing::debug!(
        target: "multidb::route",
        replica = %member.name,
        "replica known down while a read waited on it: moving the read on"
    );
    DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
}

/// Start the stall watch of `inner` (with the monitor: replicas that have
/// a network address).
pub(crate) fn spawn(inner: &Arc<Inner>) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(stalls(Arc::downgrade(inner)));
    }
}

/// Every [`TICK`], until the `MultiDb` is dropped or closed: check each
/// replica busy for [`SUSPECT_AFTER`] with no read finished meanwhile.
async fn stalls(weak: Weak<Inner>) {
    // When each replica was first seen with reads in flight, in a row.
    let mut busy_since: HashMap<ReplicaId, Instant> = HashMap::new();
    loop {
        tokio::time::sleep(TICK).await;
        let Some(inner) = weak.upgrade().filter(|inner| !inner.is_closed()) else {
            break;
        };
        let now = Instant::now();
        let set = inner.replicas.load();
        busy_since.retain(|id, _| set.members.iter().any(|m| m.id == *id));
        for member in &set.members {
            if member.load.in_flight() == 0 || member.address.is_none() {
                busy_since.remove(&member.id);
                continue;
            }
            let since = *busy_since.entry(member.id).or_insert(now);
            let quiet = member
                .load
                .idle_for(now)
                .is_none_or(|idle| idle >= SUSPECT_AFTER);
            if quiet && now.duration_since(since) >= SUSPECT_AFTER {
                check(&inner, member);
            }
        }
    }
}

/// Connect to `member`'s address once (unless a check runs already); a
/// refusal or no answer within [`TCP_CHECK`] counts it down.
fn check(inner: &Arc<Inner>, member: &Arc<Member>) {
    let Some((host, port)) = member.address.clone() else {
        return;
    };
    // PostgreSQL logs each bare connect ("incomplete startup packet");
    // MariaDB/MySQL count it against the client host, which
    // `max_connect_errors` consecutive ones block (a successful connection
    // resets the count): rare, and rarer there.
    let gap = match member.connection.get_database_backend() {
        DbBackend::MySql => CHECK_GAP_MYSQL,
        _ => CHECK_GAP,
    };
    let now = inner.now_stamp();
    let last = member.last_check.load(Ordering::Relaxed);
    if last != 0 && now.saturating_sub(last) < millis(gap) {
        return;
    }
    if member.checking.swap(true, Ordering::AcqRel) {
        return;
    }
    member.last_check.store(now, Ordering::Relaxed);
    let (inner, member) = (inner.clone(), member.clone());
    tokio::spawn(async move {
        if let Err(error) = accepts(&host, port).await {
            member.health.failed(inner.now_stamp());
            tracing::warn!(
                target: "multidb::route",
                replica = %member.name,
                %error,
                "replica does not accept connections: reads waiting on it move on"
            );
        }
        member.checking.store(false, Ordering::Release);
    });
}

/// Whether `host:port` accepts a TCP connection within [`TCP_CHECK`]
/// (closed at once): a dead server refuses in about a millisecond.
pub(crate) async fn accepts(host: &str, port: u16) -> Result<(), String> {
    let connect = tokio::net::TcpStream::connect((host, port));
    match tokio::time::timeout(TCP_CHECK, connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no TCP answer within {TCP_CHECK:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::ReplicaHealth;
    use sea_orm::{DatabaseBackend, MockDatabase};

    fn member() -> Member {
        let connection = MockDatabase::new(DatabaseBackend::Postgres).into_connection();
        Member::new(
            ReplicaId(0),
            connection,
            "r0".into(),
            ReplicaHealth::Up,
            None,
        )
    }

    async fn hung_read_ends_when(gone: impl FnOnce(&Member) + Send + 'static) {
        let member = Arc::new(member());
        let hung = Box::pin(std::future::pending::<Result<(), DbErr>>());
        let other = member.clone();
        let fire = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            gone(&other);
        });
        let result = tokio::time::timeout(Duration::from_secs(5), guarded(&member, hung)).await;
        fire.await.expect("the notifier ran");
        assert!(
            matches!(
                result,
                Ok(Err(DbErr::ConnectionAcquire(
                    ConnAcquireErr::ConnectionClosed
                )))
            ),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_read_waiting_on_a_replica_moves_on_when_a_read_fails_there() {
        hung_read_ends_when(|m| m.health.failed(1)).await;
    }

    #[tokio::test]
    async fn a_read_waiting_on_a_replica_moves_on_when_it_is_counted_down() {
        hung_read_ends_when(|m| m.health.set_verdict(ReplicaHealth::Down)).await;
    }

    #[tokio::test]
    async fn a_read_that_answers_is_not_disturbed() {
        let member = member();
        let answer = guarded(&member, Box::pin(async { Ok::<_, DbErr>(7) })).await;
        assert_eq!(answer.ok(), Some(7));
        // A failure after the read is over touches nothing.
        member.health.failed(1);
    }
}
