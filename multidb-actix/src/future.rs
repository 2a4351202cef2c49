//! [`ResponseFuture`]: runs the inner future in the request's context; when
//! the response is ready, pins the client if the request earned it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use actix_web::dev::ServiceResponse;
use actix_web::error::InternalError;
use actix_web::http::header::{CACHE_CONTROL, HeaderMap, HeaderValue, SET_COOKIE};
use actix_web::{Error, HttpResponse};
use multidb_core::context::Scoped;
use multidb_http::__private::{CACHE_CONTROL_PRIVATE, IssuedPin, RequestState, WithFinalPin};
use multidb_http::DbWrite;
use pin_project_lite::pin_project;

use crate::body::ScopedBody;
use crate::middleware::Shared;

pin_project! {
    /// Response future of [`PinningService`](crate::PinningService): the
    /// inner future, run in the request's routing context; when it
    /// completes with a response, pins the client if the request earned
    /// it, and wraps the body in a [`ScopedBody`]. Dropped before that, it
    /// logs a warning if the request may have written.
    pub struct ResponseFuture<F: Future> {
        #[pin]
        inner: Scoped<WithFinalPin<F>>,
        state: RequestState,
        shared: Arc<Shared>,
    }
}

impl<F: Future> ResponseFuture<F> {
    pub(crate) fn new(
        inner: Scoped<WithFinalPin<F>>,
        state: RequestState,
        shared: Arc<Shared>,
    ) -> Self {
        ResponseFuture {
            inner,
            state,
            shared,
        }
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
        let (output, pinned) = ready!(this.inner.poll(cx));
        let state = this.state;
        let request = state.request().clone();
        match output {
            Ok(Ok(response)) => {
                let mut response =
                    response.map_body(|_, body| ScopedBody::new(body, request, pinned));
                let marked = response.response().extensions().get::<DbWrite>().is_some();
                if let Some(pin) = state.respond(response.status().as_u16(), marked, None) {
                    pin_client(this.shared, response.headers_mut(), pin);
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
                        pin_client(this.shared, response.headers_mut(), pin);
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
                    pin_client(this.shared, response.headers_mut(), pin);
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

/// Append the pin cookie (and the pin header, if configured); mark the
/// response `Cache-Control: private` unless it has a `Cache-Control`.
fn pin_client(shared: &Shared, headers: &mut HeaderMap, pin: IssuedPin) {
    // Built from validated parts, so these cannot fail; if they ever did,
    // the response goes out unpinned rather than failing.
    if let Some(name) = &shared.header_name
        && let Ok(value) = HeaderValue::from_str(pin.token())
    {
        headers.append(name.clone(), value);
    }
    match HeaderValue::try_from(pin.into_set_cookie()) {
        Ok(value) => headers.append(SET_COOKIE, value),
        Err(_) => tracing::warn!(target: "multidb::http", "could not build the pin cookie"),
    }
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL_PRIVATE),
        );
    }
}
