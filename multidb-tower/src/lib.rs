//! Tower / axum layer of multidb: read-your-writes across requests, the
//! counterpart of django-multidb-router's `PinningRouterMiddleware`.
//!
//! After a client writes, its next requests read from the primary for a
//! while (15 s by default), until the replicas have caught up: the user who
//! just posted is redirected to their post, and sees it. What pins a request
//! and a client, the pin's format, caches, limits and defaults are the same
//! for every framework: see [`multidb_http`]. Applications reach these names
//! through `multidb_seaorm` (feature `tower`).
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
//!     .layer(PinningLayer::new(PinningConfig::default().catch_panics(true))?);
//!
//! let response = app.oneshot(Request::post("/posts").body(Body::empty())?).await?;
//! assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
//! assert!(response.headers().contains_key(header::SET_COOKIE)); // the client is pinned
//! # Ok(())
//! # }
//! ```
//!
//! With [`PinningConfig::catch_panics`], the layer turns a panicking
//! handler into an empty 500 that pins the client. A request that may have
//! written and is dropped before its response is ready (an outer timeout,
//! a client gone) or whose inner service fails with an `Err` is logged at
//! `warn`, target `multidb::http`.
//!
//! # Streaming bodies and upgrades
//!
//! hyper polls the response body after the handler has returned. The layer
//! answers with a [`ScopedBody`] around the inner
//! response's body, and every poll of it runs in the request's routing
//! context: the same request as the handler (their writes and marks are
//! shared), with the pin the handler's task ended with. A body that queries
//! lazily as it streams — an SSE feed, a CSV export reading through
//! `MultiDb` page by page — routes like its handler: for a write method or a
//! pinned client its reads go to the primary, and reads after a write made
//! in the request (in the handler, or earlier in the body) go to the
//! primary. With axum, `Router::layer` turns it back into `axum::body::Body`.
//!
//! The client is pinned, though, when the response's head is ready, before
//! the body is sent: a write made while the body streams still routes the
//! reads after it, within the body, to the primary, but it can no longer
//! pin the client for its next requests — the headers are gone. Make the
//! writes that must pin the client in the handler (or call
//! [`mark_db_write`](multidb_core::context::mark_db_write) there).
//!
//! Work handed to another task leaves the context: a `tokio::spawn`ed job,
//! or a WebSocket session run by axum's `WebSocketUpgrade::on_upgrade`.
//! Carry the context with
//! [`in_current_scope`](multidb_core::context::in_current_scope)
//! (`multidb_seaorm::in_current_scope`), called *in the handler*: it
//! captures the request's pin and facts when called. axum calls the
//! `on_upgrade` callback later, in a task of its own, where no context is
//! open, so build the session future in the handler and hand it the socket:
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
//!

mod body;
mod future;
mod layer;
mod service;

pub use body::ScopedBody;
pub use future::ResponseFuture;
pub use layer::PinningLayer;
pub use multidb_http::{ConfigError, DbWrite, PinningConfig, SameSite};
pub use service::Pinning;
