//! [`ScopedBody`]: the response body, polled in the request's context.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use multidb_core::context::{RequestContext, this_task_is_pinned};
use pin_project_lite::pin_project;

pin_project! {
    /// Response body of [`PinningService`](crate::PinningService): the inner
    /// service's body, each [`poll_next`](MessageBody::poll_next) run in the
    /// request's routing context
    /// ([what that means](multidb_http#streaming-bodies-and-upgrades)).
    #[derive(Debug)]
    pub struct ScopedBody<B> {
        #[pin]
        inner: B,
        request: RequestContext,
        pinned: bool,
    }
}

impl<B> ScopedBody<B> {
    pub(crate) fn new(inner: B, request: RequestContext, pinned: bool) -> Self {
        ScopedBody {
            inner,
            request,
            pinned,
        }
    }

    /// The inner body, unwrapped (it is then polled outside the context).
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B: MessageBody> MessageBody for ScopedBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        let inner = this.inner;
        let (chunk, pinned) = this.request.sync_scope(*this.pinned, || {
            (inner.poll_next(cx), this_task_is_pinned())
        });
        *this.pinned = pinned;
        chunk
    }

    /// A body already in memory needs no context: actix-web's fast path.
    fn try_into_bytes(self) -> Result<Bytes, Self> {
        let ScopedBody {
            inner,
            request,
            pinned,
        } = self;
        inner.try_into_bytes().map_err(|inner| ScopedBody {
            inner,
            request,
            pinned,
        })
    }
}
