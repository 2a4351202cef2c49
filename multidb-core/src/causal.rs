//! Read-your-writes by replication position: what one scope (a request, a
//! job), or the writes made outside any scope, must see — with one owner.
//!
//! [`CausalState`] is written by the connection (a write was routed, a write
//! finished, a position was captured, a replica served a read) and read by
//! the connection (what must this read see?) and by the HTTP layer (which
//! position goes into the pin?), always through its methods.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use crate::position::{Position, WritePosition};

/// Captures the primary's position after a scope's writes. The connection
/// that wrote registers one, so that the HTTP layer (which knows no
/// database) can ask for the position at the end of a request.
pub trait CapturePosition: Send + Sync + 'static {
    /// The primary's position now, or `None` when it cannot be read.
    fn capture(&self) -> Pin<Box<dyn Future<Output = Option<WritePosition>> + Send + 'static>>;
}

/// What a read must see, for causal reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MustSee {
    /// Causal reads do not apply (they are off, the task is pinned, or a
    /// transaction may commit unseen): the timed rules decide.
    Timed,
    /// Nothing: any usable replica will do.
    Nothing,
    /// A write that no replica can be known to have yet: only the primary.
    Unknowable,
    /// A replica must have reached every one of these.
    Positions(Positions),
}

impl MustSee {
    /// Whether position rules replace the timed ones.
    pub const fn is_causal(&self) -> bool {
        !matches!(self, MustSee::Timed)
    }

    /// Whether a server of `cluster` at `position` may serve the read.
    pub fn reached_by(&self, cluster: u64, position: Option<&Position>) -> bool {
        match self {
            MustSee::Timed | MustSee::Nothing => true,
            MustSee::Unknowable => false,
            MustSee::Positions(positions) => {
                position.is_some_and(|position| positions.reached_by(cluster, position))
            }
        }
    }
}

/// Up to three positions a read must see: the one it came with (a pin,
/// [`scope_after`](crate::context::scope_after)), where the scope's own
/// writes reached, and the newest position a read of the scope was served at
/// (monotonic reads). Inline: no allocation for PostgreSQL positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Positions([Option<WritePosition>; 3]);

impl Positions {
    /// Whether a server of `cluster` at `position` has every one of them.
    pub fn reached_by(&self, cluster: u64, position: &Position) -> bool {
        self.0
            .iter()
            .flatten()
            .all(|wanted| wanted.reached_by(cluster, position))
    }

    /// The one position that has reached all of them (what a wait on a
    /// replica waits for); `None` when they belong to different clusters.
    pub fn joined(&self) -> Option<WritePosition> {
        let mut all = self.0.iter().flatten();
        let first = all.next()?.clone();
        all.try_fold(first, |have, next| have.join(next))
    }
}

/// What a read needs before it can be routed (see [`CausalState::read_need`]).
#[derive(Debug)]
pub enum ReadNeed {
    /// The scope wrote since its position was last captured: capture it
    /// (one round trip to the primary) if a replica may have it already,
    /// that is, if a replica was checked after `write_done` (when the
    /// last write finished).
    Capture {
        /// When the scope's last write finished.
        write_done: Option<Instant>,
    },
    /// Route with this.
    Ready(MustSee),
}

/// The causal facts of one scope, or of the writes outside any scope.
#[derive(Default)]
pub struct CausalState {
    /// The scope must read at least this (a pin's position, `scope_after`).
    after: Option<WritePosition>,
    /// Where the scope's own writes reached, captured after them.
    own: Option<WritePosition>,
    /// The scope wrote since `own` was captured.
    pending: bool,
    /// When the scope's last write finished.
    last_write_done: Option<Instant>,
    /// The scope opened a transaction that may commit after any capture.
    uncertain: bool,
    /// The newest position a read of this scope was served at.
    floor: Option<WritePosition>,
    /// How to capture `own` when the HTTP layer asks for it.
    capturer: Option<Arc<dyn CapturePosition>>,
    /// When `after` or `own` was last learned: a replica checked since then
    /// and still behind them really lags (no need to ask it again).
    learned: Option<Instant>,
    /// Every replica was seen at or past `after`: the pin that carried it
    /// is of no more use.
    after_everywhere: bool,
}

impl CausalState {
    /// A scope whose reads must see at least `position`.
    pub fn after(position: WritePosition) -> Self {
        CausalState {
            after: Some(position),
            learned: Some(Instant::now()),
            ..CausalState::default()
        }
    }

    /// A write was routed to the primary. `capturer` (with causal reads on)
    /// lets the HTTP layer capture the position at the end of the request.
    pub fn wrote(&mut self, capturer: impl FnOnce() -> Option<Arc<dyn CapturePosition>>) {
        self.pending = true;
        if self.capturer.is_none() {
            self.capturer = capturer();
        }
    }

    /// A write finished at `at` (or failed: it may have committed all the
    /// same): its position must be captured anew.
    pub fn write_done(&mut self, at: Instant) {
        self.pending = true;
        self.last_write_done = Some(at);
    }

    /// The scope opened a transaction whose commit it will not see (`begin`
    /// and the migration executor): its reads go to the primary.
    pub fn opened_unseen_transaction(&mut self) {
        self.uncertain = true;
    }

    /// The primary was at `position` after the scope's writes.
    pub fn captured(&mut self, position: WritePosition) {
        self.own = Some(position);
        self.pending = false;
        self.learned = Some(Instant::now());
    }

    /// When the newest position the reads must see (the one the scope came
    /// with, or its own writes') was learned: what a replica's known
    /// position is compared with before asking it afresh.
    pub fn learned_at(&self) -> Option<Instant> {
        self.learned
    }

    /// A read was served by a replica of `cluster` at `position`: later
    /// reads must not go to a replica behind it (monotonic reads).
    pub fn served(&mut self, cluster: u64, position: &Position) {
        if cluster == 0 {
            return;
        }
        let newer = self
            .floor
            .as_ref()
            .is_none_or(|floor| floor.reached_by(cluster, position));
        if newer && self.floor.as_ref().map(WritePosition::position) != Some(position) {
            self.floor = Some(WritePosition::new(cluster, position.clone()));
        }
    }

    /// What a read of this scope needs, with causal reads on.
    pub fn read_need(&self) -> ReadNeed {
        if self.uncertain {
            return ReadNeed::Ready(MustSee::Timed);
        }
        if self.pending {
            return ReadNeed::Capture {
                write_done: self.last_write_done,
            };
        }
        ReadNeed::Ready(self.must_see())
    }

    /// What a read must see, once the position of the scope's writes is
    /// known (see [`read_need`](Self::read_need)).
    pub fn must_see(&self) -> MustSee {
        if self.after.is_none() && self.own.is_none() && self.floor.is_none() {
            MustSee::Nothing
        } else {
            MustSee::Positions(Positions([
                self.after.clone(),
                self.own.clone(),
                self.floor.clone(),
            ]))
        }
    }

    /// The one staleness rule: the position of the scope's writes must be
    /// captured (again) before it is handed out.
    pub fn is_stale(&self) -> bool {
        self.pending || self.uncertain || self.own.is_none()
    }

    /// Where the scope's writes reached, when captured since the last one.
    pub fn own_position(&self) -> Option<&WritePosition> {
        self.own.as_ref().filter(|_| !self.pending)
    }

    /// The position the scope came with.
    pub fn after_position(&self) -> Option<&WritePosition> {
        self.after.as_ref()
    }

    /// The position the scope came with, while no read has yet found it
    /// reached by every replica.
    pub fn after_to_check(&self) -> Option<&WritePosition> {
        self.after.as_ref().filter(|_| !self.after_everywhere)
    }

    /// Every replica was seen at or past the position the scope came with:
    /// the pin that carried it can be cleared.
    pub fn after_reached_everywhere(&mut self) {
        self.after_everywhere = self.after.is_some();
    }

    /// Whether every replica was seen at or past the position the scope
    /// came with (see [`after_reached_everywhere`](Self::after_reached_everywhere)).
    pub fn after_is_everywhere(&self) -> bool {
        self.after_everywhere
    }

    /// The capturer registered by the connection that wrote, when the
    /// position is stale.
    pub fn capturer_if_stale(&self) -> Option<Arc<dyn CapturePosition>> {
        self.capturer.clone().filter(|_| self.is_stale())
    }
}

impl fmt::Debug for CausalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CausalState")
            .field("after", &self.after)
            .field("own", &self.own)
            .field("pending", &self.pending)
            .field("uncertain", &self.uncertain)
            .field("floor", &self.floor)
            .field("after_everywhere", &self.after_everywhere)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lsn: u64) -> WritePosition {
        WritePosition::new(1, Position::Lsn(lsn))
    }

    #[test]
    fn a_fresh_scope_needs_nothing() {
        let state = CausalState::default();
        assert!(matches!(
            state.read_need(),
            ReadNeed::Ready(MustSee::Nothing)
        ));
        assert!(state.own_position().is_none());
    }

    #[test]
    fn a_write_needs_a_capture_then_its_position() {
        let mut state = CausalState::default();
        state.wrote(|| None);
        state.write_done(Instant::now());
        assert!(matches!(
            state.read_need(),
            ReadNeed::Capture {
                write_done: Some(_)
            }
        ));
        assert!(state.is_stale());
        state.captured(at(10));
        assert!(!state.is_stale());
        assert!(state.learned_at().is_some());
        assert_eq!(state.own_position(), Some(&at(10)));
        let ReadNeed::Ready(need) = state.read_need() else {
            panic!("captured: ready")
        };
        assert!(need.reached_by(1, Some(&Position::Lsn(10))));
        assert!(!need.reached_by(1, Some(&Position::Lsn(9))));
        let MustSee::Positions(positions) = &need else {
            panic!("positions")
        };
        assert_eq!(positions.joined(), Some(at(10)));
        assert!(
            !need.reached_by(2, Some(&Position::Lsn(10))),
            "another cluster"
        );
        assert!(!need.reached_by(1, None), "an unknown position");
    }

    #[test]
    fn an_unseen_transaction_makes_the_timed_rules_apply() {
        let mut state = CausalState::after(at(5));
        state.opened_unseen_transaction();
        assert!(matches!(state.read_need(), ReadNeed::Ready(MustSee::Timed)));
        state.captured(at(6));
        assert!(state.is_stale(), "its commit may come after any capture");
    }

    #[test]
    fn the_floor_only_rises() {
        let mut state = CausalState::after(at(5));
        state.served(1, &Position::Lsn(8));
        state.served(1, &Position::Lsn(7));
        let need = state.must_see();
        assert!(!need.reached_by(1, Some(&Position::Lsn(7))));
        assert!(need.reached_by(1, Some(&Position::Lsn(8))));
        state.served(0, &Position::Lsn(100)); // cluster unknown: ignored
        assert!(state.must_see().reached_by(1, Some(&Position::Lsn(8))));
    }

    #[test]
    fn a_pin_reached_everywhere_is_checked_once() {
        let mut state = CausalState::default();
        state.after_reached_everywhere();
        assert!(!state.after_is_everywhere(), "no pin, nothing to clear");
        let mut state = CausalState::after(at(5));
        assert_eq!(state.after_to_check(), Some(&at(5)));
        state.after_reached_everywhere();
        assert!(state.after_is_everywhere());
        assert_eq!(state.after_to_check(), None);
    }

    #[test]
    fn the_pin_position_waits_for_a_capture_after_the_last_write() {
        let mut state = CausalState::default();
        state.wrote(|| None);
        state.captured(at(3));
        state.wrote(|| None);
        assert_eq!(state.own_position(), None);
        assert!(state.is_stale());
    }
}
