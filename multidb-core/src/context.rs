//! The per-task routing context: is this task pinned to the primary, and did
//! the current request write?
//!
//! Django keeps "this thread is pinned" in a thread-local. Async Rust moves
//! tasks between threads, so multidb keeps it in a [`tokio::task_local!`]
//! instead, opened by [`scope`] (the HTTP layer opens one per request).
//!
//! A context has two parts:
//!
//! * the **pin** of this task: set by [`pin_this_task`], cleared by
//!   [`unpin_this_task`], forced on for the duration of [`use_master`];
//! * the **request facts**, shared by every task that runs for the same
//!   request (see [`in_current_scope`]): *a write statement ran* (so later
//!   reads go to the primary) and *the handler asked for the client to be
//!   pinned* ([`mark_db_write`]).
//!
//! # Outside any scope
//!
//! Nothing panics outside a scope:
//!
//! * [`this_task_is_pinned`] is `false`;
//! * [`pin_this_task`] and [`unpin_this_task`] have nowhere to keep their
//!   state: they do nothing and log a warning (open a [`scope`] first);
//! * [`use_master`] and [`db_write`] open a context of their own, so they work
//!   anywhere;
//! * [`mark_db_write`] does nothing (there is no request to mark).
//!
//! ```
//! use multidb_core::context::{pin_this_task, scope, this_task_is_pinned, use_master};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! scope(async {
//!     assert!(!this_task_is_pinned());
//!     use_master(async { assert!(this_task_is_pinned()) }).await;
//!     assert!(!this_task_is_pinned()); // restored on exit
//!     pin_this_task();
//!     assert!(this_task_is_pinned());
//! })
//! .await;
//! assert!(!this_task_is_pinned()); // the scope is gone
//! # }
//! ```

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::causal::CausalState;
use crate::position::WritePosition;

tokio::task_local! {
    static CONTEXT: TaskContext;
}

/// What one task knows: its own pin, and the request it works for.
struct TaskContext {
    pinned: Cell<bool>,
    request: RequestContext,
}

impl TaskContext {
    fn new(pinned: bool, request: RequestContext) -> Self {
        TaskContext {
            pinned: Cell::new(pinned),
            request,
        }
    }
}

/// The facts of one request (or job), shared by every task working for it.
///
/// The HTTP layer creates one per request, runs the handler in it with
/// [`RequestContext::scope`], and reads it afterwards to decide whether to pin
/// the client. Cloning is cheap and the clones share the facts.
///
/// ```
/// use multidb_core::context::{mark_db_write, RequestContext};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let request = RequestContext::new();
/// request.scope(false, async { mark_db_write() }).await;
/// assert!(request.db_write_marked());
/// assert!(!request.wrote());
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    facts: Arc<RequestFacts>,
}

#[derive(Debug)]
struct RequestFacts {
    wrote: AtomicBool,
    db_write_marked: AtomicBool,
    /// Opened by `use_master` or `in_current_scope` because no scope was
    /// open: it pins, but for read-your-writes it counts as no scope, so a
    /// write in it still opens the connection's unscoped write window.
    implicit: bool,
    /// Opened with a position its reads must see ([`RequestContext::after`]).
    comes_after: bool,
    /// A connection with causal reads routed a statement of this request:
    /// its writes' positions go into the pin, and a method alone earns none.
    causal_connection: AtomicBool,
    /// The replica the scope read from last (monotonic reads); `usize::MAX`
    /// = none yet.
    sticky: AtomicUsize,
    causal: Mutex<CausalState>,
}

impl Default for RequestFacts {
    fn default() -> Self {
        RequestFacts {
            wrote: AtomicBool::new(false),
            db_write_marked: AtomicBool::new(false),
            implicit: false,
            comes_after: false,
            causal_connection: AtomicBool::new(false),
            sticky: AtomicUsize::new(usize::MAX),
            causal: Mutex::new(CausalState::default()),
        }
    }
}

impl RequestContext {
    /// A new request with nothing written or marked yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new request whose reads must see at least `position` (the position
    /// a client's pin carried): they go to replicas that reached it, else
    /// the primary.
    pub fn after(position: WritePosition) -> Self {
        RequestContext {
            facts: Arc::new(RequestFacts {
                causal: Mutex::new(CausalState::after(position)),
                comes_after: true,
                ..RequestFacts::default()
            }),
        }
    }

    /// Where this request's writes reached on the primary, captured now if
    /// it wrote since (one round trip to the primary); `None` when it wrote
    /// nothing, or the connection has no positions (SQLite, causal reads
    /// off).
    pub async fn write_position(&self) -> Option<WritePosition> {
        let capturer = self.with_causal(|c| c.capturer_if_stale());
        if let Some(capturer) = capturer
            && let Some(position) = capturer.capture().await
        {
            self.with_causal(|c| c.captured(position));
        }
        self.with_causal(|c| c.own_position().cloned())
    }

    /// The number of the replica the request read from last (its
    /// `ReplicaId`, stable while replicas come and go), if any: for replica
    /// affinity across requests (the HTTP layer keeps it in a cookie).
    pub fn sticky_replica(&self) -> Option<usize> {
        let id = self.facts.sticky.load(Ordering::Relaxed);
        (id != usize::MAX).then_some(id)
    }

    /// Read from the replica numbered `id` first, while it is usable (what
    /// a client read from in its earlier requests): a client that stays on
    /// one replica never sees data go back in time. An id that names no
    /// replica (removed, or never there) is ignored.
    ///
    /// ```
    /// use multidb_core::context::RequestContext;
    /// let request = RequestContext::new();
    /// request.stick_to_replica(1);
    /// assert_eq!(request.sticky_replica(), Some(1));
    /// ```
    pub fn stick_to_replica(&self, id: usize) {
        self.facts.sticky.store(id, Ordering::Relaxed);
    }

    /// Run `f` on this request's causal facts.
    fn with_causal<R>(&self, f: impl FnOnce(&mut CausalState) -> R) -> R {
        let mut causal = self
            .facts
            .causal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut causal)
    }

    fn implicit() -> Self {
        RequestContext {
            facts: Arc::new(RequestFacts {
                implicit: true,
                ..RequestFacts::default()
            }),
        }
    }

    /// Run `future` as this request's task; `pinned` pins the task from the
    /// start (a pinning cookie, or a method that writes).
    ///
    /// The returned future is a named type, so middleware can store it
    /// without boxing.
    pub fn scope<F: Future>(&self, pinned: bool, future: F) -> Scoped<F> {
        Scoped {
            inner: CONTEXT.scope(TaskContext::new(pinned, self.clone()), future),
        }
    }

    /// Run the closure `f` as this request's task, synchronously: what
    /// [`scope`](Self::scope) does for a future. Middleware uses it for the
    /// inner service's `call`.
    ///
    /// ```
    /// use multidb_core::context::{this_task_is_pinned, RequestContext};
    /// assert!(RequestContext::new().sync_scope(true, this_task_is_pinned));
    /// ```
    pub fn sync_scope<R>(&self, pinned: bool, f: impl FnOnce() -> R) -> R {
        CONTEXT.sync_scope(TaskContext::new(pinned, self.clone()), f)
    }

    /// Whether a statement that may write was sent to the primary.
    pub fn wrote(&self) -> bool {
        self.facts.wrote.load(Ordering::Acquire)
    }

    /// Whether the handler asked for the client to be pinned
    /// ([`mark_db_write`] or `#[db_write]`).
    pub fn db_write_marked(&self) -> bool {
        self.facts.db_write_marked.load(Ordering::Acquire)
    }

    /// Whether a connection with causal reads on routed a statement of this
    /// request: the pin of a request that wrote carries its position, and a
    /// request that wrote nothing has nothing to wait for.
    pub fn causal(&self) -> bool {
        self.facts.causal_connection.load(Ordering::Relaxed)
    }
}

pin_project_lite::pin_project! {
    /// A future running inside a routing context: what [`scope`],
    /// [`in_current_scope`] and [`RequestContext::scope`] return. A named
    /// type, so that middleware can store it without boxing.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Scoped<F> {
        #[pin]
        inner: tokio::task::futures::TaskLocalFuture<TaskContext, F>,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

impl<F> fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped").finish_non_exhaustive()
    }
}

/// Run `future` in a fresh routing context: unpinned, nothing written —
/// also when called inside another scope (use [`in_current_scope`] to carry
/// the current one instead).
///
/// This is what the HTTP layer does for each request; background jobs, CLI
/// commands and tests use it the same way, so that one job's writes do not
/// pin another's reads.
///
/// ```
/// use multidb_core::context::{pin_this_task, scope, this_task_is_pinned};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// scope(async { pin_this_task() }).await;
/// scope(async { assert!(!this_task_is_pinned()) }).await; // a fresh one
/// # }
/// ```
pub fn scope<F: Future>(future: F) -> Scoped<F> {
    RequestContext::new().scope(false, future)
}

/// Run `future` in a fresh routing context whose reads see at least
/// `position`: the position a handler's writes reached
/// ([`MultiDb::write_position`](https://docs.rs/multidb-seaorm)), carried in
/// a job's payload. Its reads go to a replica that has reached it, else the
/// primary — so the job reads its handler's writes, from a replica as soon
/// as one caught up.
///
/// ```
/// use multidb_core::context::scope_after;
/// use multidb_core::position::{Position, WritePosition};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let payload = WritePosition::new(1, Position::Lsn(42)).to_string(); // sent with the job
/// let position: WritePosition = payload.parse().expect("a position we wrote");
/// scope_after(position, async { /* the job's reads */ }).await;
/// # }
/// ```
pub fn scope_after<F: Future>(position: WritePosition, future: F) -> Scoped<F> {
    RequestContext::after(position).scope(false, future)
}

/// Run `future` with every statement on the primary, then restore the
/// previous state exactly — on success, error, panic, or when the future is
/// dropped before it finishes. Nests; works inside or outside a [`scope`].
///
/// The future shares the current request's facts, so a write inside still
/// pins the client. A [`pin_this_task`] or [`unpin_this_task`] inside only
/// lasts until the block ends, as in django-multidb-router.
///
/// ```
/// use multidb_core::context::{scope, this_task_is_pinned, use_master};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let pinned = use_master(async { this_task_is_pinned() }).await;
/// assert!(pinned);
/// assert!(!this_task_is_pinned());
/// # }
/// ```
pub async fn use_master<F: Future>(future: F) -> F::Output {
    // Read the context when first polled, not when called: the caller may
    // build the future in one task and await it in another scope.
    let request = CONTEXT
        .try_with(|ctx| ctx.request.clone())
        .unwrap_or_else(|_| RequestContext::implicit());
    CONTEXT.scope(TaskContext::new(true, request), future).await
}

/// What `#[db_write]` runs: `future` on the primary (as [`use_master`]), and
/// the current request marked so that the HTTP layer pins the client.
///
/// ```
/// use multidb_core::context::{db_write, RequestContext};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let request = RequestContext::new();
/// request.scope(false, db_write(async {})).await;
/// assert!(request.db_write_marked());
/// # }
/// ```
pub async fn db_write<F: Future>(future: F) -> F::Output {
    mark_db_write();
    use_master(future).await
}

/// Pin this task to the primary until [`unpin_this_task`] or the end of the
/// enclosing [`scope`] / [`use_master`] block.
///
/// Outside any scope it does nothing and logs a warning.
pub fn pin_this_task() {
    set_pinned(true, "pin_this_task");
}

/// Undo [`pin_this_task`] (and the pin a request started with).
///
/// Outside any scope it does nothing and logs a warning.
pub fn unpin_this_task() {
    set_pinned(false, "unpin_this_task");
}

fn set_pinned(pinned: bool, caller: &str) {
    if CONTEXT.try_with(|ctx| ctx.pinned.set(pinned)).is_err() {
        tracing::warn!(
            target: "multidb::context",
            caller,
            "called outside any multidb scope: nothing to pin; wrap the work in `multidb_seaorm::scope`"
        );
    }
}

/// Whether this task's reads go to the primary because of a pin
/// ([`pin_this_task`], [`use_master`], or a pinned request).
/// `false` outside any scope.
pub fn this_task_is_pinned() -> bool {
    CONTEXT.try_with(|ctx| ctx.pinned.get()).unwrap_or(false)
}

/// Mark the current request as having written, so the HTTP layer pins the
/// client after the response (django's `response._db_write = True`).
/// Does nothing outside any scope.
pub fn mark_db_write() {
    let _ = CONTEXT.try_with(|ctx| {
        ctx.request
            .facts
            .db_write_marked
            .store(true, Ordering::Release)
    });
}

/// Carry the current routing context into work that runs elsewhere, such as
/// a `tokio::spawn`ed task: it starts with this task's pin and shares this
/// request's facts (its writes pin the client too). Outside any scope the
/// future gets a context of its own, where `pin_this_task` works but writes
/// count as unscoped ones (they open the connection's unscoped write window).
///
/// ```
/// use multidb_core::context::{in_current_scope, pin_this_task, scope, this_task_is_pinned};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// scope(async {
///     pin_this_task();
///     let job = tokio::spawn(in_current_scope(async { this_task_is_pinned() }));
///     assert!(job.await.unwrap());
/// })
/// .await;
/// # }
/// ```
pub fn in_current_scope<F: Future>(future: F) -> Scoped<F> {
    let (pinned, request) = CONTEXT
        .try_with(|ctx| (ctx.pinned.get(), ctx.request.clone()))
        .unwrap_or_else(|_| (false, RequestContext::implicit()));
    request.scope(pinned, future)
}

/// What the connection and the HTTP middleware need of a context, and no
/// application should call: reachable only through `crate::__private`.
pub(crate) mod plumbing {
    use std::sync::atomic::Ordering;

    use super::{CONTEXT, RequestContext};
    use crate::causal::CausalState;

    /// What the router needs to know about the current task, read in one go.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum TaskState {
        /// No scope is open.
        Unscoped,
        /// A scope is open.
        Scoped {
            /// The task is pinned to the primary.
            pinned: bool,
            /// A write already ran in this request.
            wrote: bool,
        },
    }

    /// The current task's routing context, read once per statement (one
    /// task-local lookup): its state, and the request it works for.
    #[derive(Debug)]
    pub struct TaskSnapshot {
        task: TaskState,
        /// The context's request; `None` outside any context.
        request: Option<RequestContext>,
    }

    /// Read the current task's context. An unpinned context that was opened
    /// only because no scope was open reads as [`TaskState::Unscoped`].
    pub fn snapshot() -> TaskSnapshot {
        CONTEXT
            .try_with(|ctx| {
                let pinned = ctx.pinned.get();
                let task = if ctx.request.facts.implicit && !pinned {
                    TaskState::Unscoped
                } else {
                    TaskState::Scoped {
                        pinned,
                        wrote: ctx.request.wrote(),
                    }
                };
                TaskSnapshot {
                    task,
                    request: Some(ctx.request.clone()),
                }
            })
            .unwrap_or(TaskSnapshot {
                task: TaskState::Unscoped,
                request: None,
            })
    }

    impl TaskSnapshot {
        /// The task's routing state.
        pub fn task(&self) -> TaskState {
            self.task
        }

        /// The current request if a real scope is open (not the context
        /// `use_master` opens when none is): where read-your-writes facts go.
        pub fn scope(&self) -> Option<&RequestContext> {
            self.request.as_ref().filter(|r| !r.facts.implicit)
        }

        /// Record that a statement that may write ran in this task's
        /// request: later reads in it go to the primary. Returns `false`
        /// outside any scope (and in the context `use_master` opens when no
        /// scope is open), where the caller must remember the write itself.
        pub fn note_write(&self) -> bool {
            match &self.request {
                Some(request) => {
                    request.facts.wrote.store(true, Ordering::Release);
                    !request.facts.implicit
                }
                None => false,
            }
        }

        /// A connection with causal reads on routes a statement of the
        /// scope (see [`RequestContext::causal`]).
        pub fn note_causal(&self) {
            if let Some(request) = self.scope()
                && !request.facts.causal_connection.load(Ordering::Relaxed)
            {
                request
                    .facts
                    .causal_connection
                    .store(true, Ordering::Relaxed);
            }
        }

        /// The replica the scope read from last (monotonic reads).
        pub fn sticky(&self) -> Option<usize> {
            let index = self.scope()?.facts.sticky.load(Ordering::Relaxed);
            (index != usize::MAX).then_some(index)
        }

        /// Remember the replica a read of the scope was served by.
        pub fn set_sticky(&self, replica: usize) {
            if let Some(request) = self.scope()
                && request.facts.sticky.load(Ordering::Relaxed) != replica
            {
                request.facts.sticky.store(replica, Ordering::Relaxed);
            }
        }
    }

    /// Whether `request` was opened with a position its reads must see
    /// (no lock).
    pub fn comes_after(request: &RequestContext) -> bool {
        request.facts.comes_after
    }

    /// Run `f` on `request`'s causal facts (one lock).
    pub fn with_causal<R>(request: &RequestContext, f: impl FnOnce(&mut CausalState) -> R) -> R {
        request.with_causal(f)
    }

    /// The current task's routing state (see [`snapshot`]).
    pub fn task_state() -> TaskState {
        snapshot().task()
    }

    /// Record a write in the current task's request, as the connection
    /// does (see [`TaskSnapshot::note_write`]); for the adapters' tests.
    pub fn note_write() -> bool {
        snapshot().note_write()
    }

    /// The current request if a real scope is open (see
    /// [`TaskSnapshot::scope`]).
    pub fn scope_request() -> Option<RequestContext> {
        snapshot().scope().cloned()
    }
}
