//! What pins a request and what pins a client: the decisions every
//! framework's middleware makes the same way, in one place.

use std::any::Any;

use http::HeaderName;
use multidb_core::context::RequestContext;
use multidb_core::position::WritePosition;

use crate::config::Settings;
use crate::cookie::{Written, cookie_values, header_values};
use crate::token::{Reject, Tokens, is_valid_position};

/// The `tracing` target of the HTTP side.
pub const TARGET: &str = "multidb::http";

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
    /// What the request's pins carried, combined: the position its reads
    /// must see (none when a pin without one came).
    after: Option<WritePosition>,
    /// The replica the client's affinity cookie names.
    affinity: Option<usize>,
}

impl Incoming {
    /// Whether the request runs pinned to the primary: pinned by its method,
    /// or by a pin that carries no position (a pin with one makes its reads
    /// wait for that position instead, see [`after`](Self::after)).
    pub fn pinned(&self) -> bool {
        self.pinned_by == Some(PinnedBy::Method)
            || (self.pinned_by.is_some() && self.after.is_none())
    }

    /// The replication position the request's pins carried, combined
    /// ([`WritePosition::join`]): its reads go to replicas that reached it,
    /// else the primary.
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

    /// The replica the client read from in its earlier requests (its
    /// affinity cookie, see [`PinningConfig::replica_affinity`](crate::PinningConfig::replica_affinity)).
    pub fn affinity(&self) -> Option<usize> {
        self.affinity
    }
}

/// At most this many pins of one request are verified (with keys, an HMAC
/// per key each): those that passed the cheap checks (well formed, within
/// the pin window). A request that brings more runs pinned, as under a
/// timed pin, without verifying the rest: any of them may be the user's
/// own pin, hidden behind planted copies.
const MAX_PINS_VERIFIED: usize = 8;

/// The valid pins of one request, combined: a timed pin wins, else the
/// request's reads must see every pin's position.
#[derive(Debug, Default)]
struct Pins {
    /// How many pins were verified, against [`MAX_PINS_VERIFIED`].
    verified: usize,
    /// A pin without a usable position came (or more pins than are
    /// verified): the request runs pinned, whatever else comes.
    timed: bool,
    /// The join of the positions of the pins so far, while none was timed.
    after: Option<WritePosition>,
}

impl Pins {
    /// Add the valid pins among `candidates` (every one is looked at: a
    /// planted junk copy cannot hide a real pin; a malformed, expired or
    /// far-future one costs a few byte comparisons). Whether any was valid.
    fn add<'a>(
        &mut self,
        tokens: &Tokens,
        candidates: impl Iterator<Item = &'a [u8]>,
        now: u64,
        source: PinnedBy,
    ) -> bool {
        let mut found = false;
        for value in candidates {
            if self.timed {
                // Nothing more can change the outcome.
                break;
            }
            let token = match tokens.read(value, now) {
                Ok(token) => token,
                Err(reject) => {
                    log_reject(source, reject);
                    continue;
                }
            };
            if self.verified == MAX_PINS_VERIFIED {
                tracing::debug!(
                    target: TARGET,
                    source = source.as_str(),
                    max = MAX_PINS_VERIFIED,
                    "more pins than are verified: the request runs pinned",
                );
                self.timed = true;
                self.after = None;
                return true;
            }
            self.verified += 1;
            match tokens.verify(token) {
                Ok(checked) => {
                    found = true;
                    self.add_position(checked.position);
                }
                Err(reject) => log_reject(source, reject),
            }
        }
        found
    }

    /// A valid pin's position: joined with the others', or, if it has none
    /// (or one that cannot be read, or of another cluster), a timed pin.
    fn add_position(&mut self, position: Option<&[u8]>) {
        let position = position
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(|text| text.parse::<WritePosition>().ok());
        // `after` is `None` only before the first pin (a timed one stops
        // the reading).
        self.after = match (self.after.take(), position) {
            (None, Some(position)) => Some(position),
            (Some(have), Some(position)) => {
                let joined = have.join(&position);
                if joined.is_none() {
                    crate::metrics::pin_rejected(crate::metrics::Rejected::OtherCluster);
                }
                joined
            }
            (_, None) => None,
        };
        self.timed = self.after.is_none();
    }
}

/// `Cache-Control` value set on responses that set a pin, when the
/// application set none.
const CACHE_CONTROL_PRIVATE: &str = "private";

/// What a response tells the client's cookies: a pin, the clearing of a
/// pin no longer needed, its replica; the headers to write
/// ([`headers`](Self::headers)).
#[derive(Debug)]
pub struct IssuedPin<'s> {
    written: Option<Written>,
    header_name: Option<&'s HeaderName>,
    clear: Option<String>,
    affinity: Option<String>,
}

/// How a [`PinHeader`] goes into the response's headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderWrite {
    /// Added after any of the same name (the application's own cookies
    /// stay).
    Append,
    /// Set only if the response has none of that name (the application's
    /// own `Cache-Control` stays).
    IfAbsent,
}

/// One header of a pinning response, as bytes: each framework makes its
/// own header types of them.
#[derive(Debug, PartialEq, Eq)]
pub struct PinHeader<'s> {
    /// The header's name, lower case.
    pub name: &'s [u8],
    /// Its value (checked to be a valid header value).
    pub value: Vec<u8>,
    /// Append, or set if absent.
    pub write: HeaderWrite,
}

impl<'s> IssuedPin<'s> {
    /// Nothing to tell yet.
    pub(crate) fn nothing(settings: &'s Settings) -> Self {
        IssuedPin {
            written: None,
            header_name: settings.header_name.as_ref(),
            clear: None,
            affinity: None,
        }
    }

    /// Whether it has no header to write.
    pub fn is_empty(&self) -> bool {
        self.written.is_none() && self.clear.is_none() && self.affinity.is_none()
    }

    /// The headers to write, in order: the pin header (if configured) with
    /// the token, the pin's `Set-Cookie` (or the one that clears it), the
    /// affinity `Set-Cookie`, and, with a pin or its clearing,
    /// `Cache-Control: private` unless the response has a `Cache-Control`.
    /// The affinity cookie alone leaves caching alone: a cached copy only
    /// puts the clients it reaches on the same replica.
    pub fn headers(self) -> impl Iterator<Item = PinHeader<'s>> {
        let IssuedPin {
            written,
            header_name,
            clear,
            affinity,
        } = self;
        let private = written.is_some() || clear.is_some();
        let token = written.as_ref().and_then(|written| {
            header_name.map(|name| PinHeader {
                name: name.as_str().as_bytes(),
                value: written.line.as_bytes()[written.token.clone()].to_vec(),
                write: HeaderWrite::Append,
            })
        });
        let set_cookie = |line: String| PinHeader {
            name: b"set-cookie",
            value: line.into_bytes(),
            write: HeaderWrite::Append,
        };
        let cookie = written.map(|written| set_cookie(written.line));
        let clear = clear.map(set_cookie);
        let affinity = affinity.map(set_cookie);
        let cache = private.then(|| PinHeader {
            name: b"cache-control",
            value: CACHE_CONTROL_PRIVATE.as_bytes().to_vec(),
            write: HeaderWrite::IfAbsent,
        });
        token
            .into_iter()
            .chain(cookie)
            .chain(clear)
            .chain(affinity)
            .chain(cache)
    }
}

impl Settings {
    /// The request's routing: exempt, pinned (and why), the position its
    /// reads must see. `path` is the path the framework routes on;
    /// `cookies` are the `Cookie` header values, `pin_headers` the values of
    /// the [`header_name`](Self::header_name) header. Every valid pin of
    /// both counts: a timed pin wins, else the reads must see every pin's
    /// position (so an older pin planted ahead of the user's own changes
    /// nothing).
    pub fn incoming<'a>(
        &self,
        method: &str,
        path: &str,
        cookies: impl Iterator<Item = &'a [u8]>,
        pin_headers: impl Iterator<Item = &'a [u8]>,
        now: u64,
    ) -> Incoming {
        // Read twice (pins, affinity); no allocation without a `Cookie`.
        let cookies: Vec<&[u8]> = cookies.collect();
        let exempt = self.is_exempt(path);
        let writes = !is_read_method(method);
        let mut pins = Pins::default();
        let pinned_by = if exempt {
            None
        } else if writes {
            Some(PinnedBy::Method)
        } else {
            let cookies = cookie_values(cookies.iter().copied(), self.cookie_name.as_bytes());
            let cookie = pins.add(&self.tokens, cookies, now, PinnedBy::Cookie);
            let header = self.header_name.is_some()
                && pins.add(
                    &self.tokens,
                    header_values(pin_headers),
                    now,
                    PinnedBy::Header,
                );
            if cookie {
                Some(PinnedBy::Cookie)
            } else {
                header.then_some(PinnedBy::Header)
            }
        };
        let affinity = match &self.affinity {
            Some(cookie) if !exempt => cookie.read(cookies.iter().copied()),
            _ => None,
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
        Incoming {
            exempt,
            writes,
            pinned_by,
            after: pins.after,
            affinity,
        }
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
        // Causal pins are learned from the request: a MultiDb with causal
        // reads routed one of its statements.
        let causal = self.causal || request.causal();
        if incoming.exempt {
            None
        } else if incoming.writes && !causal {
            Some(PinnedBy::Method)
        } else if causal && request.wrote() {
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
    /// `now`, carrying `position` (signed with the token), the position the
    /// request's writes reached, if known. A position too long for a token
    /// (many GTID domains or sources) makes a timed pin instead.
    pub fn issue(
        &self,
        now: u64,
        position: Option<&WritePosition>,
        reason: PinnedBy,
        status: u16,
    ) -> IssuedPin<'_> {
        let position = position.map(WritePosition::to_string).filter(|text| {
            let fits = is_valid_position(text.as_bytes());
            if !fits {
                tracing::debug!(
                    target: TARGET,
                    len = text.len(),
                    "position too long for a pin: a timed pin instead",
                );
            }
            fits
        });
        let written = self
            .set_cookie
            .write(&self.tokens, now, position.as_deref());
        tracing::debug!(
            target: TARGET,
            reason = reason.as_str(),
            status,
            pin_secs = self.tokens.pin_secs(),
            "pinning client to the primary",
        );
        crate::metrics::pin_issued(reason);
        IssuedPin {
            written: Some(written),
            ..IssuedPin::nothing(self)
        }
    }

    /// Add to `issued` what the response tells the client besides a new
    /// pin: clear the pin it came with when every replica has reached that
    /// pin's position (`pin_everywhere`, and no new pin), and set its
    /// replica affinity when the request read from another replica than
    /// its cookie named (`read_from`).
    pub fn tell<'s>(
        &'s self,
        issued: &mut IssuedPin<'s>,
        incoming: &Incoming,
        pin_everywhere: bool,
        read_from: Option<usize>,
    ) {
        if issued.written.is_none()
            && pin_everywhere
            && incoming.pinned_by == Some(PinnedBy::Cookie)
        {
            tracing::debug!(target: TARGET, "every replica has the pin's position: clearing it");
            issued.clear = Some(self.set_cookie.clear());
        }
        if let (Some(cookie), Some(replica)) = (&self.affinity, read_from)
            && !incoming.exempt
            && incoming.affinity != Some(replica)
        {
            issued.affinity = Some(cookie.write(replica));
        }
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
    crate::metrics::pin_rejected(reject);
    tracing::trace!(
        target: TARGET,
        source = source.as_str(),
        ?reject,
        "ignored pin token"
    );
}

#[cfg(test)]
mod tests {
    use multidb_core::position::Position;

    use super::*;
    use crate::PinningConfig;

    const NOW: u64 = 1_700_000_000;
    const KEY: [u8; 32] = [7; 32];

    fn get(settings: &Settings, cookies: &[&[u8]]) -> Option<PinnedBy> {
        read_get(settings, cookies).pinned_by()
    }

    fn read_get(settings: &Settings, cookies: &[&[u8]]) -> Incoming {
        settings.incoming("GET", "/", cookies.iter().copied(), [].into_iter(), NOW)
    }

    fn signed() -> Settings {
        PinningConfig::default()
            .signing_key(KEY)
            .compile()
            .expect("valid")
    }

    /// `name=token` of the pin `settings` issues, carrying `position`.
    fn pin(settings: &Settings, position: Option<&WritePosition>) -> String {
        let pin = settings.issue(NOW, position, PinnedBy::Wrote, 200);
        let set_cookie = pin
            .headers()
            .find(|header| header.name == b"set-cookie")
            .expect("a Set-Cookie");
        let line = String::from_utf8(set_cookie.value).expect("ASCII");
        line.split(';').next().unwrap_or_default().to_owned()
    }

    fn lsn(lsn: u64) -> WritePosition {
        WritePosition::new(7, Position::Lsn(lsn))
    }

    #[test]
    fn every_copy_is_read() {
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

    /// Security review 2, first defect: the first valid pin won, so an
    /// older genuine pin planted ahead of the user's own sent the read
    /// right after their write to a lagging replica.
    #[test]
    fn every_valid_pin_counts_so_an_older_one_changes_nothing() {
        let settings = signed();
        let (older, newer) = (
            pin(&settings, Some(&lsn(0x100))),
            pin(&settings, Some(&lsn(0x200))),
        );
        for cookies in [[&older, &newer], [&newer, &older]] {
            let header = format!("{}; {}", cookies[0], cookies[1]);
            let incoming = read_get(&settings, &[header.as_bytes()]);
            assert_eq!(incoming.pinned_by(), Some(PinnedBy::Cookie), "{header}");
            assert_eq!(incoming.after(), Some(&lsn(0x200)), "{header}");
            assert!(!incoming.pinned());
        }

        // Neither of two MariaDB positions reaches the other: the read
        // must see both.
        let mdb = |text| WritePosition::new(7, Position::parse_mariadb(text).expect("valid"));
        let (a, b) = (
            pin(&settings, Some(&mdb("0-1-9,1-1-2"))),
            pin(&settings, Some(&mdb("0-1-3,1-1-8"))),
        );
        let incoming = read_get(&settings, &[a.as_bytes(), b.as_bytes()]);
        assert_eq!(incoming.after(), Some(&mdb("0-1-9,1-1-8")));

        // A timed pin wins, wherever it is; so do positions no server
        // reaches together (another cluster).
        let timed = pin(&settings, None);
        let elsewhere = pin(&settings, Some(&WritePosition::new(8, Position::Lsn(1))));
        for cookies in [[&timed, &newer], [&newer, &timed], [&older, &elsewhere]] {
            let incoming = read_get(&settings, &[cookies[0].as_bytes(), cookies[1].as_bytes()]);
            assert!(
                incoming.pinned() && incoming.after().is_none(),
                "{cookies:?}"
            );
        }

        // The pin header's pins count too.
        let settings = PinningConfig::default()
            .signing_key(KEY)
            .header_name("x-pin")
            .compile()
            .expect("valid");
        let (older, newer) = (
            pin(&settings, Some(&lsn(0x100))),
            pin(&settings, Some(&lsn(0x200))),
        );
        let token = newer.split_once('=').expect("name=token").1;
        let incoming = settings.incoming(
            "GET",
            "/",
            [older.as_bytes()].into_iter(),
            [token.as_bytes()].into_iter(),
            NOW,
        );
        assert_eq!(incoming.pinned_by(), Some(PinnedBy::Cookie));
        assert_eq!(incoming.after(), Some(&lsn(0x200)));
    }

    /// Security review 2, second defect: every well-formed unexpired copy
    /// cost an HMAC, without limit.
    #[test]
    fn signature_checks_are_capped() {
        let settings = signed();
        // Well formed, in the window, signed with another key: only the
        // HMAC tells them from a genuine pin.
        let other = PinningConfig::default()
            .signing_key([8u8; 32])
            .compile()
            .expect("valid");
        let forged = pin(&other, Some(&lsn(0x100)));
        let genuine = pin(&settings, Some(&lsn(0x200)));
        let cookies = |forged_copies: usize| {
            let mut cookies = vec![forged.as_bytes(); forged_copies];
            cookies.push(genuine.as_bytes());
            cookies
        };
        // Within the cap, the genuine pin is found among the forged ones.
        let within = read_get(&settings, &cookies(MAX_PINS_VERIFIED - 1));
        assert_eq!(within.after(), Some(&lsn(0x200)));
        // Past it, the rest is not verified: the genuine pin may be among
        // them, so the request runs pinned rather than read a replica
        // that may lag behind it.
        for copies in [MAX_PINS_VERIFIED, 100] {
            let past = read_get(&settings, &cookies(copies));
            assert_eq!(past.pinned_by(), Some(PinnedBy::Cookie), "{copies}");
            assert!(past.pinned() && past.after().is_none(), "{copies}");
        }
        let forged_only = |copies| get(&settings, &cookies(copies)[..copies]);
        assert_eq!(forged_only(MAX_PINS_VERIFIED), None, "all verified");
        assert_eq!(forged_only(MAX_PINS_VERIFIED + 1), Some(PinnedBy::Cookie));
        // Copies that fail the cheap checks cost no HMAC and do not count.
        let expired = format!("multidb_pin_writes={NOW}.{}", "A".repeat(43));
        let mut cheap = vec![expired.as_bytes(); 100];
        cheap.push(genuine.as_bytes());
        assert_eq!(read_get(&settings, &cheap).after(), Some(&lsn(0x200)));
        assert_eq!(get(&settings, &cheap[..100]), None);
    }

    #[test]
    fn the_pin_header_is_read_with_the_cookies() {
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
        assert!(incoming.pinned());
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
        let settings = signed();
        let position = lsn(0x16B3F28);
        let cookie = pin(&settings, Some(&position));
        let expected = format!(
            "multidb_pin_writes={}:v1.0000000000000007.pg.16b3f28.",
            NOW + 15
        );
        assert!(cookie.starts_with(&expected), "{cookie}");
        let incoming = read_get(&settings, &[cookie.as_bytes()]);
        assert_eq!(incoming.pinned_by(), Some(PinnedBy::Cookie));
        assert_eq!(incoming.after(), Some(&position));
        let timed = pin(&settings, None);
        assert_eq!(get(&settings, &[timed.as_bytes()]), Some(PinnedBy::Cookie));
        assert!(read_get(&settings, &[timed.as_bytes()]).after().is_none());
        // Too long for a token: a timed pin.
        let gtids: Vec<String> = (0..40)
            .map(|domain| format!("{domain}-1-1000000"))
            .collect();
        let long = WritePosition::new(7, Position::parse_mariadb(&gtids.join(",")).expect("valid"));
        let cookie = pin(&settings, Some(&long));
        assert!(!cookie.contains(':'), "{cookie}");
        assert!(read_get(&settings, &[cookie.as_bytes()]).pinned());
    }

    #[test]
    fn the_headers_of_a_pin() {
        let settings = PinningConfig::default()
            .header_name("X-Pin")
            .compile()
            .expect("valid");
        let headers: Vec<PinHeader<'_>> = settings
            .issue(NOW, None, PinnedBy::Method, 201)
            .headers()
            .collect();
        let text = |header: &PinHeader<'_>| String::from_utf8(header.value.clone()).expect("ASCII");
        let [token, cookie, cache] = headers.as_slice() else {
            panic!("three headers: {headers:?}");
        };
        assert_eq!(
            (token.name, token.write),
            (&b"x-pin"[..], HeaderWrite::Append)
        );
        assert_eq!(text(token), (NOW + 15).to_string());
        assert_eq!(
            (cookie.name, cookie.write),
            (&b"set-cookie"[..], HeaderWrite::Append)
        );
        assert!(text(cookie).starts_with(&format!("multidb_pin_writes={}; Max-Age=15;", NOW + 15)));
        assert_eq!(
            (cache.name, cache.write),
            (&b"cache-control"[..], HeaderWrite::IfAbsent)
        );
        assert_eq!(text(cache), "private");
        // Without a pin header, only the cookie and the cache.
        let plain = PinningConfig::default().compile().expect("valid");
        let names: Vec<&[u8]> = plain
            .issue(NOW, None, PinnedBy::Method, 201)
            .headers()
            .map(|header| header.name)
            .collect();
        assert_eq!(names, [&b"set-cookie"[..], b"cache-control"]);
    }
}
