//! The middleware, shaped like actix-web's own (`Logger`, `Compress`): the
//! [`Transform`] that `App::wrap` takes, the [`Service`] it makes for each
//! worker, and the service's response future.
//!
//! The names are the other way round from actix-web's: there the
//! `Transform` is named after the feature (`Logger`) and the service
//! `…Middleware` (`LoggerMiddleware`); here the `Transform` is
//! [`PinningMiddleware`], the name applications wrap, and the service
//! [`PinningService`]. Both names are kept for the applications that use
//! them.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::error::InternalError;
use actix_web::http::header::{COOKIE, HeaderMap, HeaderName, HeaderValue};
use actix_web::{Error, HttpResponse};
use multidb_core::context::Scoped;
use multidb_http::__private::{
    HeaderWrite, IssuedPin, PinHeader, RequestState, Settings, TARGET, WithFinalPin, compile,
    now_secs,
};
use multidb_http::{ConfigError, DbWrite, PinningConfig};
use pin_project_lite::pin_project;

use crate::body::ScopedBody;

/// actix-web middleware (`App::wrap`) that runs each request in its own
/// routing context and pins the client to the primary after it wrote: the
/// [`Transform`], which makes a [`PinningService`] for each worker. See the
/// [crate docs](crate).
#[derive(Clone, Debug)]
pub struct PinningMiddleware {
    settings: Arc<Settings>,
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
        Ok(PinningMiddleware {
            settings: Arc::new(compile(&config)?),
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
        ready(Ok(PinningService {
            service,
            settings: Arc::clone(&self.settings),
        }))
    }
}

/// The service made by [`PinningMiddleware`]: decides at `call` how the
/// request is routed. See the [crate docs](crate).
#[derive(Debug)]
pub struct PinningService<S> {
    service: S,
    settings: Arc<Settings>,
}

impl<S, B> Service<ServiceRequest> for PinningService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<ScopedBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let settings = &self.settings;
        let headers = req.headers();
        let pin_headers = settings
            .header_name()
            .map(|name| headers.get_all(name.as_str()))
            .into_iter()
            .flatten()
            .map(HeaderValue::as_bytes);
        let incoming = settings.incoming(
            req.method().as_str(),
            // The path the router matches: percent-decoded (but for `%`,
            // `/` and `+`), so `/%68ealth` is exempt as `/health` is.
            req.match_info().as_str(),
            headers.get_all(COOKIE).map(HeaderValue::as_bytes),
            pin_headers,
            now_secs(),
        );
        let state = RequestState::new(Arc::clone(settings), incoming);
        // actix-web runs extractors and the handler when the future is
        // polled; a service may work in `call` too: both run in context.
        let future = state.sync_scope(|| self.service.call(req));
        ResponseFuture {
            inner: state.scope(future),
            state,
        }
    }
}

pin_project! {
    /// Response future of [`PinningService`]: the inner future, run in the
    /// request's routing context; when it completes with a response, pins
    /// the client if the request earned it, and wraps the body in a
    /// [`ScopedBody`]. Dropped before that, it logs a warning if the
    /// request may have written.
    pub struct ResponseFuture<F: Future> {
        #[pin]
        inner: Scoped<WithFinalPin<F>>,
        state: RequestState,
    }
}

impl<F: Future> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<F, B> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<ScopedBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (output, pinned) = std::task::ready!(this.inner.poll(cx));
        let state = this.state;
        let request = state.request().clone();
        match output {
            Ok(Ok(response)) => {
                let mut response =
                    response.map_body(|_, body| ScopedBody::new(body, request, pinned));
                let marked = response.response().extensions().get::<DbWrite>().is_some();
                if let Some(pin) = state.respond(response.status().as_u16(), marked, None) {
                    pin_client(response.headers_mut(), pin);
                }
                Poll::Ready(Ok(response))
            }
            // An inner middleware failed: actix-web makes the error's
            // response after every middleware, too late to pin, so the
            // response is made here, with the pin, and carried by the error.
            Ok(Err(error)) => {
                let mut response = error.error_response();
                let marked = response.extensions().get::<DbWrite>().is_some();
                match state.respond(response.status().as_u16(), marked, None) {
                    Some(pin) => {
                        pin_client(response.headers_mut(), pin);
                        Poll::Ready(Err(InternalError::from_response(error, response).into()))
                    }
                    None => Poll::Ready(Err(error)),
                }
            }
            // No `HttpRequest` is left to make a `ServiceResponse` (the
            // handler's was consumed): the 500 travels as an error's
            // response, which actix-web sends as it is.
            Err(panic) => {
                let mut response = HttpResponse::InternalServerError().finish();
                let status = response.status().as_u16();
                if let Some(pin) = state.respond(status, false, Some(&panic)) {
                    pin_client(response.headers_mut(), pin);
                }
                Poll::Ready(Err(InternalError::from_response(
                    "handler panicked",
                    response,
                )
                .into()))
            }
        }
    }
}

/// Write the pin's headers (see [`IssuedPin::headers`]).
fn pin_client(headers: &mut HeaderMap, pin: IssuedPin<'_>) {
    for PinHeader { name, value, write } in pin.headers() {
        // Built from validated parts: a failure would be a bug, and the
        // response then goes out unpinned rather than failing.
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::try_from(value))
        else {
            tracing::warn!(target: TARGET, "could not build a pin header");
            continue;
        };
        match write {
            HeaderWrite::Append => headers.append(name, value),
            HeaderWrite::IfAbsent if !headers.contains_key(&name) => {
                headers.insert(name, value);
            }
            HeaderWrite::IfAbsent => {}
        }
    }
}
