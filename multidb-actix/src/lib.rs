//! actix-web middleware of multidb: read-your-writes across requests, the
//! counterpart of django-multidb-router's `PinningRouterMiddleware`, and the
//! twin of the tower/axum `PinningLayer`.
//!
//! The same [`PinningConfig`] configures both frameworks, and what pins a
//! request and a client, the pin's format, caches, limits and defaults are
//! the same code for both, told once, in [`multidb_http`]; this page shows
//! what is particular to actix-web. Applications reach these names through
//! `multidb_seaorm` (feature `actix`).
//!
//! A write pins the client, and the pin sends its next read to the primary
//! (the exchange `multidb_tower`'s crate docs walk through, header by
//! header):
//!
//! ```
//! use actix_web::{App, HttpResponse, http::header, test, web};
//! use multidb_actix::{PinningConfig, PinningMiddleware};
//! use multidb_core::context::this_task_is_pinned;
//!
//! # actix_web::rt::System::new().block_on(async {
//! let app = App::new()
//!     .route("/posts", web::post().to(HttpResponse::Created))
//!     .route("/posts/1", web::get().to(|| async { format!("primary: {}", this_task_is_pinned()) }))
//!     .wrap(PinningMiddleware::new(PinningConfig::default()).expect("valid configuration"));
//! let app = test::init_service(app).await;
//!
//! let posted = test::call_service(&app, test::TestRequest::post().uri("/posts").to_request()).await;
//! let pin = posted.headers().get(header::SET_COOKIE).and_then(|v| v.to_str().ok());
//! let cookie = pin.expect("a pin").split(';').next().unwrap_or_default().to_owned();
//! let read = test::TestRequest::get().uri("/posts/1").insert_header((header::COOKIE, cookie));
//! assert_eq!(test::call_and_read_body(&app, read.to_request()).await, "primary: true");
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
//! no response): the middleware does, by default
//! ([`PinningConfig::catch_panics`]), and turns a panicking handler into an
//! empty 500 that pins the client. When an inner middleware fails with an
//! `Err`, the middleware makes the error's response itself, with the pin
//! (actix-web would make it after every middleware has run).
//!
//! Exempt path prefixes ([`PinningConfig::exempt_path_prefix`]) are
//! matched against the path actix-web's router matches, percent-decoded
//! (`/%68ealth` is `/health`).
//!
//! The middleware follows actix-web's own shape — a [`Transform`](actix_web::dev::Transform)
//! that makes a [`Service`](actix_web::dev::Service) per worker, whose
//! future is [`ResponseFuture`] — with the names the other way round:
//! the `Transform` is [`PinningMiddleware`] (what `App::wrap` takes), the
//! service [`PinningService`].
//!
//! # What runs in the request's context
//!
//! The inner service's `call`, the future it returns (extractors and the
//! handler run when it is polled) and every poll of the response body
//! ([`ScopedBody`]). Work handed to another task — an
//! `actix_web::rt::spawn`ed job, a WebSocket actor — leaves the context:
//! carry it with
//! [`in_current_scope`](multidb_core::context::in_current_scope), called in
//! the handler ([how bodies and other tasks route](multidb_http#streaming-bodies-and-upgrades)).

mod body;
mod middleware;

pub use body::ScopedBody;
pub use middleware::{PinningMiddleware, PinningService, ResponseFuture};
pub use multidb_http::{ConfigError, DbWrite, PinningConfig, SameSite};
