//! A read that waits on a dead replica moves on at once.
//!
//! When a replica dies, reads already routed to it wait in its pool: sqlx
//! retries a refused connect until the pool's acquire timeout (1 s by
//! default here). While a read runs, a watch looks every [`TICK`] at what
//! is known of the replica: once a read failed on it, the monitor counted
//! it down, or a bare TCP connect to it was refused, the read is dropped and
//! retried elsewhere (it is a read: running it twice is harmless). A read
//! that takes longer than [`SUSPECT_AFTER`] starts that TCP connect (one at
//! a time, at most one per [`CHECK_GAP`] per replica), which
//! tells a dead server (refused, or no answer within [`TCP_CHECK`]) from a
//! slow query in about a millisecond.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::future::{Either, select};
use sea_orm::{ConnAcquireErr, DbBackend, DbErr};

use crate::health::ReplicaHealth;
use crate::inner::{Inner, millis};
use crate::replica_set::Member;

/// How often a running read looks at its replica's state.
const TICK: Duration = Duration::from_millis(20);

/// A read running this long on a replica checks that its server still
/// accepts connections.
const SUSPECT_AFTER: Duration = Duration::from_millis(60);

/// At most one TCP check per replica this often (PostgreSQL).
const CHECK_GAP: Duration = Duration::from_secs(1);

/// At most one TCP check per MariaDB/MySQL replica this often.
const CHECK_GAP_MYSQL: Duration = Duration::from_secs(5);

/// A server that does not accept a TCP connection within this is taken
/// for down (the monitor brings it back once it answers).
const TCP_CHECK: Duration = Duration::from_millis(150);

/// Run `read`, begun at stamp `began`, on `member`, or give up on it as
/// soon as `member` is known down; the error then says so and counts as
/// unreachable.
pub(crate) async fn guarded<T>(
    inner: &Arc<Inner>,
    member: &Arc<Member>,
    began: u64,
    read: impl Future<Output = Result<T, DbErr>>,
) -> Result<T, DbErr> {
    let watch = async {
        let mut waited = Duration::ZERO;
        loop {
            tokio::time::sleep(TICK).await;
            waited += TICK;
            if member.health.failed_at() >= began || member.health.verdict() == ReplicaHealth::Down
            {
                return;
            }
            if waited >= SUSPECT_AFTER {
                check(inner, member);
            }
        }
    };
    match select(pin!(read), pin!(watch)).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => {
            tracing::debug!(
                target: "multidb::route",
                replica = %member.name,
                "replica known down while a read waited on it: moving the read on"
            );
            Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))
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
