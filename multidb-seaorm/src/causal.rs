//! Causal reads on the connection's side: what a read must see (capturing
//! the position of the scope's writes when a replica may have it), what a
//! replica's read teaches the scope, and the write position handed to jobs.
//! The facts themselves live in core's `CausalState`.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use multidb_core::__private::{
    CapturePosition, CausalState, MustSee, ReadNeed, TaskSnapshot, TaskState, comes_after,
    with_causal,
};
use multidb_core::context::RequestContext;
use multidb_core::position::{Position, WritePosition};
use sea_orm::{DbBackend, DbErr};

use crate::inner::Inner;
use crate::multidb::MultiDb;
use crate::positions::primary_position;

/// Where the causal facts of a read live.
enum Home<'a> {
    Scope(&'a RequestContext),
    Unscoped,
}

impl Home<'_> {
    fn with<R>(&self, inner: &Inner, f: impl FnOnce(&mut CausalState) -> R) -> R {
        match self {
            Home::Scope(request) => with_causal(request, f),
            Home::Unscoped => inner.with_unscoped(f),
        }
    }
}

impl MultiDb {
    /// What a read of `task` must see, capturing the position of its writes
    /// first when a replica may have it (one round trip to the primary).
    pub(crate) async fn must_see(&self, task: &TaskSnapshot) -> MustSee {
        let inner = &self.inner;
        if !inner.causal {
            // A position to wait for that this connection cannot check (no
            // monitor, causal reads off, SQLite): the primary has it.
            return if task.scope().is_some_and(comes_after) {
                MustSee::Unknowable
            } else {
                MustSee::Timed
            };
        }
        let home = match task.task() {
            TaskState::Scoped { pinned: true, .. } => return MustSee::Timed,
            TaskState::Scoped { .. } => match task.scope() {
                Some(request) => Home::Scope(request),
                None => return MustSee::Timed,
            },
            TaskState::Unscoped if inner.recent_unscoped_write() => Home::Unscoped,
            _ => return MustSee::Nothing,
        };
        let write_done = match home.with(inner, |c| c.read_need()) {
            ReadNeed::Ready(must_see) => return must_see,
            ReadNeed::Capture { write_done } => write_done,
        };
        // Capture only if a replica was checked after the write: else none
        // can be known to have it, and the read goes to the primary.
        let done = write_done.map_or(0, |at| inner.stamp_of(at));
        let maybe = inner
            .health
            .iter()
            .any(|health| health.with_known(|known| known.is_some_and(|(at, _)| *at > done)));
        if !maybe {
            return MustSee::Unknowable;
        }
        match self.capture().await {
            Ok(position) => home.with(inner, |c| {
                c.captured(position);
                c.must_see()
            }),
            // Without the primary's position, wait for nothing we cannot
            // check: read the primary.
            Err(_) => MustSee::Unknowable,
        }
    }

    /// After a read served by replica `index`, ended `at`: stay on it
    /// (monotonic reads) and remember the position read at.
    pub(crate) fn served(&self, task: &TaskSnapshot, index: usize, at: Instant) {
        let inner = &self.inner;
        let health = &inner.health[index];
        health.served(inner.stamp_of(at));
        let Some(request) = task.scope() else {
            return;
        };
        task.set_sticky(index);
        if !inner.causal {
            return;
        }
        let cluster = inner.cluster();
        health.with_known(|known| {
            if let Some((_, position)) = known {
                with_causal(request, |c| c.served(cluster, position));
            }
        });
    }

    /// The primary's position now (one round trip).
    pub(crate) async fn capture(&self) -> Result<WritePosition, DbErr> {
        let flavor = self.inner.flavor().await?;
        self.inner.metrics.position_capture();
        let position = primary_position(&self.inner.primary, flavor).await?;
        self.inner.set_cluster(position.cluster());
        Ok(position)
    }

    /// Where the current scope's writes reached on the primary — the token
    /// for a job that must read them ([`scope_after`](crate::scope_after)).
    /// `Ok(None)` when the scope wrote nothing, and on SQLite. Outside any
    /// scope: the position of the last unscoped write, within the
    /// [unscoped write window](crate::MultiDbBuilder::unscoped_write_window).
    ///
    /// One round trip to the primary when the scope wrote since the
    /// position was last captured.
    ///
    /// ```no_run
    /// use multidb_seaorm::{MultiDb, WritePosition, scope, scope_after};
    /// use sea_orm::ConnectionTrait;
    ///
    /// # async fn run(db: MultiDb) -> Result<(), Box<dyn std::error::Error>> {
    /// let token = scope(async {
    ///     db.execute_unprepared("INSERT INTO post (title) VALUES ('hi')").await?;
    ///     db.write_position().await
    /// })
    /// .await?;
    /// let payload = token.map(|position| position.to_string()); // into the job queue
    /// // … in the worker:
    /// if let Some(text) = payload {
    ///     let position: WritePosition = text.parse()?;
    ///     db.check_position(&position)?;
    ///     scope_after(position, async { /* reads see the handler's insert */ }).await;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn write_position(&self) -> Result<Option<WritePosition>, DbErr> {
        let inner = &self.inner;
        if !inner.positions {
            return Ok(None);
        }
        let task = multidb_core::__private::snapshot();
        let home = match (task.scope(), task.task()) {
            (Some(request), TaskState::Scoped { wrote: true, .. }) => Home::Scope(request),
            (None, _) if inner.recent_unscoped_write() => Home::Unscoped,
            _ => return Ok(None),
        };
        if home.with(inner, |c| c.is_stale()) {
            let position = self.capture().await?;
            home.with(inner, |c| c.captured(position));
        }
        Ok(home.with(inner, |c| c.own_position().cloned()))
    }

    /// Check that `position` belongs to this connection's cluster before a
    /// job waits for it ([`scope_after`](crate::scope_after)): a position of
    /// another cluster or backend would send every read to the primary.
    pub fn check_position(&self, position: &WritePosition) -> Result<(), DbErr> {
        let kind_matches = matches!(
            (position.position(), self.get_database_backend()),
            (Position::Lsn(_), DbBackend::Postgres)
                | (Position::MariaDb(_) | Position::MySql(_), DbBackend::MySql)
        );
        let cluster = self.inner.cluster();
        if !kind_matches || (cluster != 0 && cluster != position.cluster()) {
            return Err(DbErr::Custom(format!(
                "multidb: the write position {position} belongs to another cluster or backend \
                 than this MultiDb's: was it made by another application's database?"
            )));
        }
        Ok(())
    }
}

/// Captures a scope's position for the HTTP layer (see `CapturePosition`).
pub(crate) struct Capturer(pub(crate) MultiDb);

impl CapturePosition for Capturer {
    fn capture(&self) -> Pin<Box<dyn Future<Output = Option<WritePosition>> + Send + 'static>> {
        let db = self.0.clone();
        Box::pin(async move {
            match db.capture().await {
                Ok(position) => Some(position),
                Err(error) => {
                    tracing::warn!(target: "multidb::route", %error, "could not read the primary's position");
                    None
                }
            }
        })
    }
}
