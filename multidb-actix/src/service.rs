//! [`PinningService`]: the service; decides at `call` how the request is
//! routed.

use std::sync::Arc;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use actix_web::http::header::{COOKIE, HeaderValue};
use multidb_http::__private::{RequestState, now_secs};

use crate::body::ScopedBody;
use crate::future::ResponseFuture;
use crate::middleware::Shared;

/// The service made by [`PinningMiddleware`](crate::PinningMiddleware). See
/// the [crate docs](crate).
#[derive(Debug)]
pub struct PinningService<S> {
    service: S,
    shared: Arc<Shared>,
}

impl<S> PinningService<S> {
    pub(crate) fn new(service: S, shared: Arc<Shared>) -> Self {
        PinningService { service, shared }
    }
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
        let shared = &self.shared;
        let settings = &shared.settings;
        let headers = req.headers();
        let pin_headers = shared
            .header_name
            .as_ref()
            .map(|name| headers.get_all(name))
            .into_iter()
            .flatten()
            .map(HeaderValue::as_bytes);
        let incoming = settings.incoming(
            req.method().as_str(),
            req.path(),
            headers.get_all(COOKIE).map(HeaderValue::as_bytes),
            pin_headers,
            now_secs(),
        );
        let state = RequestState::new(Arc::clone(settings), incoming);
        // actix-web runs extractors and the handler when the future is
        // polled; a service may work in `call` too: both run in context.
        let future = state.sync_scope(|| self.service.call(req));
        ResponseFuture::new(state.scope(future), state, Arc::clone(shared))
    }
}
