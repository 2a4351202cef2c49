//! Causal reads on the connection's side: what a read must see (capturing
//! the position of the scope's writes when a replica may have it), what a
//! replica's read teaches the scope, and the write position handed to jobs.
//! The facts themselves live in core's `CausalState`.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

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
use crate::replica_set::Member;

/// A read this soon after its scope's write does not look for a replica
/// that has it (none is likely to have it yet): it reads the primary without
/// the round trips of a capture and a probe.
const CAPTURE_AFTER: Duration = Duration::from_millis(5);

/// What a read must see, or what it must do first to know.
pub(crate) enum ToSee<'a> {
    /// This, known at once.
    Known(MustSee),
    /// Look for a replica that has these positions (learned at the stamp).
    Find(MustSee, u64),
    /// Capture the position of the write done at this instant, if any.
    Capture(Home<'a>, Option<Instant>),
}

/// The stamp at which `c` learned the position a read must see (0: none).
fn learned(inner: &Inner, c: &CausalState) -> u64 {
    c.learned_at().map_or(0, |at| inner.stamp_of(at))
}

/// Where the causal facts of a read live.
pub(crate) enum Home<'a> {
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
    /// What a read of `task` must see, as far as it is known without
    /// waiting: `Known`, unless the read must capture its scope's position
    /// (a round trip to the primary) or look for a replica that has one;
    /// `must_see_slowly` finishes those, boxed, so that a plain read's
    /// future stays small.
    pub(crate) fn must_see_at_once<'t>(&self, task: &'t TaskSnapshot) -> ToSee<'t> {
        let inner = &self.inner;
        if !inner.causal {
            // A position to wait for that this connection cannot check (no
            // monitor, causal reads off, SQLite): the primary has it.
            return ToSee::Known(if task.scope().is_some_and(comes_after) {
                MustSee::Unknowable
            } else {
                MustSee::Timed
            });
        }
        let home = match task.task() {
            TaskState::Scoped { pinned: true, .. } => return ToSee::Known(MustSee::Timed),
            TaskState::Scoped { .. } => match task.scope() {
                Some(request) => Home::Scope(request),
                None => return ToSee::Known(MustSee::Timed),
            },
            TaskState::Unscoped if inner.recent_unscoped_write() => Home::Unscoped,
            _ => return ToSee::Known(MustSee::Nothing),
        };
        match home.with(inner, |c| (c.read_need(), learned(inner, c))) {
            (ReadNeed::Ready(must_see @ MustSee::Positions(_)), learned) => {
                ToSee::Find(must_see, learned)
            }
            (ReadNeed::Ready(must_see), _) => ToSee::Known(must_see),
            (ReadNeed::Capture { write_done }, _) => ToSee::Capture(home, write_done),
        }
    }

    /// What the read `must_see_at_once` could not settle must see, once its
    /// scope's position is captured and a replica that has it looked for.
    pub(crate) async fn must_see_slowly(&self, task: &TaskSnapshot, to_see: ToSee<'_>) -> MustSee {
        let (must_see, learned) = match to_see {
            ToSee::Known(must_see) => return must_see,
            ToSee::Find(must_see, learned) => (must_see, learned),
            ToSee::Capture(home, write_done) => self.capture_for(home, write_done).await,
        };
        if matches!(must_see, MustSee::Positions(_)) {
            self.find_replica(&must_see, learned).await;
            self.note_pin_everywhere(task);
        }
        must_see
    }

    /// Capture the position of `home`'s write (done at `write_done`) when a
    /// replica may have it; what the read must see then, and the stamp at
    /// which it was learned (0: none), which `find_replica` compares the
    /// replicas' knowledge with.
    async fn capture_for(&self, home: Home<'_>, write_done: Option<Instant>) -> (MustSee, u64) {
        let inner = &self.inner;
        // Capture when a replica was checked after the write, or when the
        // write is old enough that a replica may have it by now (asked
        // afresh by `find_replica`), or when the read may wait for one:
        // else none can be known to have it, and the read goes to the
        // primary (SeaORM's MySQL insert reads its row back at once).
        let done = write_done.map_or(0, |at| inner.stamp_of(at));
        let checked_since = inner.replicas.load().members.iter().any(|member| {
            !member.is_load_balanced()
                && member
                    .health
                    .with_known(|known| known.is_some_and(|(at, _)| at > done))
        });
        let old_enough = write_done.is_none_or(|at| at.elapsed() >= CAPTURE_AFTER);
        if !(checked_since || old_enough || !inner.config.causal_wait.is_zero()) {
            return (MustSee::Unknowable, 0);
        }
        match self.capture().await {
            Ok(position) => home.with(inner, |c| {
                c.captured(position);
                (c.must_see(), learned(inner, c))
            }),
            // Without the primary's position, wait for nothing we cannot
            // check: read the primary.
            Err(_) => (MustSee::Unknowable, 0),
        }
    }

    /// Whether every replica is known to be at or past the position the
    /// scope came with (a pin's): then the HTTP layer clears the pin.
    pub(crate) fn note_pin_everywhere(&self, task: &TaskSnapshot) {
        let inner = &self.inner;
        let Some(request) = task.scope().filter(|request| comes_after(request)) else {
            return;
        };
        let Some(after) = with_causal(request, |c| c.after_to_check().cloned()) else {
            return;
        };
        let cluster = inner.cluster();
        let set = inner.replicas.load();
        let everywhere = !set.is_empty()
            && set.members.iter().all(|member| {
                !member.is_load_balanced()
                    && member.health.with_known(|known| {
                        known.is_some_and(|(_, position)| after.reached_by(cluster, position))
                    })
            });
        if everywhere {
            with_causal(request, |c| c.after_reached_everywhere());
        }
    }

    /// After a read served by `member` of a set of `replicas`, ended at
    /// stamp `at`: stay on it (monotonic reads) and remember the position
    /// read at.
    pub(crate) fn served(&self, task: &TaskSnapshot, member: &Member, replicas: usize, at: u64) {
        let inner = &self.inner;
        let health = &member.health;
        health.served(at);
        let Some(request) = task.scope() else {
            return;
        };
        // With one replica there is no other to go back in time on: no
        // affinity (and no affinity cookie) needed.
        if replicas > 1 {
            task.set_sticky(member.id.0);
        }
        // Behind a load balancer the read's server is unknown: it teaches
        // the scope no position.
        if !inner.causal || member.is_load_balanced() {
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
        self.inner.counters.captured();
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
