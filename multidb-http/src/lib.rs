//! The framework-neutral HTTP side of multidb: read-your-writes across
//! requests, the counterpart of django-multidb-router's
//! `PinningRouterMiddleware`. The tower/axum layer (`multidb-tower`) and the
//! actix-web middleware (`multidb-actix`) are thin adapters over this crate:
//! the same [`PinningConfig`], the same pin, the same decisions. Applications
//! reach both through `multidb_seaorm` (features `tower` and `actix`).
//!
//! After a client writes, its next requests read from the primary for a
//! while (15 s by default), until the replicas have caught up: the user who
//! just posted is redirected to their post, and sees it.
//!
//! ```
//! use std::time::Duration;
//! use multidb_http::{ConfigError, PinningConfig};
//!
//! let config = PinningConfig::default()
//!     .cookie_name("__Host-multidb_pin_writes")
//!     .signing_key(b"a random key of at least 32 bytes!")
//!     .pin_for(Duration::from_secs(5));
//! assert_eq!(config.validate(), Ok(()));
//!
//! let bad = PinningConfig::default().signing_key(b"short");
//! assert_eq!(bad.validate(), Err(ConfigError::SigningKeyTooShort { index: 0, len: 5 }));
//! ```
//!
//! The rules below hold for every framework; the adapters' crate docs add
//! only what differs: how the middleware is added, in which order, and
//! what the framework does with the response body.
//!
#![doc = include_str!("../docs/pinning.md")]

mod adapter;
mod config;
mod cookie;
mod error;
mod metrics;
mod pin;
mod token;

pub use config::{
    DEFAULT_COOKIE_NAME, DEFAULT_PIN_DURATION, MAX_PIN_DURATION, MIN_SIGNING_KEY_LEN,
    PinningConfig, SameSite,
};
pub use error::ConfigError;
pub use pin::DbWrite;

/// What the framework middleware crates build on (see `adapter.rs`); not
/// part of the API, and not covered by semver.
#[doc(hidden)]
pub mod __private {
    pub use crate::adapter::*;
}
