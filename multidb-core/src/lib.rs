//! Routing and pinning logic of multidb, independent of any ORM.
//!
//! * [`classify`](mod@classify): is an SQL statement a plain read, or may it write?
//!   [`classify_for`] answers in one [`Dialect`]; [`Classifier`] adds the
//!   functions an application declares read-only.
//! * [`policy`]: which replica serves the next read.
//! * [`context`]: the per-task routing context (pins, read-after-write).
//! * [`route`]: the routing decision for one statement, with its reason.
//! * [`position`]: replication positions (PostgreSQL LSN, MariaDB/MySQL GTID).
//!
//! Applications use these through `multidb_seaorm`, which re-exports them.

pub mod classify;
pub mod context;
pub mod policy;
pub mod position;
pub mod route;

pub use classify::{Access, Classifier, Dialect, InvalidFunctionName, classify, classify_for};
