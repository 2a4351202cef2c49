//! [`PinningLayer`]: the configuration, compiled once, shared by every
//! service it makes.

use std::sync::Arc;

use multidb_http::__private::{Settings, compile};
use multidb_http::{ConfigError, PinningConfig};
use tower_layer::Layer;

use crate::service::Pinning;

/// [`Layer`] that runs each request in its own routing context and pins the
/// client to the primary after it wrote. See the [crate docs](crate).
#[derive(Clone, Debug)]
pub struct PinningLayer {
    settings: Arc<Settings>,
}

impl PinningLayer {
    /// The layer for `config`, or why `config` is invalid: checked here,
    /// once, never while serving. [`PinningLayer::default()`] is the layer
    /// of [`PinningConfig::default()`], which is always valid.
    ///
    /// ```
    /// use multidb_tower::{ConfigError, PinningConfig, PinningLayer};
    ///
    /// let layer = PinningLayer::new(PinningConfig::default().cookie_name("__Host-pin"))?;
    /// assert!(PinningLayer::new(PinningConfig::default().cookie_name("a b")).is_err());
    /// # let _ = layer;
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn new(config: PinningConfig) -> Result<Self, ConfigError> {
        Ok(PinningLayer {
            settings: Arc::new(compile(&config)?),
        })
    }
}

impl Default for PinningLayer {
    /// The layer of [`PinningConfig::default()`].
    fn default() -> Self {
        let settings = match compile(&PinningConfig::default()) {
            Ok(settings) => settings,
            // The defaults are valid (a unit test checks it).
            Err(error) => unreachable!("the default PinningConfig is invalid: {error}"),
        };
        PinningLayer {
            settings: Arc::new(settings),
        }
    }
}

impl<S> Layer<S> for PinningLayer {
    type Service = Pinning<S>;

    fn layer(&self, inner: S) -> Pinning<S> {
        Pinning::new(inner, Arc::clone(&self.settings))
    }
}
