//! Pin a client's reads to the primary after it wrote: the counterpart of
//! django-multidb-router's `PinningRouterMiddleware`.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{header, Request, Response};
//! use multidb_core::context::this_task_is_pinned;
//! use multidb_tower::pinning::{PinningConfig, PinningLayer};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = PinningLayer::try_new(
//!     PinningConfig::default().signing_key(b"a random key of at least 32 bytes!"),
//! )?;
//! let app = ServiceBuilder::new().layer(layer).service(service_fn(|_req: Request<String>| async {
//!     Ok::<_, Infallible>(Response::new(format!("pinned: {}", this_task_is_pinned())))
//! }));
//!
//! // A POST writes: the whole request runs on the primary, and the client
//! // gets a pin.
//! let response = app.clone().oneshot(Request::post("/posts").body(String::new())?).await?;
//! let set_cookie = response.headers()[header::SET_COOKIE].to_str()?.to_owned();
//! assert!(set_cookie.starts_with("multidb_pin_writes="));
//! assert!(set_cookie.contains("; Max-Age=15; Expires="));
//! assert!(set_cookie.ends_with("; Path=/; SameSite=Lax; HttpOnly; Secure"));
//!
//! // The browser sends it back: the next GET reads from the primary too.
//! let pin = set_cookie.split(';').next().unwrap_or_default();
//! let request = Request::get("/posts/1").header(header::COOKIE, pin).body(String::new())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.into_body().into_inner(), "pinned: true");
//! # Ok(())
//! # }
//! ```
//!
//! See the [crate documentation](crate) for what pins a request and a client.

mod config;
mod cookie;
mod token;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{HeaderValue, Method, Request, Response, header::SET_COOKIE};
use http_body::{Body, Frame, SizeHint};
use multidb_core::context::{RequestContext, Scoped, this_task_is_pinned};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use config::Settings;
pub use config::{
    ConfigError, DEFAULT_COOKIE_NAME, DEFAULT_PIN_DURATION, MAX_PIN_DURATION, MIN_SIGNING_KEY_LEN,
    PinningConfig, SameSite,
};

/// Mark a response as coming from a request that wrote, so that the client
/// is pinned — django's `response._db_write = True`. For the cases where the
/// handler cannot use `#[db_write]` or
/// [`mark_db_write`](multidb_core::context::mark_db_write), e.g. in another
/// layer.
///
/// ```
/// use http::Response;
/// use multidb_tower::DbWrite;
///
/// let mut response = Response::new(());
/// response.extensions_mut().insert(DbWrite);
/// ```
///
/// With axum, return it as a response part: `(axum::Extension(DbWrite), body)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DbWrite;

/// Why a request runs pinned to the primary.
#[derive(Clone, Copy, Debug)]
enum PinnedBy {
    /// Not a read method.
    Method,
    /// A valid pin cookie.
    Cookie,
    /// A valid pin header.
    Header,
}

impl PinnedBy {
    fn as_str(self) -> &'static str {
        match self {
            PinnedBy::Method => "method",
            PinnedBy::Cookie => "cookie",
            PinnedBy::Header => "header",
        }
    }
}

/// Whether a method only reads: GET, HEAD, OPTIONS and TRACE. Every other
/// method, extension methods included, may write.
fn is_read_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// [`Layer`] that runs each request in its own routing context and pins the
/// client to the primary after it wrote. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct PinningLayer {
    settings: Arc<Settings>,
}

impl PinningLayer {
    /// The layer for `config`.
    ///
    /// # Panics
    ///
    /// If `config` is invalid (see [`PinningConfig::validate`]), with the
    /// [`ConfigError`]'s message. That happens once, when the application
    /// starts, never while serving; use [`PinningLayer::try_new`] to handle
    /// the error instead, e.g. when the configuration comes from the
    /// environment. [`PinningConfig::default()`] is always valid.
    pub fn new(config: PinningConfig) -> Self {
        match Self::try_new(config) {
            Ok(layer) => layer,
            Err(error) => panic!("invalid multidb PinningConfig: {error}"),
        }
    }

    /// The layer for `config`, or why `config` is invalid.
    pub fn try_new(config: PinningConfig) -> Result<Self, ConfigError> {
        Ok(PinningLayer {
            settings: Arc::new(config.compile()?),
        })
    }
}

impl Default for PinningLayer {
    /// The layer with [`PinningConfig::default()`].
    fn default() -> Self {
        Self::new(PinningConfig::default())
    }
}

impl TryFrom<PinningConfig> for PinningLayer {
    type Error = ConfigError;

    fn try_from(config: PinningConfig) -> Result<Self, ConfigError> {
        Self::try_new(config)
    }
}

impl<S> Layer<S> for PinningLayer {
    type Service = Pinning<S>;

    fn layer(&self, inner: S) -> Pinning<S> {
        Pinning {
            inner,
            settings: Arc::clone(&self.settings),
        }
    }
}

/// The [`Service`] made by [`PinningLayer`]. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Pinning<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> Pinning<S> {
    /// Wrap `inner` with `config`.
    pub fn try_new(inner: S, config: PinningConfig) -> Result<Self, ConfigError> {
        Ok(PinningLayer::try_new(config)?.layer(inner))
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Pinning<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ScopedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let settings = Arc::clone(&self.settings);
        let exempt = settings.is_exempt(req.uri().path());
        let writes = !is_read_method(req.method());
        let pinned_by = if exempt {
            None
        } else if writes {
            Some(PinnedBy::Method)
        } else {
            settings
                .find_pin(req.headers(), token::now_secs())
                .map(|source| match source {
                    cookie::Source::Cookie => PinnedBy::Cookie,
                    cookie::Source::Header => PinnedBy::Header,
                })
        };
        tracing::debug!(
            method = %req.method(),
            path = req.uri().path(),
            exempt,
            pinned = pinned_by.is_some(),
            reason = pinned_by.map(PinnedBy::as_str),
            "multidb: request routing context",
        );

        let request = RequestContext::new();
        let pinned = pinned_by.is_some();
        let inner = &mut self.inner;
        let future = request.sync_scope(pinned, || inner.call(req));
        ResponseFuture {
            inner: request.scope(pinned, EndPin { inner: future }),
            request,
            settings,
            exempt,
            writes,
        }
    }
}

pin_project! {
    /// Response future of [`Pinning`]: the inner future, run in the request's
    /// routing context; when it completes with a response, pins the client
    /// if the request wrote, and wraps the body in a [`ScopedBody`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Scoped<EndPin<F>>,
        request: RequestContext,
        settings: Arc<Settings>,
        exempt: bool,
        writes: bool,
    }
}

/// Why a response pins the client.
#[derive(Clone, Copy, Debug)]
enum PinReason {
    /// Not a read method.
    Method,
    /// `#[db_write]` or `mark_db_write()`.
    DbWrite,
    /// The [`DbWrite`] response extension.
    Marked,
    /// A write statement ran (with `pin_on_any_write`).
    Wrote,
}

impl PinReason {
    fn as_str(self) -> &'static str {
        match self {
            PinReason::Method => "method",
            PinReason::DbWrite => "db_write",
            PinReason::Marked => "marked",
            PinReason::Wrote => "wrote",
        }
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ScopedBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (result, pinned) = ready!(this.inner.poll(cx));
        let request = this.request.clone();
        let mut response = result?.map(|inner| ScopedBody {
            inner,
            request,
            pinned,
        });
        if *this.exempt {
            return Poll::Ready(Ok(response));
        }
        let reason = if *this.writes {
            Some(PinReason::Method)
        } else if this.request.db_write_marked() {
            Some(PinReason::DbWrite)
        } else if response.extensions().get::<DbWrite>().is_some() {
            Some(PinReason::Marked)
        } else if this.settings.pin_on_any_write && this.request.wrote() {
            Some(PinReason::Wrote)
        } else {
            None
        };
        if let Some(reason) = reason {
            pin_client(this.settings, &mut response, reason);
        }
        Poll::Ready(Ok(response))
    }
}

pin_project! {
    /// The inner service's future, reporting with its output whether the
    /// task was pinned when it finished: the body goes on from there.
    struct EndPin<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for EndPin<F> {
    type Output = (F::Output, bool);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let output = ready!(self.project().inner.poll(cx));
        // Still inside the request's scope: the handler task's last pin.
        Poll::Ready((output, this_task_is_pinned()))
    }
}

pin_project! {
    /// Response body of [`Pinning`]: the inner service's body, polled in the
    /// request's routing context.
    ///
    /// hyper polls a response body after the handler has returned, outside
    /// the future the layer runs in. Each [`poll_frame`](Body::poll_frame)
    /// of this body runs inside the request's context instead: the same
    /// request as the handler (writes and marks are shared both ways), and
    /// the pin the handler's task ended with — pinned for a write method or
    /// a pinned client, and after a `pin_this_task()` in the handler. A pin
    /// changed while the body is produced lasts for the rest of the body. So
    /// a body that queries as it streams (an SSE feed, a CSV export) routes
    /// like its handler: see the [crate documentation](crate#streaming-bodies-and-upgrades)
    /// for what it cannot do (pin the client after the head is sent).
    ///
    /// [`is_end_stream`](Body::is_end_stream) and
    /// [`size_hint`](Body::size_hint) delegate to the inner body, outside
    /// the context.
    ///
    /// With axum, `Router::layer` converts it back into `axum::body::Body`.
    #[derive(Debug)]
    pub struct ScopedBody<B> {
        #[pin]
        inner: B,
        request: RequestContext,
        pinned: bool,
    }
}

impl<B> ScopedBody<B> {
    /// The inner body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// The inner body, mutably.
    pub fn get_mut(&mut self) -> &mut B {
        &mut self.inner
    }

    /// The inner body, pinned and mutably.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut B> {
        self.project().inner
    }

    /// The inner body, unwrapped (it is then polled outside the context).
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B: Body> Body for ScopedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let inner = this.inner;
        let (frame, pinned) = this.request.sync_scope(*this.pinned, || {
            (inner.poll_frame(cx), this_task_is_pinned())
        });
        *this.pinned = pinned;
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// 10000-01-01T00:00:00Z: the first time `httpdate` cannot format.
const LAST_HTTP_DATE: u64 = 253_402_300_800;

/// Append the pin cookie (and the pin header, if configured).
fn pin_client<B>(settings: &Settings, response: &mut Response<B>, reason: PinReason) {
    let now = token::now_secs();
    let (token, expiry) = settings.issue(now);
    let mut cookie = format!(
        "{}={token}; Max-Age={}",
        settings.cookie_name, settings.pin_secs
    );
    // `Max-Age` wins in every current browser; `Expires` is for old ones.
    // httpdate panics after year 9999: a clock that wrong gets no `Expires`.
    if expiry < LAST_HTTP_DATE {
        cookie.push_str("; Expires=");
        cookie.push_str(&httpdate::fmt_http_date(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(expiry),
        ));
    }
    cookie.push_str(&settings.attributes);
    // Both are built from validated parts, so these cannot fail; if they
    // ever did, the response goes out unpinned rather than failing.
    match HeaderValue::try_from(cookie) {
        Ok(value) => {
            response.headers_mut().append(SET_COOKIE, value);
        }
        Err(_) => tracing::warn!("multidb: could not build the pin cookie"),
    }
    if let Some(name) = &settings.header_name
        && let Ok(value) = HeaderValue::try_from(token)
    {
        response.headers_mut().append(name.clone(), value);
    }
    tracing::debug!(
        reason = reason.as_str(),
        status = response.status().as_u16(),
        pin_secs = settings.pin_secs,
        "multidb: pinning client to the primary",
    );
}
