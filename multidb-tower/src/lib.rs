//! Tower / axum layer of multidb: read-your-writes across requests, the
//! counterpart of django-multidb-router's `PinningRouterMiddleware`.
//!
//! What pins a request and a client, the pin's format, caches, limits and
//! defaults are the same for every framework, and told once, in
//! [`multidb_http`]; this page shows the layer at work and what is
//! particular to tower and axum. Applications reach these names through
//! `multidb_seaorm` (feature `tower`).
//!
//! ```
//! use axum::{Router, body::Body, routing::{get, post}};
//! use http::{Request, StatusCode, header};
//! use multidb_core::context::this_task_is_pinned;
//! use multidb_tower::{PinningConfig, PinningLayer};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = Router::new()
//!     .route("/posts", post(|| async { StatusCode::CREATED }))
//!     .route("/posts/1", get(|| async { format!("primary: {}", this_task_is_pinned()) }))
//!     .layer(PinningLayer::new(PinningConfig::default())?);
//!
//! // A read without a pin: replicas, and no cookie.
//! let response = app.clone().oneshot(Request::get("/posts/1").body(Body::empty())?).await?;
//! assert!(response.headers().get(header::SET_COOKIE).is_none());
//!
//! // A write: the client gets a pin, which no shared cache may keep.
//! let response = app.clone().oneshot(Request::post("/posts").body(Body::empty())?).await?;
//! assert_eq!(response.headers()[header::CACHE_CONTROL], "private");
//! let set_cookie = response.headers()[header::SET_COOKIE].to_str()?;
//! assert!(set_cookie.starts_with("multidb_pin_writes="));
//! assert!(set_cookie.contains("; Max-Age=15; Expires="));
//! assert!(set_cookie.ends_with("; Path=/; SameSite=Lax; HttpOnly; Secure"));
//!
//! // Its next read goes to the primary.
//! let cookie = set_cookie.split(';').next().unwrap_or_default();
//! let request = Request::get("/posts/1").header(header::COOKIE, cookie).body(Body::empty())?;
//! let response = app.oneshot(request).await?;
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(body, "primary: true");
//! # Ok(())
//! # }
//! ```
//!
//! # Layer order
//!
//! A response made by a layer outside `PinningLayer` does not pass through
//! it, so it cannot pin the client
//! ([why it matters](multidb_http#put-the-pinning-middleware-outside-timeouts-and-panic-catchers)).
//! In axum, a later `.layer(..)` wraps the earlier ones: add timeouts and
//! panic catchers *before* `PinningLayer`, and the access log after it.
//!
//! ```
//! use std::time::Duration;
//! use axum::{Router, body::Body, routing::post};
//! use http::{Request, StatusCode, header};
//! use multidb_tower::{PinningConfig, PinningLayer};
//! use tower::ServiceExt;
//! use tower_http::timeout::TimeoutLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let slow = || async {
//!     tokio::time::sleep(Duration::from_secs(60)).await; // wrote, then got stuck
//!     StatusCode::CREATED
//! };
//! let app = Router::new()
//!     .route("/posts", post(slow))
//!     .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_millis(10)))
//!     .layer(PinningLayer::new(PinningConfig::default())?);
//!
//! let response = app.oneshot(Request::post("/posts").body(Body::empty())?).await?;
//! assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
//! assert!(response.headers().contains_key(header::SET_COOKIE)); // the client is pinned
//! # Ok(())
//! # }
//! ```
//!
//! A request whose inner service fails with an `Err` has no response to
//! pin: it is logged at `warn` (target `multidb::http`), as a request
//! dropped unfinished is. A handler that panics is caught by the layer
//! itself, by default ([`PinningConfig::catch_panics`]; neither axum nor
//! hyper catches panics): the client gets an empty 500 that pins it.
//!
//! Exempt path prefixes ([`PinningConfig::exempt_path_prefix`]) are
//! matched against the request's path as it came, which is what axum's
//! router matches (it does not percent-decode the path).
//!
//! # Streaming bodies and upgrades
//!
//! The layer answers with a [`ScopedBody`] around the inner response's
//! body: hyper polls it after the handler returned, in the request's
//! routing context, and work handed to another task needs
//! [`in_current_scope`](multidb_core::context::in_current_scope)
//! ([how bodies and other tasks route](multidb_http#streaming-bodies-and-upgrades)).
//!
//! A WebSocket session run by axum's `WebSocketUpgrade::on_upgrade` is
//! such work: axum calls the callback later, in a task of its own, where
//! no context is open. Build the session's future in the handler, with
//! `in_current_scope`, and hand it the socket:
//!
//! ```
//! # use std::future::Future;
//! use multidb_core::context::{in_current_scope, this_task_is_pinned};
//! # struct WebSocket;
//! # struct WebSocketUpgrade;
//! # impl WebSocketUpgrade {
//! #     // As axum does: the callback runs later, in a spawned task.
//! #     fn on_upgrade<C, F>(self, callback: C) -> tokio::task::JoinHandle<()>
//! #     where
//! #         C: FnOnce(WebSocket) -> F + Send + 'static,
//! #         F: Future<Output = ()> + Send + 'static,
//! #     {
//! #         tokio::spawn(async move { callback(WebSocket).await })
//! #     }
//! # }
//!
//! async fn session(_socket: WebSocket) {
//!     assert!(this_task_is_pinned()); // the request's context
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! # let ws = WebSocketUpgrade;
//! # let upgraded = multidb_core::context::RequestContext::new().scope(true, async move {
//! // In the handler:
//! let (socket_tx, socket_rx) = tokio::sync::oneshot::channel();
//! let session = in_current_scope(async move {
//!     if let Ok(socket) = socket_rx.await {
//!         session(socket).await;
//!     }
//! });
//! ws.on_upgrade(move |socket| async move {
//!     let _ = socket_tx.send(socket);
//!     session.await;
//! })
//! # }).await;
//! # upgraded.await.expect("the session ran pinned");
//! # }
//! ```

mod body;
mod future;
mod layer;
mod service;

pub use body::ScopedBody;
pub use future::ResponseFuture;
pub use layer::PinningLayer;
pub use multidb_http::{ConfigError, DbWrite, PinningConfig, SameSite};
pub use service::Pinning;
