//! [`Pinning`]: the service; decides at `call` how the request is routed.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::COOKIE;
use http::{HeaderValue, Request, Response};
use multidb_http::__private::{RequestState, Settings, now_secs};
use tower_service::Service;

use crate::body::ScopedBody;
use crate::future::ResponseFuture;

/// The [`Service`] made by [`PinningLayer`](crate::PinningLayer). See the
/// [crate docs](crate).
#[derive(Clone, Debug)]
pub struct Pinning<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> Pinning<S> {
    pub(crate) fn new(inner: S, settings: Arc<Settings>) -> Self {
        Pinning { inner, settings }
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
        let headers = req.headers();
        let pin_headers = settings
            .header_name()
            .map(|name| headers.get_all(name).iter())
            .into_iter()
            .flatten()
            .map(HeaderValue::as_bytes);
        let incoming = settings.incoming(
            req.method().as_str(),
            req.uri().path(),
            headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes),
            pin_headers,
            now_secs(),
        );
        let state = RequestState::new(settings, incoming);
        let inner = &mut self.inner;
        // axum handlers run when the future is polled, but a service may
        // work in `call` too: both run in the request's context.
        let future = state.sync_scope(|| inner.call(req));
        ResponseFuture::new(state.scope(future), state)
    }
}
