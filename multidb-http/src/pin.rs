//! What pins a request and what pins a client: the decisions every
//! framework's middleware makes the same way, in one place.

use std::any::Any;

use multidb_core::context::RequestContext;
use multidb_core::position::WritePosition;

use crate::config::Settings;
use crate::cookie::{Written, cookie_values, header_values};
use crate::token::{Checked, Reject};

/// The `tracing` target of the HTTP side.
pub(crate) const TARGET: &str = "multidb::http";

/// Mark a response as coming from a request that wrote, so that the client
/// is pinned — django's `response._db_write = True`. For the cases where the
/// handler cannot use `#[db_write]` or
/// [`mark_db_write`](multidb_core::context::mark_db_write), e.g. in another
/// middleware.
///
/// ```
/// use multidb_http::DbWrite;
///
/// let mut response = http::Response::new(());
/// response.extensions_mut().insert(DbWrite);
/// ```
///
/// With axum, return it as a response part: `(axum::Extension(DbWrite),
/// body)`; with actix-web, `response.extensions_mut().insert(DbWrite)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DbWrite;

/// Why a request runs pinned, or why a response pins the client: the one
/// list of reasons, as they appear in the logs (`reason = "…"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PinnedBy {
    /// The method may write (anything but GET, HEAD, OPTIONS, TRACE).
    Method,
    /// A valid pin cookie (requests only).
    Cookie,
    /// A valid pin header (requests only).
    Header,
    /// `#[db_write]` or `mark_db_write()` ran (responses only).
    DbWrite,
    /// The response carries [`DbWrite`] (responses only).
    Marked,
    /// A write statement ran, with `pin_on_any_write` (responses only).
    Wrote,
}

impl PinnedBy {
    /// The name in the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            PinnedBy::Method => "method",
            PinnedBy::Cookie => "cookie",
            PinnedBy::Header => "header",
            PinnedBy::DbWrite => "db_write",
            PinnedBy::Marked => "marked",
            PinnedBy::Wrote => "wrote",
        }
    }
}

/// Whether a method only reads: GET, HEAD, OPTIONS and TRACE. Every other
/// method, extension methods included, may write.
pub fn is_read_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// What the middleware decided when a request came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    exempt: bool,
    writes: bool,
    pinned_by: Option<PinnedBy>,
    /// The position carried by the valid pin, if any (allocated only then).
    position: Option<Box<str>>,
    /// That position, read: the request's reads must see it.
    after: Option<WritePosition>,
}

impl Incoming {
    /// Whether the request runs pinned to the primary: pinned by its method,
    /// or by a pin that carries no position (a pin with one makes its reads
    /// wait for that position instead, see [`after`](Self::after)).
    pub fn pinned(&self) -> bool {
        self.pinned_by == Some(PinnedBy::Method)
            || (self.pinned_by.is_some() && self.after.is_none())
    }

    /// The replication position the request's pin carried: its reads go to
    /// replicas that reached it, else the primary.
    pub fn after(&self) -> Option<&WritePosition> {
        self.after.as_ref()
    }

    /// Why, if it does.
    pub fn pinned_by(&self) -> Option<PinnedBy> {
        self.pinned_by
    }

    /// Whether the path is exempt: never pinned, never earns a pin.
    pub fn exempt(&self) -> bool {
        self.exempt
    }

    /// The replication position carried by the pin that pinned the request
    /// (`[A-Za-z0-9._~-]`, at most 200 bytes), if it carried one: what a
    /// causal read waits for. Pins carry none until causal pins land.
    pub fn position(&self) -> Option<&str> {
        self.position.as_deref()
    }
}

/// A pin to send: the `Set-Cookie` value, and the token for the pin header.
#[derive(Debug)]
pub struct IssuedPin(Written);

impl IssuedPin {
    /// The token alone (the pin header's value).
    pub fn token(&self) -> &str {
        self.0.line.get(self.0.token.clone()).unwrap_or_default()
    }

    /// The `Set-Cookie` value.
    pub fn into_set_cookie(self) -> String {
        self.0.line
    }
}

impl Settings {
    /// The request's routing: exempt, pinned (and why). `cookies` are the
    /// `Cookie` header values, `pin_headers` the values of the
    /// [`header_name`](Self::header_name) header (read only if no cookie
    /// pins).
    pub fn incoming<'a>(
        &self,
        method: &str,
        path: &str,
        cookies: impl Iterator<Item = &'a [u8]>,
        pin_headers: impl Iterator<Item = &'a [u8]>,
        now: u64,
    ) -> Incoming {
        let exempt = self.is_exempt(path);
        let writes = !is_read_method(method);
        let mut position = None;
        let mut found = |checked: Option<Checked<'_>>| match checked {
            Some(checked) => {
                position = checked
                    .position
                    .and_then(|p| std::str::from_utf8(p).ok())
                    .map(Box::from);
                true
            }
            None => false,
        };
        let pinned_by = if exempt {
            None
        } else if writes {
            Some(PinnedBy::Method)
        } else if found(self.first_valid(
            cookie_values(cookies, self.cookie_name.as_bytes()),
            now,
            PinnedBy::Cookie,
        )) {
            Some(PinnedBy::Cookie)
        } else if self.header_name.is_some()
            && found(self.first_valid(header_values(pin_headers), now, PinnedBy::Header))
        {
            Some(PinnedBy::Header)
        } else {
            None
        };
        tracing::debug!(
            target: TARGET,
            method,
            path,
            exempt,
            pinned = pinned_by.is_some(),
            reason = pinned_by.map(PinnedBy::as_str),
            "request routing context",
        );
        let after = position
            .as_deref()
            .and_then(|text: &str| text.parse::<WritePosition>().ok());
        Incoming {
            exempt,
            writes,
            pinned_by,
            position,
            after,
        }
    }

    /// The first valid token among `candidates`. Every candidate is looked
    /// at (a planted junk copy cannot hide a real pin); a malformed,
    /// expired or far-future one costs a few byte comparisons, only a
    /// well-formed one in the window costs a MAC.
    fn first_valid<'a>(
        &self,
        candidates: impl Iterator<Item = &'a [u8]>,
        now: u64,
        source: PinnedBy,
    ) -> Option<Checked<'a>> {
        candidates
            .map(|value| self.tokens.check(value, now))
            .find_map(|checked| match checked {
                Ok(checked) => Some(checked),
                Err(reject) => {
                    log_reject(source, reject);
                    None
                }
            })
    }

    /// Whether the response pins the client, and why: THE decision, for
    /// every framework.
    ///
    /// Timed pins keep django-multidb-router's rule: a method that may
    /// write earns a pin whatever happened (even a 404 or a 4xx: the
    /// handler may have written before failing), then `#[db_write]` /
    /// `mark_db_write`, the [`DbWrite`] marker (`marked`), and, with
    /// `pin_on_any_write`, any write statement. A request already pinned by
    /// its cookie that does not write earns nothing: reading never extends
    /// a pin.
    pub fn earns_pin(
        &self,
        incoming: &Incoming,
        request: &RequestContext,
        marked: bool,
    ) -> Option<PinnedBy> {
        if incoming.exempt {
            None
        } else if incoming.writes && !self.causal {
            Some(PinnedBy::Method)
        } else if self.causal && request.wrote() {
            // Causal: a real write, whose position the pin carries; the
            // method alone gives nothing to wait for.
            Some(PinnedBy::Wrote)
        } else if request.db_write_marked() {
            Some(PinnedBy::DbWrite)
        } else if marked {
            Some(PinnedBy::Marked)
        } else if self.pin_on_any_write && request.wrote() {
            Some(PinnedBy::Wrote)
        } else {
            None
        }
    }

    /// The pin for a response with `status`, earned by `reason`, from
    /// `now`. `position` (a replication position, `[A-Za-z0-9._~-]`, at
    /// most 200 bytes) travels signed in the token; `None` until causal
    /// pins land.
    pub fn issue(
        &self,
        now: u64,
        position: Option<&str>,
        reason: PinnedBy,
        status: u16,
    ) -> IssuedPin {
        let written = self.set_cookie.write(&self.tokens, now, position);
        tracing::debug!(
            target: TARGET,
            reason = reason.as_str(),
            status,
            pin_secs = self.tokens.pin_secs(),
            "pinning client to the primary",
        );
        IssuedPin(written)
    }

    /// Warn, if the request may have written, that it ended without a
    /// response through the middleware (`what` happened): the client is
    /// not pinned.
    pub fn unpinned(&self, incoming: &Incoming, request: &RequestContext, what: &'static str) {
        if !incoming.exempt && (incoming.writes || request.wrote() || request.db_write_marked()) {
            tracing::warn!(
                target: TARGET,
                what,
                "a request that may have written ended without a response through the \
                 pinning middleware (a timeout or error handler outside it, or the client \
                 went away): the client is not pinned and may next read a lagging replica; \
                 put timeouts and panic catchers inside the pinning middleware"
            );
        }
    }

    /// Log a handler panic caught by [`catch_panics`](Self::catch_panics).
    pub fn caught_panic(&self, payload: &(dyn Any + Send)) {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("<non-string panic payload>");
        tracing::error!(target: TARGET, panic = message, "handler panicked: answering 500");
    }
}

fn log_reject(source: PinnedBy, reject: Reject) {
    tracing::trace!(
        target: TARGET,
        source = source.as_str(),
        ?reject,
        "ignored pin token"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PinningConfig;

    const NOW: u64 = 1_700_000_000;

    fn get(settings: &Settings, cookies: &[&[u8]]) -> Option<PinnedBy> {
        settings
            .incoming("GET", "/", cookies.iter().copied(), [].into_iter(), NOW)
            .pinned_by()
    }

    #[test]
    fn every_copy_is_read_and_the_first_valid_one_wins() {
        let settings = PinningConfig::default().compile().expect("valid");
        let valid = format!("multidb_pin_writes={}", NOW + 10);
        let junk = "multidb_pin_writes=x; ".repeat(9);
        let cookie = format!("{junk}{valid}");
        assert_eq!(get(&settings, &[cookie.as_bytes()]), Some(PinnedBy::Cookie));
        let mut many: Vec<&[u8]> = vec![b"multidb_pin_writes=1"; 100];
        many.push(valid.as_bytes());
        assert_eq!(get(&settings, &many), Some(PinnedBy::Cookie));
        assert_eq!(get(&settings, &many[..100]), None);
    }

    #[test]
    fn the_pin_header_is_read_after_the_cookies() {
        let settings = PinningConfig::default()
            .header_name("x-pin")
            .compile()
            .expect("valid");
        let value = format!("garbage, {}", NOW + 3);
        let incoming = settings.incoming(
            "GET",
            "/",
            [&b"multidb_pin_writes=1"[..]].into_iter(),
            [value.as_bytes()].into_iter(),
            NOW,
        );
        assert_eq!(incoming.pinned_by(), Some(PinnedBy::Header));
    }

    #[test]
    fn the_decision() {
        let settings = PinningConfig::default().compile().expect("valid");
        let strict = PinningConfig::default()
            .pin_on_any_write(false)
            .compile()
            .expect("valid");
        let none = [].into_iter();
        let post = settings.incoming("POST", "/x", none.clone(), none.clone(), NOW);
        let get = settings.incoming("GET", "/x", none.clone(), none.clone(), NOW);
        let request = RequestContext::new();
        assert_eq!(
            settings.earns_pin(&post, &request, false),
            Some(PinnedBy::Method)
        );
        assert_eq!(settings.earns_pin(&get, &request, false), None);
        assert_eq!(
            settings.earns_pin(&get, &request, true),
            Some(PinnedBy::Marked)
        );
        request.sync_scope(false, multidb_core::__private::note_write);
        assert_eq!(
            settings.earns_pin(&get, &request, false),
            Some(PinnedBy::Wrote)
        );
        assert_eq!(strict.earns_pin(&get, &request, false), None);
        request.sync_scope(false, multidb_core::context::mark_db_write);
        assert_eq!(
            strict.earns_pin(&get, &request, false),
            Some(PinnedBy::DbWrite)
        );
    }

    #[test]
    fn exempt_paths_never_pin() {
        let settings = PinningConfig::default()
            .exempt_path_prefix("/static/")
            .compile()
            .expect("valid");
        let none = [].into_iter();
        for path in ["/static", "/static/", "/static/a.js"] {
            let post = settings.incoming("POST", path, none.clone(), none.clone(), NOW);
            assert!(post.exempt() && !post.pinned(), "{path}");
            let request = RequestContext::new();
            request.sync_scope(false, multidb_core::context::mark_db_write);
            assert_eq!(settings.earns_pin(&post, &request, true), None);
        }
        let post = settings.incoming("POST", "/statics", none.clone(), none, NOW);
        assert!(!post.exempt() && post.pinned());
    }

    #[test]
    fn issued_pins_carry_the_position() {
        let settings = PinningConfig::default()
            .signing_key([7u8; 32])
            .compile()
            .expect("valid");
        let pin = settings.issue(NOW, Some("0-16B3F28"), PinnedBy::Wrote, 200);
        assert!(pin.token().starts_with(&format!("{}:0-16B3F28.", NOW + 15)));
        let cookie = format!("multidb_pin_writes={}", pin.token());
        assert_eq!(get(&settings, &[cookie.as_bytes()]), Some(PinnedBy::Cookie));
        let none = [].into_iter();
        let incoming = settings.incoming("GET", "/", [cookie.as_bytes()].into_iter(), none, NOW);
        assert_eq!(incoming.position(), Some("0-16B3F28"));
        let plain = format!(
            "multidb_pin_writes={}",
            settings.issue(NOW, None, PinnedBy::Wrote, 200).token()
        );
        let incoming = settings.incoming(
            "GET",
            "/",
            [plain.as_bytes()].into_iter(),
            [].into_iter(),
            NOW,
        );
        assert_eq!(incoming.position(), None);
        assert!(pin.into_set_cookie().starts_with(&cookie));
    }
}
