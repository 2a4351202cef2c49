//! The framework-neutral HTTP side of multidb: read-your-writes across
//! requests, the counterpart of django-multidb-router's
//! `PinningRouterMiddleware`. The tower/axum layer (`multidb-tower`) and the
//! actix-web middleware (`multidb-actix`) are thin adapters over this crate:
//! the same [`PinningConfig`], the same pin, the same decisions. Applications
//! reach both through `multidb_seaorm` (features `tower` and `actix`).
//!
//! After a client writes, its next requests read from the primary for a
//! while (15 s by default), until the replicas have caught up: the user who
//! just posted is redirected to their post, and sees it.
//!
//! ```
//! use std::time::Duration;
//! use multidb_http::{ConfigError, PinningConfig};
//!
//! let config = PinningConfig::default()
//!     .cookie_name("__Host-multidb_pin_writes")
//!     .signing_key(b"a random key of at least 32 bytes!")
//!     .pin_for(Duration::from_secs(5));
//! assert_eq!(config.validate(), Ok(()));
//!
//! let bad = PinningConfig::default().signing_key(b"short");
//! assert_eq!(bad.validate(), Err(ConfigError::SigningKeyTooShort { index: 0, len: 5 }));
//! ```
//!
//! # What the middleware does
//!
//! **Each request runs in its own routing context**
//! ([`RequestContext::scope`](multidb_core::context::RequestContext::scope)),
//! so one request's pins and writes never leak into another's. The context is
//! *pinned* (every statement on the primary) when:
//!
//! * the method may write: anything but `GET`, `HEAD`, `OPTIONS` and `TRACE`
//!   (`reason = "method"` in the logs);
//! * or the request carries a valid pin: the cookie (`"cookie"`), or the
//!   header set with [`PinningConfig::header_name`] (`"header"`).
//!
//! The handler, and the response body as it streams, run inside the
//! context.
//!
//! **After the response**, the client is pinned — a `Set-Cookie` is
//! *appended* (the application's own cookies are kept) — when:
//!
//! * the method may write (`"method"`);
//! * or the handler ran `#[db_write]` or called
//!   [`mark_db_write`](multidb_core::context::mark_db_write) (`"db_write"`);
//! * or the response carries the [`DbWrite`] extension (`"marked"`);
//! * or, with [`PinningConfig::pin_on_any_write`] (the default), a statement
//!   that may write ran during the request (`"wrote"`).
//!
//! This happens for error responses too (a 500 may follow a write). A
//! request already pinned by its cookie that does not write gets no new
//! cookie: a pin is never extended by reading. The decision is made when the
//! response's head is ready: a write made later, while a streaming body is
//! produced, can no longer pin the client. Requests under a
//! [`PinningConfig::exempt_path_prefix`] run in a fresh, unpinned context
//! and never get a pin.
//!
//! # Put the pinning middleware outside timeouts and panic catchers
//!
//! The pin is set on the response as it passes through the middleware. A
//! response made *outside* it — a timeout's 408 or 503, a panic catcher's
//! 500, an error handler turning an inner error into a response — never
//! passes through it, so the client is not pinned, although the request may
//! have written: its retry or reload then reads a lagging replica ("my post
//! vanished", then a duplicate submission). So:
//!
//! * put timeouts, panic catchers and error-to-response layers **inside**
//!   (applied before) the pinning middleware, and the access log outside it
//!   (so it sees the `Set-Cookie`); with axum:
//!   `.layer(TimeoutLayer::new(..)).layer(PinningLayer::new(config)?)`;
//! * or let it catch panics itself: [`PinningConfig::catch_panics`];
//! * when a request that may have written is dropped before its response
//!   is ready (an outer timeout, or a client gone), the middleware logs a
//!   `warn` (target `multidb::http`) saying so.
//!
//! # Caches and CDNs
//!
//! A response that sets a pin is marked `Cache-Control: private`, unless the
//! application set a `Cache-Control` of its own (which is then kept as is:
//! make it `private` or `no-store` if the response may be cached). A shared
//! cache or CDN that stored a `Set-Cookie` would hand one client's pin to
//! everyone (harmless for correctness, but every visitor would then read
//! the primary); many CDNs also refuse to cache responses with
//! `Set-Cookie`, but not all do by default.
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
//! The format is extensible: a later version may add fields after the
//! expiry (`<expiry>:<position>`, a replication position), covered by the
//! same MAC; the pins above stay valid.
//!
//! A pin is ignored, as if absent, when it has expired; when it ends later
//! than now + the pin duration + 5 s of clock skew (so no pin outlives the
//! configured duration); when it is malformed; when keys are configured and
//! it is unsigned or its MAC matches none of them (compared in constant
//! time). Broken headers never fail a request: `Cookie` headers are read as
//! bytes (a non-UTF-8 byte in another cookie does not hide ours), whole —
//! as long as the server accepted them, in one linear pass without
//! allocating — and **every** cookie of the pin's name is looked at, the
//! first valid one winning, so junk copies planted ahead of the real one
//! (by a sibling subdomain, say) cannot switch pinning off. Only
//! well-formed pins within the pin window cost a MAC to check. The
//! `__Host-` cookie prefix ([`PinningConfig::cookie_name`]) keeps such
//! copies out altogether: recommended behind HTTPS.
//!
//! **Sign your pins.** Without a key, a client can forge a pin at will —
//! only for itself, and only for the pin duration per token: its own reads
//! go to the primary. That never returns wrong data, but a client doing it
//! on purpose adds load to the primary. With a key, forged, tampered and
//! far-future pins are ignored. Keys rotate with
//! [`PinningConfig::signing_keys`].
//!
//! # The cost of timed pins
//!
//! Pins are timed, as in django-multidb-router: any request whose method
//! may write earns one, whatever it did — a `POST` that the application
//! rejects with a 4xx, even a `POST` to a route that does not exist. So one
//! request every pin duration keeps a client's reads on the primary, and a
//! crowd of clients (a botnet) doing so can move a large share of the read
//! load onto the primary. Signing does not prevent it (those pins are
//! genuine). If that load matters, rate-limit the requests that pin, or
//! turn [`PinningConfig::pin_on_any_write`] off and keep the method rule…
//! which still pins by method: a pin that follows only real writes needs
//! replication positions (causal reads).
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
//! `Secure`, pin on any write, unsigned, no header, nothing exempt, panics
//! not caught.
//!
//! `Secure` is on, unlike Django's default: browsers accept secure cookies
//! from `http://localhost`, so local development works. Behind plain HTTP on
//! another host (a LAN address, a container name), browsers drop the cookie
//! and clients are not pinned across requests; use `.secure(false)` there.
//!
//! # Tracing
//!
//! Target `multidb::http`. At `debug` level, one event per request
//! (`pinned`, and `reason`: `method`, `cookie` or `header`) and one per pin
//! set (`reason`: `method`, `db_write`, `marked` or `wrote`); at `trace`
//! level, why a pin was ignored; `warn` for a request that may have written
//! and was dropped unfinished; `error` for a caught panic.

mod config;
mod cookie;
mod error;
mod pin;
mod token;

pub use config::{
    DEFAULT_COOKIE_NAME, DEFAULT_PIN_DURATION, MAX_PIN_DURATION, MIN_SIGNING_KEY_LEN,
    PinningConfig, SameSite,
};
pub use error::ConfigError;
pub use pin::DbWrite;

#[doc(hidden)]
pub mod adapter;
