//! actix-web middleware of multidb: read-your-writes across requests, the
//! counterpart of django-multidb-router's `PinningRouterMiddleware`, and the
//! twin of the tower/axum `PinningLayer`.
//!
//! After a client writes, its next requests read from the primary for a
//! while (15 s by default), until the replicas have caught up: the user who
//! just posted is redirected to their post, and sees it. The same
//! [`PinningConfig`] configures both frameworks, and what pins a request and
//! a client, the pin's format, caches, limits and defaults are the same code
//! for both: see [`multidb_http`]. Applications reach these names through
//! `multidb_seaorm` (feature `actix`).
//!
//! ```
//! use actix_web::{App, HttpResponse, http::header, test, web};
//! use multidb_actix::{PinningConfig, PinningMiddleware};
//! use multidb_core::context::this_task_is_pinned;
//!
//! # actix_web::rt::System::new().block_on(async {
//! let app = test::init_service(
//!     App::new()
//!         .route("/posts", web::post().to(HttpResponse::Created))
//!         .route("/posts/1", web::get().to(|| async { format!("primary: {}", this_task_is_pinned()) }))
//!         .wrap(PinningMiddleware::new(PinningConfig::default()).expect("valid configuration")),
//! )
//! .await;
//!
//! // A read without a pin: replicas, and no cookie.
//! let response = test::call_service(&app, test::TestRequest::get().uri("/posts/1").to_request()).await;
//! assert!(response.headers().get(header::SET_COOKIE).is_none());
//!
//! // A write: the client gets a pin, which no shared cache may keep.
//! let response = test::call_service(&app, test::TestRequest::post().uri("/posts").to_request()).await;
//! let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
//! assert_eq!(header(header::CACHE_CONTROL), Some("private"));
//! let set_cookie = header(header::SET_COOKIE).expect("a pin");
//! assert!(set_cookie.starts_with("multidb_pin_writes="));
//! assert!(set_cookie.ends_with("; Path=/; SameSite=Lax; HttpOnly; Secure"));
//!
//! // Its next read goes to the primary.
//! let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
//! let request = test::TestRequest::get().uri("/posts/1").insert_header((header::COOKIE, cookie));
//! let body = test::call_and_read_body(&app, request.to_request()).await;
//! assert_eq!(body, "primary: true");
//! # });
//! ```
//!
//! # Middleware order
//!
//! A response made by a middleware outside `PinningMiddleware` does not pass
//! through it, so it cannot pin the client
//! ([why it matters](multidb_http#put-the-pinning-middleware-outside-timeouts-and-panic-catchers)).
//! In actix-web the *last* `.wrap(..)` is the outermost: wrap
//! `PinningMiddleware` after the middleware that may answer for the handler
//! (timeouts, error handlers such as `ErrorHandlers`), and the access log
//! (`Logger`) after it, so the log sees the `Set-Cookie`.
//!
//! actix-web does not catch handler panics (the connection is dropped with
//! no response): with [`PinningConfig::catch_panics`], the middleware turns
//! a panicking handler into an empty 500 that pins the client. When an
//! inner middleware fails with an `Err`, the middleware makes the error's
//! response itself, with the pin (actix-web would make it after every
//! middleware has run). A request that may have written and is dropped
//! before its response is ready is logged at `warn`, target
//! `multidb::http`.
//!
//! # What runs in the request's context
//!
//! The inner service's `call`, the future it returns (extractors and the
//! handler run when it is polled) and every poll of the response body
//! ([`ScopedBody`]). Work handed to another task leaves the context (an
//! `actix_web::rt::spawn`ed job, a WebSocket actor): carry it with
//! [`in_current_scope`](multidb_core::context::in_current_scope), called in
//! the handler.

mod body;
mod future;
mod middleware;
mod service;

pub use body::ScopedBody;
pub use future::ResponseFuture;
pub use middleware::PinningMiddleware;
pub use multidb_http::{ConfigError, DbWrite, PinningConfig, SameSite};
pub use service::PinningService;
