//! Read replicas and read-your-writes for [Loco](https://loco.rs) apps, with
//! [`multidb_seaorm`]: reads go to replicas, writes to the primary, and a
//! user never reads around their own write.
//!
//! Three hooks in `src/app.rs`, one block of YAML, and `&db` instead of
//! `&ctx.db` in the handlers that read:
//!
//! ```yaml
//! # config/development.yaml (Loco's `<%= get_env(...) %>` works in each value)
//! initializers:
//!   multidb:
//!     replicas: <%= get_env(name="DATABASE_REPLICA_URLS", default="") %>
//!     max_replica_lag_ms: 2000
//!     pinning:
//!       signing_key: <%= get_env(name="MULTIDB_PIN_KEY", default="") %>
//! ```
//!
//! ```ignore
//! // src/app.rs, in `impl Hooks for App`
//! async fn initializers(_ctx: &AppContext) -> Result<Vec<Box<dyn Initializer>>> {
//!     Ok(vec![multidb_loco::initializer()])
//! }
//! fn middlewares(ctx: &AppContext) -> Vec<Box<dyn MiddlewareLayer>> {
//!     multidb_loco::middlewares(ctx) // Loco's default stack, with the pinning layer in place
//! }
//!
//! // A handler: reads through the router.
//! async fn list(State(ctx): State<AppContext>) -> Result<Response> {
//!     let db = multidb_loco::db(&ctx)?;
//!     format::json(Entity::find().all(&db).await?)
//! }
//! ```
//!
//! A handler that takes [`RoutedDb`] or [`auth::JWTWithUser`] and no
//! `State<AppContext>` needs `#[debug_handler(state = AppContext)]`: axum's
//! macro cannot guess the state otherwise.
//!
//! What each piece does:
//! - [`initializer`] reads and checks `initializers.multidb` at start (a
//!   bad setting stops the app with a message naming it) and builds the
//!   [`MultiDb`] once per process, however often Loco builds its context;
//! - [`db`] (or the [`RoutedDb`] extractor) reaches it from a handler, a
//!   worker or a task; its errors are Loco's;
//! - [`middlewares`] / [`PinningMiddleware`] put multidb's pinning layer in
//!   Loco's stack, inside the logger and outside the timeout and
//!   catch-panic layers; it also captures the primary's position after a
//!   POST, PUT, PATCH or DELETE, so writes made through `ctx.db` still pin
//!   the client by position;
//! - [`auth::JWTWithUser`] and [`paginate`] are the routed versions of
//!   Loco's, which take a `DatabaseConnection`;
//! - [`jobs::Causal`] carries a request's write position into a background
//!   job (in-process or queued), and [`jobs::CausalWorker`] runs the
//!   worker, unchanged, under [`scope_after`](multidb_seaorm::scope_after)
//!   it;
//! - [`testing`] (feature `testing`) runs Loco's request tests with the pin
//!   cookie kept.

pub mod auth;
pub mod jobs;
mod middleware;
mod paginate;
mod registry;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;

use async_trait::async_trait;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use loco_rs::app::{AppContext, Initializer};
pub use multidb_seaorm::{self, MultiDb};

pub use jobs::{Causal, CausalWorker};
pub use middleware::{PinningMiddleware, middlewares};
pub use paginate::paginate;
pub use settings::Settings;

/// The initializer to return from `Hooks::initializers`: reads
/// `initializers.multidb`, builds the [`MultiDb`] (once per process) and
/// puts it in the context's shared store, where [`db`] finds it.
pub fn initializer() -> Box<dyn Initializer> {
    Box::new(MultiDbInitializer)
}

/// See [`initializer`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MultiDbInitializer;

#[async_trait]
impl Initializer for MultiDbInitializer {
    fn name(&self) -> String {
        "multidb".to_owned()
    }

    async fn before_run(&self, ctx: &AppContext) -> loco_rs::Result<()> {
        connect(ctx).await.map(drop)
    }
}

/// Build the [`MultiDb`] for `ctx` (or take the one this process already
/// built for the same configuration) and put it in `ctx`'s shared store;
/// what the [`initializer`] does, for tasks and tools that run without
/// Loco's initializers. Without an `initializers.multidb` block the
/// `MultiDb` is `ctx.db` alone (every statement on the primary).
///
/// # Errors
/// A bad `initializers.multidb` block, or a primary that cannot be reached.
pub async fn connect(ctx: &AppContext) -> loco_rs::Result<MultiDb> {
    if let Some(db) = ctx.shared_store.get::<MultiDb>() {
        return Ok(db);
    }
    let db = match Settings::from_config(&ctx.config)? {
        Some(settings) => registry::get_or_build(ctx, &settings).await?,
        None => {
            tracing::warn!(
                target: "multidb::loco",
                "no `initializers.multidb` block in the config: every statement goes to the primary"
            );
            MultiDb::new(ctx.db.clone(), vec![]).map_err(loco_rs::Error::wrap)?
        }
    };
    ctx.shared_store.insert(db.clone());
    Ok(db)
}

/// The routed connection, in one line from anything that has the
/// `AppContext`: `let db = multidb_loco::db(&ctx)?;` then `&db` wherever
/// SeaORM took `&ctx.db`. Cheap (a clone of a handle).
///
/// # Errors
/// The [`initializer`] did not run (it is not in `Hooks::initializers`,
/// or this is a task: call [`connect`] first).
pub fn db(ctx: &AppContext) -> loco_rs::Result<MultiDb> {
    ctx.shared_store.get::<MultiDb>().ok_or_else(|| {
        loco_rs::Error::Message(
            "multidb: no MultiDb in the context: return `multidb_loco::initializer()` from \
             `Hooks::initializers` (or call `multidb_loco::connect(&ctx).await` in a task)"
                .to_owned(),
        )
    })
}

/// The routed connection as an extractor: `RoutedDb(db): RoutedDb` in a
/// handler's arguments.
#[derive(Debug, Clone)]
pub struct RoutedDb(pub MultiDb);

impl<S> FromRequestParts<S> for RoutedDb
where
    AppContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = loco_rs::Error;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> loco_rs::Result<Self> {
        db(&AppContext::from_ref(state)).map(RoutedDb)
    }
}

/// Turns multidb's own errors (building a `MultiDb`, changing its
/// replicas) into Loco's, for `?` where an orphan rule forbids a `From`:
/// `db.add_replica(conn).await.loco()?`. SeaORM's errors through
/// [`MultiDb`] are `DbErr`, which Loco's `?` already takes.
pub trait IntoLoco<T> {
    /// The same result with Loco's error.
    ///
    /// # Errors
    /// The error it had, wrapped.
    fn loco(self) -> loco_rs::Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> IntoLoco<T> for Result<T, E> {
    fn loco(self) -> loco_rs::Result<T> {
        self.map_err(loco_rs::Error::wrap)
    }
}
