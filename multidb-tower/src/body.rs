//! [`ScopedBody`]: the response body, polled in the request's context.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use multidb_core::context::{RequestContext, this_task_is_pinned};
use pin_project_lite::pin_project;

pin_project! {
    /// Response body of [`Pinning`](crate::Pinning): the inner service's
    /// body, each [`poll_frame`](Body::poll_frame) run in the request's
    /// routing context ([what that means](multidb_http#streaming-bodies-and-upgrades));
    /// empty for the 500 of a caught panic.
    /// [`is_end_stream`](Body::is_end_stream) and
    /// [`size_hint`](Body::size_hint) delegate to the inner body, outside
    /// the context.
    ///
    /// With axum, `Router::layer` converts it back into `axum::body::Body`.
    #[derive(Debug)]
    pub struct ScopedBody<B> {
        #[pin]
        inner: Inner<B>,
        request: RequestContext,
        pinned: bool,
    }
}

pin_project! {
    #[project = InnerProj]
    #[project_ref = InnerRef]
    #[derive(Debug)]
    enum Inner<B> {
        Body { #[pin] body: B },
        Empty,
    }
}

impl<B> ScopedBody<B> {
    pub(crate) fn new(body: B, request: RequestContext, pinned: bool) -> Self {
        ScopedBody {
            inner: Inner::Body { body },
            request,
            pinned,
        }
    }

    pub(crate) fn empty(request: RequestContext, pinned: bool) -> Self {
        ScopedBody {
            inner: Inner::Empty,
            request,
            pinned,
        }
    }

    /// The inner body (`None` for the 500 of a caught panic).
    pub fn get_ref(&self) -> Option<&B> {
        match &self.inner {
            Inner::Body { body } => Some(body),
            Inner::Empty => None,
        }
    }

    /// The inner body, unwrapped (it is then polled outside the context).
    pub fn into_inner(self) -> Option<B> {
        match self.inner {
            Inner::Body { body } => Some(body),
            Inner::Empty => None,
        }
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
        let InnerProj::Body { body } = this.inner.project() else {
            return Poll::Ready(None);
        };
        let (frame, pinned) = this.request.sync_scope(*this.pinned, || {
            (body.poll_frame(cx), this_task_is_pinned())
        });
        *this.pinned = pinned;
        frame
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Body { body } => body.is_end_stream(),
            Inner::Empty => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Body { body } => body.size_hint(),
            Inner::Empty => SizeHint::with_exact(0),
        }
    }
}
