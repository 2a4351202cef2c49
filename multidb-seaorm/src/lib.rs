//! Read replicas and read-your-writes for SeaORM.
//!
//! [`MultiDb`] is a routed connection over one primary and N replicas: pass
//! `&MultiDb` wherever you passed `&DatabaseConnection`. Plain reads go to a
//! replica (round-robin by default); writes, transactions and anything that
//! cannot be proven a plain read go to the primary. After a task writes, its
//! reads go to the primary too, so users read their own writes.
//!
//! This crate is the one dependency applications need: it re-exports the
//! routing context ([`scope`], [`use_master`](fn@use_master), [`pin_this_task`] ...), the
//! attributes [`#[use_master]`](macro@use_master) and
//! [`#[db_write]`](macro@db_write), the classifier and the policies.

mod builder;
mod error;
mod failover;
mod health;
mod monitor;
mod multidb;
mod positions;
mod stats;

pub use builder::{
    DEFAULT_MONITOR_INTERVAL, DEFAULT_PRIMARY_TIMEOUT, DEFAULT_REPLICA_REST,
    DEFAULT_REPLICA_TIMEOUT, MultiDbBuilder,
};
pub use error::{MultiDbError, Role};
pub use health::{ReplicaHealth, ReplicaStatus};
pub use multidb::{DEFAULT_UNSCOPED_WRITE_WINDOW, MultiDb};
pub use stats::RoutingStats;

pub use multidb_core::context::{
    RequestContext, db_write, in_current_scope, mark_db_write, pin_this_task, scope, scope_after,
    this_task_is_pinned, unpin_this_task, use_master,
};
pub use multidb_core::position::{Position, WritePosition, WritePositionError};
pub use multidb_core::route::{Reason, Target};
pub use multidb_core::{Access, classify, policy};
pub use multidb_macros::{db_write, use_master};

/// The HTTP side (features `tower` and `actix`): middleware that runs each
/// request in its own routing context and pins a client to the primary
/// after it wrote. [`PinningConfig`] configures both frameworks' middleware
/// alike; see [`pinning`] for the rules.
#[cfg(any(feature = "tower", feature = "actix"))]
pub use multidb_http::{DbWrite, PinningConfig, SameSite};

/// The tower layer (axum `Router::layer`). See [`pinning`].
#[cfg(feature = "tower")]
pub use multidb_tower::PinningLayer;

/// The actix-web middleware (`App::wrap`). See [`pinning`].
#[cfg(feature = "actix")]
pub use multidb_actix::PinningMiddleware;

/// The HTTP side in full: what pins a request and a client, the pin, caches,
/// layer order (`multidb_http`'s documentation), and every type of the
/// middleware.
#[cfg(any(feature = "tower", feature = "actix"))]
pub mod pinning {
    #[doc(inline)]
    pub use multidb_http::*;

    /// The tower/axum layer's types.
    #[cfg(feature = "tower")]
    pub mod tower {
        #[doc(inline)]
        pub use multidb_tower::{Pinning, PinningLayer, ResponseFuture, ScopedBody};
    }

    /// The actix-web middleware's types.
    #[cfg(feature = "actix")]
    pub mod actix {
        #[doc(inline)]
        pub use multidb_actix::{PinningMiddleware, PinningService, ScopedBody};
    }
}

/// Plumbing for this workspace's own tests; not part of the API.
#[doc(hidden)]
pub mod __private {
    /// How failover classifies `error` from a replica: (what it means,
    /// how it was recognised), both as short names.
    pub fn failure_of(error: &sea_orm::DbErr) -> (String, String) {
        let (failure, evidence) = crate::failover::failure(error);
        (format!("{failure:?}"), format!("{evidence:?}"))
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "tower", feature = "actix"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
