//! Tower / axum layer of multidb: read-your-writes across requests, the
//! counterpart of django-multidb-router's `PinningRouterMiddleware`.
//!
//! After a client writes, its next requests read from the primary for a
//! while (15 s by default), until the replicas have caught up: the user who
//! just posted is redirected to their post, and sees it.
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
//!     .layer(PinningLayer::new(PinningConfig::default()));
//!
//! // A read without a pin: replicas, and no cookie.
//! let response = app.clone().oneshot(Request::get("/posts/1").body(Body::empty())?).await?;
//! assert!(response.headers().get(header::SET_COOKIE).is_none());
//!
//! // A write: the client gets a pin.
//! let response = app.clone().oneshot(Request::post("/posts").body(Body::empty())?).await?;
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
//! Applications reach these names through `multidb_seaorm`.
//!
//! # What the layer does
//!
//! **Each request runs in its own routing context**
//! ([`RequestContext::scope`](multidb_core::context::RequestContext::scope)),
//! so one request's pins and writes never leak into another's. The context is
//! *pinned* (every statement on the primary) when:
//!
//! * the method may write: anything but `GET`, `HEAD`, `OPTIONS` and `TRACE`
//!   (so `POST`, `PUT`, `PATCH`, `DELETE`, `CONNECT` and extension methods);
//! * or the request carries a valid pin: the cookie, or the header set with
//!   [`PinningConfig::header_name`].
//!
//! The inner service's `call`, the future it returns (axum handlers run
//! when it is polled) and the response body (see
//! [below](#streaming-bodies-and-upgrades)) all run inside the context. A
//! `pin_this_task()` made in `call` itself, outside the future, lasts only
//! for `call`; writes and marks made there count.
//!
//! **After the response**, the client is pinned — a `Set-Cookie` is
//! *appended* (the application's own cookies are kept) — when:
//!
//! * the method may write (`reason = "method"` in the logs);
//! * or the handler ran `#[db_write]` or called
//!   [`mark_db_write`](multidb_core::context::mark_db_write) (`"db_write"`);
//! * or the response carries the [`DbWrite`] extension (`"marked"`);
//! * or, with [`PinningConfig::pin_on_any_write`] (the default), a statement
//!   that may write ran during the request (`"wrote"`).
//!
//! This happens for error responses too (a 500 may follow a write). If the
//! inner service fails (`Err`), the error is passed on untouched. A request
//! already pinned by its cookie that does not write gets no new cookie: a
//! pin is never extended by reading.
//!
//! The decision is made when the response's head is ready: a write made
//! later, while a streaming body is produced, can no longer pin the client
//! (see [below](#streaming-bodies-and-upgrades)).
//!
//! Requests under a [`PinningConfig::exempt_path_prefix`] (static files,
//! health checks) run in a fresh, unpinned context and never get a pin.
//!
//! # Streaming bodies and upgrades
//!
//! hyper polls the response body after the handler has returned. The layer
//! answers with a [`ScopedBody`](pinning::ScopedBody) around the inner
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
//! # The pin
//!
//! The cookie's value says until when the client is pinned:
//!
//! * unsigned (no key configured): `<expiry>`, Unix time in seconds;
//! * signed ([`PinningConfig::signing_key`]): `<expiry>.<mac>`, where `<mac>`
//!   is the unpadded base64url HMAC-SHA256, under the first key, of
//!   `<cookie name>|<expiry>` (so other services can issue and check pins).
//!
//! A pin is ignored, as if absent, when it has expired; when it ends later
//! than now + the pin duration + 5 s of clock skew (so no pin outlives the
//! configured duration); when it is malformed (only digits, a dot and 43
//! base64url characters, at most 64 bytes); when keys are configured and it
//! is unsigned or its MAC matches none of them (compared in constant time).
//! If the cookie appears several times, one valid copy is enough. Broken
//! headers never fail a request: `Cookie` headers are read as bytes (a
//! non-UTF-8 byte in another cookie does not hide ours), in total at most
//! 32 KiB of them, and at most 8 candidate pins are checked.
//!
//! **Sign your pins.** Without a key, a client can forge a pin at will —
//! only for itself, and only for the pin duration per token: its own reads
//! go to the primary. That never returns wrong data, but a client doing it
//! on purpose adds load to the primary. With a key, forged, tampered and
//! far-future pins are ignored: every pin accepted was issued by a service
//! holding the key. Keys rotate with [`PinningConfig::signing_keys`].
//!
//! Signing does not stop a client from *earning* a genuine pin: any request
//! that pins gets one for the pin duration — any `POST` does, even one the
//! application rejects with a 4xx — and a client can repeat it to stay
//! pinned, exactly as a client that really writes would. If the load that
//! puts on the primary matters, rate-limit writes (the requests that pin).
//!
//! # API clients without cookies
//!
//! With [`PinningConfig::header_name`] (for instance `x-multidb-pin`), a
//! pinning response also carries the token in that header; the client sends
//! the last value it received back in the same request header until it
//! expires (sending an expired one is harmless). The cookie is still set.
//!
//! # Defaults
//!
//! `multidb_pin_writes`, 15 s, `Path=/`, `SameSite=Lax`, `HttpOnly`,
//! `Secure`, pin on any write, unsigned, no header, nothing exempt.
//!
//! `Secure` is on, unlike Django's default: it is the safe choice, and
//! browsers accept secure cookies from `http://localhost`, so local
//! development works. Behind plain HTTP on another host (a LAN address, a
//! container name), browsers drop the cookie and clients are not pinned
//! across requests; use `.secure(false)` there.
//!
//! # Tracing
//!
//! At `debug` level, one event per request (`pinned`, and `reason`:
//! `method`, `cookie` or `header`) and one per pin set (`reason`: `method`,
//! `db_write`, `marked` or `wrote`); at `trace` level, why a pin was
//! ignored.

pub mod pinning;

pub use pinning::{ConfigError, DbWrite, Pinning, PinningConfig, PinningLayer, SameSite};
