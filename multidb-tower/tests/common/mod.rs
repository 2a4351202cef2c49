//! The tower side of the pinning conformance suite: `multidb_tests`'
//! [`Routes`] in an axum `Router` behind `PinningLayer`.
#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use multidb_tests::http1::Reply;
use multidb_tests::pinning::{self, Handled, PinningApp, Routes};
use multidb_tower::{DbWrite, PinningConfig, PinningLayer};
use tower::ServiceExt as _;

/// [`Routes`] for every method and path, behind `PinningLayer`.
pub fn router(config: PinningConfig) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(Routes::default())
        .layer(PinningLayer::new(config).expect("valid configuration"))
}

async fn handle(State(routes): State<Routes>, request: Request) -> Response {
    let handled = routes
        .handle(request.uri().path(), request.uri().query())
        .await;
    response(handled)
}

fn response(handled: Handled) -> Response {
    let body = match handled.body {
        pinning::Body::Full(text) => Body::from(text),
        pinning::Body::Stream(chunks) => {
            Body::from_stream(chunks.map(Ok::<_, std::convert::Infallible>))
        }
    };
    let mut response = body.into_response();
    *response.status_mut() = StatusCode::from_u16(handled.status).expect("a valid status");
    for (name, value) in handled.headers {
        response.headers_mut().append(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    if handled.marked {
        response.extensions_mut().insert(DbWrite);
    }
    response
}

/// Send `request` through `app` and read the reply whole.
pub async fn send(app: &Router, request: axum::http::Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
    }
}

/// The layer in an axum `Router`.
#[derive(Clone)]
pub struct Tower(pub Router);

impl PinningApp for Tower {
    async fn start(config: PinningConfig) -> Self {
        Tower(router(config))
    }

    async fn send(&self, request: axum::http::Request<String>) -> Reply {
        send(&self.0, request.map(Body::from)).await
    }
}
