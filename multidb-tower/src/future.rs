//! [`ResponseFuture`]: runs the inner future in the request's context; when
//! the response is ready, pins the client if the request earned it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use multidb_core::context::Scoped;
use multidb_http::__private::{
    HeaderWrite, IssuedPin, PinHeader, RequestState, TARGET, WithFinalPin,
};
use multidb_http::DbWrite;
use pin_project_lite::pin_project;

use crate::body::ScopedBody;

pin_project! {
    /// Response future of [`Pinning`](crate::Pinning): the inner future, run
    /// in the request's routing context; when it completes with a response,
    /// pins the client if the request earned it, and wraps the body in a
    /// [`ScopedBody`]. Dropped before that, it logs a warning if the request
    /// may have written (see the [crate docs](crate#layer-order)).
    pub struct ResponseFuture<F: Future> {
        #[pin]
        inner: Scoped<WithFinalPin<F>>,
        state: RequestState,
    }
}

impl<F: Future> ResponseFuture<F> {
    pub(crate) fn new(inner: Scoped<WithFinalPin<F>>, state: RequestState) -> Self {
        ResponseFuture { inner, state }
    }
}

impl<F: Future> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ScopedBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (output, pinned) = ready!(this.inner.poll(cx));
        let state = this.state;
        let request = state.request().clone();
        let (mut response, panic) = match output {
            Ok(Ok(response)) => (
                response.map(|body| ScopedBody::new(body, request, pinned)),
                None,
            ),
            Ok(Err(error)) => {
                state.failed();
                return Poll::Ready(Err(error));
            }
            Err(panic) => {
                let mut response = Response::new(ScopedBody::empty(request, pinned));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                (response, Some(panic))
            }
        };
        let marked = response.extensions().get::<DbWrite>().is_some();
        if let Some(pin) = state.respond(response.status().as_u16(), marked, panic.as_ref()) {
            pin_client(response.headers_mut(), pin);
        }
        Poll::Ready(Ok(response))
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
            HeaderWrite::Append => {
                headers.append(name, value);
            }
            HeaderWrite::IfAbsent if !headers.contains_key(&name) => {
                headers.insert(name, value);
            }
            HeaderWrite::IfAbsent => {}
        }
    }
}
