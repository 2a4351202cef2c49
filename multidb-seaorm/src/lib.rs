//! Read replicas and read-your-writes for SeaORM.
//!
//! [`MultiDb`] is a routed connection over one primary and N replicas: pass
//! `&MultiDb` wherever you passed `&DatabaseConnection`. Plain reads go to a
//! replica (the less loaded of two by default); writes, transactions and anything that
//! cannot be proven a plain read go to the primary. After a task writes, its
//! reads go to the primary too, so users read their own writes.
//!
//! This crate is the one dependency applications need: it re-exports the
//! routing context ([`scope`], [`use_master`](fn@use_master), [`pin_this_task`] ...), the
//! attributes [`#[use_master]`](macro@use_master) and
//! [`#[db_write]`](macro@db_write), the classifier and the policies.
//!
//! # Features
//!
//! * `sqlx` (default): failover recognises driver errors by kind and
//!   SQLSTATE, not only by their English text.
//! * `tower`: [`PinningLayer`] for axum and tower; `actix`:
//!   [`PinningMiddleware`] for actix-web. Neither is on by default: CLI tools,
//!   batch jobs and workers need no HTTP framework (tower-http and SeaORM turn
//!   their integrations off by default too), and an application turns on the
//!   one it serves with.
//! * `sqlx-postgres`, `sqlx-mysql`, `sqlx-sqlite`: the primary's sqlx pool
//!   (`MultiDb::get_postgres_connection_pool`…), as `DatabaseConnection`
//!   offers it; they turn on SeaORM's feature of the same name.
//! * `metrics`: routing decisions, statement durations, failovers, replica
//!   lag and health, position captures (and with `tower` or `actix` the HTTP
//!   pins) recorded through the `metrics` crate facade, for any exporter:
//!   install the recorder before building the `MultiDb`, which registers
//!   its metrics then. Off, the recording compiles away. [`MultiDb::status_page`] needs no
//!   feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod builder;
mod catalog;
mod causal;
mod config;
mod connection;
#[cfg(feature = "dns")]
mod discovery;
mod elsewhere;
mod error;
mod failover;
mod fresh;
mod gone;
mod health;
mod inner;
mod membership;
mod metrics;
mod monitor;
mod multidb;
mod names;
mod positions;
mod read_path;
mod replica_set;
mod spare;
mod stats;
mod status;
mod traits;
mod watch;

pub use builder::MultiDbBuilder;
#[cfg(feature = "dns")]
pub use discovery::Discovery;
pub use error::{MultiDbError, Role};
pub use health::{ReplicaHealth, ReplicaStatus};
pub use multidb::MultiDb;
pub use replica_set::ReplicaId;
pub use stats::RoutingStats;
pub use status::STATUS_PAGE_REFRESH_SECS;

pub use multidb_core::context::{
    RequestContext, Scoped, db_write, in_current_scope, mark_db_write, pin_this_task, scope,
    scope_after, this_task_is_pinned, unpin_this_task, use_master,
};
pub use multidb_core::position::{Position, PositionParseError, WritePosition, WritePositionError};
pub use multidb_core::{
    Access, Classifier, Dialect, InvalidFunctionName, Reason, Target, classify, classify_for,
    policy,
};
pub use multidb_macros::{db_write, use_master};

/// The HTTP side (features `tower` and `actix`): middleware that runs each
/// request in its own routing context and pins a client to the primary
/// after it wrote. [`PinningConfig`] configures both frameworks' middleware
/// alike; see [`pinning`] for the rules.
#[cfg(any(feature = "tower", feature = "actix"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "tower", feature = "actix"))))]
pub use multidb_http::{ConfigError, DbWrite, PinningConfig, SameSite};

/// The tower layer (axum `Router::layer`) and the service it wraps
/// handlers in. See [`pinning`].
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use multidb_tower::{Pinning, PinningLayer};

/// The actix-web middleware (`App::wrap`). See [`pinning`].
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use multidb_actix::PinningMiddleware;

/// The HTTP side in full: what pins a request and a client, the pin, caches,
/// layer order (`multidb_http`'s documentation), and every type of the
/// middleware.
#[cfg(any(feature = "tower", feature = "actix"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "tower", feature = "actix"))))]
pub mod pinning {
    #[doc(inline)]
    pub use multidb_http::MIN_SIGNING_KEY_LEN;

    /// The tower/axum layer's future and body types (the layer and its
    /// service, [`PinningLayer`](crate::PinningLayer) and
    /// [`Pinning`](crate::Pinning), are at the crate root).
    #[cfg(feature = "tower")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
    pub mod tower {
        #[doc(inline)]
        pub use multidb_tower::{ResponseFuture, ScopedBody};
    }

    /// The actix-web middleware's service and body types (the middleware,
    /// [`PinningMiddleware`](crate::PinningMiddleware), is at the crate root).
    #[cfg(feature = "actix")]
    #[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
    pub mod actix {
        #[doc(inline)]
        pub use multidb_actix::{PinningService, ScopedBody};
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
#[cfg(all(doctest, feature = "tower", feature = "actix", feature = "metrics"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
