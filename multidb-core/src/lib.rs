//! Routing and pinning logic of multidb, independent of any ORM.
//!
//! * [`classify`]: is an SQL statement a plain read, or may it write?
//!   [`classify_for`] answers in one [`Dialect`]; [`Classifier`] adds the
//!   functions an application declares read-only.
//! * [`policy`]: which replica serves the next read.
//! * [`context`]: the per-task routing context (pins, read-after-write).
//! * [`position`]: replication positions (PostgreSQL LSN, MariaDB/MySQL GTID).
//! * [`Target`] and [`Reason`]: where a statement went, and why.
//!
//! Applications use these through `multidb_seaorm`, which re-exports them.
//!
#![doc = include_str!("../docs/classify.md")]

mod causal;
mod classify;
pub mod context;
pub mod policy;
pub mod position;
mod route;

pub use classify::{
    Access, Catalog, CatalogBuilder, Classifier, Dialect, InvalidFunctionName, Origin, Volatility,
    classify, classify_for,
};
pub use route::{Reason, Target};

/// Plumbing shared by the multidb crates (the connection and the HTTP
/// middleware); not part of the API, and not covered by semver.
#[doc(hidden)]
pub mod __private {
    pub use crate::causal::{CapturePosition, CausalState, MustSee, Positions, ReadNeed};
    /// The classifier without its fast path, for the fuzz target (built
    /// with `--cfg fuzzing`) to check that the fast path agrees with it.
    #[cfg(fuzzing)]
    pub use crate::classify::classify_full;
    pub use crate::context::plumbing::*;
    pub use crate::route::{
        Clock, Facts, Op, Refused, ReplicaFacts, ReplicaState, Route, decide, replica_state,
    };
}
