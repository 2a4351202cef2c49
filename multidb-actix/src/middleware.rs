//! [`PinningMiddleware`]: the configuration, compiled once, shared by every
//! worker's service.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::HeaderName;
use multidb_http::__private::Settings;
use multidb_http::{ConfigError, PinningConfig};

use crate::body::ScopedBody;
use crate::service::PinningService;

/// actix-web middleware (`App::wrap`) that runs each request in its own
/// routing context and pins the client to the primary after it wrote. See
/// the [crate docs](crate).
#[derive(Clone, Debug)]
pub struct PinningMiddleware {
    shared: Arc<Shared>,
}

/// What every request reads: the settings, and the pin header's name as
/// actix-web's own header type (actix-web 4 uses `http` 0.2).
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: Arc<Settings>,
    pub(crate) header_name: Option<HeaderName>,
}

impl PinningMiddleware {
    /// The middleware for `config`, or why `config` is invalid: checked
    /// here, once, never while serving. [`PinningMiddleware::default()`] is
    /// the middleware of [`PinningConfig::default()`], which is always valid.
    ///
    /// ```
    /// use multidb_actix::{ConfigError, PinningConfig, PinningMiddleware};
    ///
    /// let pinning = PinningMiddleware::new(PinningConfig::default().header_name("x-multidb-pin"))?;
    /// assert!(PinningMiddleware::new(PinningConfig::default().cookie_name("a b")).is_err());
    /// let app = actix_web::App::new().wrap(pinning);
    /// # let _ = app;
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn new(config: PinningConfig) -> Result<Self, ConfigError> {
        let settings = multidb_http::__private::compile(&config)?;
        let header_name =
            match settings.header_name() {
                None => None,
                // Validated as an http 1 header name: the same grammar.
                Some(name) => Some(HeaderName::from_bytes(name.as_str().as_bytes()).map_err(
                    |_| ConfigError::InvalidHeaderName {
                        name: name.as_str().to_owned(),
                    },
                )?),
            };
        Ok(PinningMiddleware {
            shared: Arc::new(Shared {
                settings: Arc::new(settings),
                header_name,
            }),
        })
    }
}

impl Default for PinningMiddleware {
    /// The middleware of [`PinningConfig::default()`].
    fn default() -> Self {
        match PinningMiddleware::new(PinningConfig::default()) {
            Ok(middleware) => middleware,
            // The defaults are valid (a unit test checks it).
            Err(error) => unreachable!("the default PinningConfig is invalid: {error}"),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for PinningMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<ScopedBody<B>>;
    type Error = Error;
    type Transform = PinningService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(PinningService::new(service, Arc::clone(&self.shared))))
    }
}
