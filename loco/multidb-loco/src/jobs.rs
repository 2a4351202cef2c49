//! Background jobs that read what the request that enqueued them wrote.
//!
//! Loco runs a job in a task of its own (`BackgroundAsync`) or in another
//! process (`BackgroundQueue`), without the request's routing context: a
//! job enqueued right after a write may read a replica that has not
//! replayed it yet. [`Causal`] wraps the job's arguments with the
//! position the request's writes reached, and [`CausalWorker`] runs your
//! worker, unchanged, under [`scope_after`] it: on replicas that have
//! reached it, else the primary.
//!
//! ```ignore
//! // src/app.rs: register the worker through the wrapper (same class name).
//! async fn connect_workers(ctx: &AppContext, queue: &Queue) -> Result<()> {
//!     queue.register(CausalWorker::<report::Worker>::build(ctx)).await?;
//!     Ok(())
//! }
//!
//! // The handler that wrote (through `ctx.db` or the MultiDb):
//! let job = Causal::capture(&ctx, report::WorkerArgs { post_id: item.id }).await?;
//! CausalWorker::<report::Worker>::perform_later(&ctx, job).await?;
//! ```
//!
//! The worker's `perform` then reads, through
//! [`db`](crate::db), what the handler wrote. A payload enqueued without
//! the wrapper (`report::Worker::perform_later(&ctx, args)`) still runs,
//! with nothing to wait for. Code that runs a job by hand uses
//! [`Causal::run`].

use std::future::Future;

use async_trait::async_trait;
use loco_rs::app::AppContext;
use loco_rs::bgworker::BackgroundWorker;
use multidb_seaorm::{WritePosition, pin_this_task, scope, scope_after};
use serde::{Deserialize, Serialize};

const TARGET: &str = "multidb::loco";

/// A job's arguments and the write they must see (see the [module](self)).
/// Serialized as `{"args": …, "after": "v1.…"}`; `after` is absent when the
/// enqueuing code wrote nothing. Bare arguments (a payload enqueued without
/// the wrapper) read as a `Causal` with nothing to wait for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Wire<A>", bound(deserialize = "A: Deserialize<'de>"))]
pub struct Causal<A> {
    /// The job's own arguments.
    pub args: A,
    /// The primary's position after the enqueuing request's writes
    /// ([`WritePosition`]'s text form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The enqueuing code wrote, but no position could be had (SQLite,
    /// causal reads off): the job reads the primary.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wrote: bool,
}

impl<A> Causal<A> {
    /// `args` with no write to wait for.
    pub fn new(args: A) -> Self {
        Causal {
            args,
            after: None,
            wrote: false,
        }
    }

    /// `args` with the primary's position now, which covers every write
    /// committed before, through the [`MultiDb`](crate::MultiDb) or
    /// through `ctx.db` (one round trip to the primary). Call it in the
    /// request (or task) that wrote, after its writes; the request then
    /// counts as having written (its later reads see its writes, and the
    /// client is pinned).
    ///
    /// # Errors
    /// No `MultiDb` in the context (see [`db`](crate::db)), or the
    /// primary's position could not be read.
    pub async fn capture(ctx: &AppContext, args: A) -> loco_rs::Result<Self> {
        let db = crate::db(ctx)?;
        db.wrote_elsewhere();
        let after = db.write_position().await?.map(|p| p.to_string());
        let wrote = after.is_none();
        Ok(Causal { args, after, wrote })
    }

    /// Run the job's body with its arguments in a routing scope whose reads
    /// see the enqueuing write: [`scope_after`] its position, or the primary
    /// when it wrote without one or carries a position this `MultiDb` cannot
    /// read (another cluster, a malformed text: logged).
    ///
    /// # Errors
    /// `body`'s.
    pub async fn run<F, Fut, T>(self, ctx: &AppContext, body: F) -> loco_rs::Result<T>
    where
        F: FnOnce(A) -> Fut,
        Fut: Future<Output = loco_rs::Result<T>>,
    {
        let Causal { args, after, wrote } = self;
        let position = match after.as_deref().map(str::parse::<WritePosition>) {
            None => None,
            Some(Ok(position)) => match crate::db(ctx)?.check_position(&position) {
                Ok(()) => Some(position),
                Err(error) => {
                    tracing::warn!(target: TARGET, %error, "job position refused: reading the primary");
                    return scope(pinned(body(args))).await;
                }
            },
            Some(Err(error)) => {
                tracing::warn!(target: TARGET, %error, "malformed job position: reading the primary");
                return scope(pinned(body(args))).await;
            }
        };
        match position {
            Some(position) => scope_after(position, body(args)).await,
            None if wrote => scope(pinned(body(args))).await,
            None => scope(body(args)).await,
        }
    }
}

/// What a queue may hold: a [`Causal`], or bare arguments.
#[derive(Deserialize)]
#[serde(untagged)]
enum Wire<A> {
    Causal {
        args: A,
        #[serde(default)]
        after: Option<String>,
        #[serde(default)]
        wrote: bool,
    },
    Bare(A),
}

impl<A> From<Wire<A>> for Causal<A> {
    fn from(wire: Wire<A>) -> Self {
        match wire {
            Wire::Causal { args, after, wrote } => Causal { args, after, wrote },
            Wire::Bare(args) => Causal::new(args),
        }
    }
}

/// Your worker `W`, unchanged, taking [`Causal`] arguments: its `perform`
/// runs under [`scope_after`] the enqueuing write's position (see
/// [`Causal::run`]). Same class name, queue and tags as `W`, so it
/// registers and enqueues in `W`'s place.
pub struct CausalWorker<W> {
    worker: W,
    ctx: AppContext,
}

impl<W> std::fmt::Debug for CausalWorker<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CausalWorker")
            .field("worker", &std::any::type_name::<W>())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<W, A> BackgroundWorker<Causal<A>> for CausalWorker<W>
where
    W: BackgroundWorker<A>,
    A: Send + Sync + Serialize + 'static,
{
    fn queue() -> Option<String> {
        W::queue()
    }

    fn tags() -> Vec<String> {
        W::tags()
    }

    fn build(ctx: &AppContext) -> Self {
        CausalWorker {
            worker: W::build(ctx),
            ctx: ctx.clone(),
        }
    }

    fn class_name() -> String {
        W::class_name()
    }

    async fn perform(&self, job: Causal<A>) -> loco_rs::Result<()> {
        job.run(&self.ctx, |args| self.worker.perform(args)).await
    }
}

async fn pinned<F: Future>(future: F) -> F::Output {
    pin_this_task();
    future.await
}
