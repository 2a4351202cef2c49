//! [`PinningConfig`], its validation, and the [`Settings`] it compiles to,
//! which the middleware runs with.

use std::fmt;
use std::time::Duration;

use http::HeaderName;

use crate::cookie::{AffinityCookie, SetCookie};
use crate::error::ConfigError;
use crate::token::Tokens;

/// The default name of the pinning cookie (django-multidb-router's
/// `MULTIDB_PINNING_COOKIE`).
pub const DEFAULT_COOKIE_NAME: &str = "multidb_pin_writes";

/// How long a client stays pinned after it wrote, by default
/// (django-multidb-router's `MULTIDB_PINNING_SECONDS`).
pub const DEFAULT_PIN_DURATION: Duration = Duration::from_secs(15);

/// The shortest signing key accepted: 32 bytes, the output size of
/// SHA-256, as RFC 2104 recommends for HMAC keys.
pub const MIN_SIGNING_KEY_LEN: usize = 32;

/// The longest pin accepted: 400 days, the cap browsers put on a cookie's
/// lifetime (RFC 6265bis).
pub const MAX_PIN_DURATION: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// The `SameSite` attribute of the pinning cookie.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Strict`: sent only on same-site requests, not even when the
    /// user follows a link from another site.
    Strict,
    /// `SameSite=Lax` (the default): sent on same-site requests and on
    /// top-level navigations from other sites.
    #[default]
    Lax,
    /// `SameSite=None`: sent on cross-site requests too. Browsers require
    /// `Secure` with it, so [`PinningConfig::secure`] must stay `true`.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// Configuration of the pinning middleware (tower's `PinningLayer`,
/// actix-web's `PinningMiddleware`; both take this same type): the cookie,
/// how long a pin lasts, how pins are signed, which requests are exempt.
///
/// The setters never fail; the whole configuration is checked once, by
/// [`PinningConfig::validate`] or when the middleware is built
/// (`PinningLayer::new`, `PinningMiddleware::new`), which return a
/// [`ConfigError`]. Nothing is checked, and nothing can fail, while
/// requests are served.
///
/// | setter | default |
/// |---|---|
/// | [`cookie_name`](Self::cookie_name) | `multidb_pin_writes` |
/// | [`pin_for`](Self::pin_for) | 15 s |
/// | [`secure`](Self::secure) | `true` |
/// | [`http_only`](Self::http_only) | `true` |
/// | [`same_site`](Self::same_site) | [`SameSite::Lax`] |
/// | [`cookie_path`](Self::cookie_path) | `/` |
/// | [`cookie_domain`](Self::cookie_domain) | none (host-only cookie) |
/// | [`pin_on_any_write`](Self::pin_on_any_write) | `true` |
/// | [`signing_key`](Self::signing_key) / [`signing_keys`](Self::signing_keys) | none (unsigned) |
/// | [`header_name`](Self::header_name) | none (cookie only) |
/// | [`exempt_path_prefix`](Self::exempt_path_prefix) | none |
/// | [`catch_panics`](Self::catch_panics) | `true` |
/// | [`causal`](Self::causal) | `false` |
/// | [`replica_affinity`](Self::replica_affinity) | `true` |
///
/// ```
/// use std::time::Duration;
/// use multidb_http::{PinningConfig, SameSite};
///
/// let config = PinningConfig::default()
///     .cookie_name("pin")
///     .pin_for(Duration::from_secs(5))
///     .same_site(SameSite::Strict)
///     .signing_key(b"0123456789abcdef0123456789abcdef")
///     .header_name("x-multidb-pin")
///     .exempt_path_prefix("/static")
///     .exempt_path_prefix("/health");
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone)]
pub struct PinningConfig {
    cookie_name: String,
    pin_for: Duration,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    cookie_path: String,
    cookie_domain: Option<String>,
    pin_on_any_write: bool,
    signing_keys: Option<Vec<Vec<u8>>>,
    header_name: Option<String>,
    exempt_path_prefixes: Vec<String>,
    catch_panics: bool,
    causal: bool,
    replica_affinity: bool,
}

impl Default for PinningConfig {
    fn default() -> Self {
        PinningConfig {
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            pin_for: DEFAULT_PIN_DURATION,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            cookie_path: "/".to_owned(),
            cookie_domain: None,
            pin_on_any_write: true,
            signing_keys: None,
            header_name: None,
            exempt_path_prefixes: Vec::new(),
            catch_panics: true,
            causal: false,
            replica_affinity: true,
        }
    }
}

impl fmt::Debug for PinningConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinningConfig")
            .field("cookie_name", &self.cookie_name)
            .field("pin_for", &self.pin_for)
            .field("secure", &self.secure)
            .field("http_only", &self.http_only)
            .field("same_site", &self.same_site)
            .field("cookie_path", &self.cookie_path)
            .field("cookie_domain", &self.cookie_domain)
            .field("pin_on_any_write", &self.pin_on_any_write)
            .field(
                "signing_keys",
                &self.signing_keys.as_ref().map(|keys| Redacted(keys.len())),
            )
            .field("header_name", &self.header_name)
            .field("exempt_path_prefixes", &self.exempt_path_prefixes)
            .field("catch_panics", &self.catch_panics)
            .field("causal", &self.causal)
            .field("replica_affinity", &self.replica_affinity)
            .finish()
    }
}

/// Prints how many keys there are, never the keys.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} key(s) redacted>", self.0)
    }
}

impl PinningConfig {
    /// The cookie's name (default `multidb_pin_writes`). It must be an
    /// RFC 6265 token (letters, digits and ``!#$%&'*+-.^_`|~``). A
    /// `__Secure-` name requires [`secure`](Self::secure); a `__Host-` name
    /// requires `secure`, path `/` and no domain.
    ///
    /// **`__Host-multidb_pin_writes` is recommended** behind HTTPS: browsers
    /// then accept the cookie only from this exact host, over HTTPS, for
    /// the whole site, so a sibling subdomain cannot plant copies of it.
    /// (Planted copies never switch pinning off — every copy is read, and
    /// every valid one counts — but with the prefix there are none.)
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// How long the client stays pinned after it wrote (default 15 s), so
    /// that the replicas catch up before it reads from them again. It must be
    /// between 1 second and 400 days; fractions of a second are rounded up.
    pub fn pin_for(mut self, duration: Duration) -> Self {
        self.pin_for = duration;
        self
    }

    /// The cookie's `Secure` attribute (default `true`): browsers send it
    /// back only over HTTPS, and over plain HTTP only to `localhost`
    /// (Chrome, Firefox, recent Safari). Over plain HTTP on any other host
    /// a browser drops the cookie, and read-your-writes across requests is
    /// lost (within one request it still holds); set `false` there.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The cookie's `HttpOnly` attribute (default `true`): page scripts
    /// cannot read it. They have no reason to.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// The cookie's `SameSite` attribute (default [`SameSite::Lax`]).
    /// [`SameSite::None`] requires [`secure`](Self::secure).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// The cookie's `Path` attribute (default `/`, the whole site). It must
    /// start with `/` and hold only printable ASCII other than `;`.
    pub fn cookie_path(mut self, path: impl Into<String>) -> Self {
        self.cookie_path = path.into();
        self
    }

    /// The cookie's `Domain` attribute (default: none, so the cookie goes
    /// back only to the host that set it). Set it to share the pin with
    /// subdomains, e.g. `example.com`. Letters, digits, `-` and `.` only.
    pub fn cookie_domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie_domain = Some(domain.into());
        self
    }

    /// Whether a request during which a write statement actually ran pins
    /// the client, whatever its method (default `true`). With `false`, only
    /// the method, `#[db_write]` / [`mark_db_write`](multidb_core::context::mark_db_write)
    /// and the [`DbWrite`](crate::DbWrite) response marker do, as in
    /// django-multidb-router.
    pub fn pin_on_any_write(mut self, pin: bool) -> Self {
        self.pin_on_any_write = pin;
        self
    }

    /// Sign pins with this key (at least 32 bytes; use random bytes, e.g.
    /// 32 bytes from a secrets manager). Replaces any key set before.
    ///
    /// Why, and what a key does and does not stop:
    /// [sign your pins](crate#sign-your-pins).
    pub fn signing_key(self, key: impl AsRef<[u8]>) -> Self {
        self.signing_keys([key])
    }

    /// Sign pins with the first key and accept pins signed with any of them:
    /// key rotation. To rotate, put the new key first and keep the old one
    /// second for at least the pin duration. Each key must be at least 32
    /// bytes, and the list must not be empty. Replaces any key set before.
    pub fn signing_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        self.signing_keys = Some(keys.into_iter().map(|k| k.as_ref().to_vec()).collect());
        self
    }

    /// Also accept the pin in this request header, and send it back in the
    /// same response header when pinning (default: off). For API clients
    /// that keep no cookies: they copy the response header's value into the
    /// same request header on their next requests (and may keep doing so
    /// until it expires; an expired value is simply ignored). The cookie is
    /// still set. Browser scripts reading it cross-origin need it in the
    /// CORS `Access-Control-Expose-Headers`.
    pub fn header_name(mut self, name: impl Into<String>) -> Self {
        self.header_name = Some(name.into());
        self
    }

    /// Exempt requests whose path is `prefix` or below it (`/static` exempts
    /// `/static` and `/static/app.js`, not `/statics`): they are never pinned
    /// and never get a pin, whatever their method, though they still run in
    /// a fresh routing context. Repeatable. The prefix must start with `/`.
    pub fn exempt_path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.exempt_path_prefixes.push(prefix.into());
        self
    }

    /// Catch a handler that panics and answer `500 Internal Server Error`
    /// *with* the pin (default `true`).
    ///
    /// A handler may panic after its write committed. actix-web catches no
    /// panic (the connection is dropped with no response), nor do axum and
    /// hyper, and a panic-catching layer outside this one (tower-http's
    /// `CatchPanicLayer`) makes its 500 after the pinning middleware is
    /// gone: either way the client is not pinned, and its retry or reload
    /// reads a lagging replica. So by default the middleware catches the
    /// panic itself, logs it (`error`, target `multidb::http`) and answers
    /// an empty 500 that pins the client as any response of that request
    /// would. A panic-catching layer *inside* this one (whose own 500
    /// passes through this middleware and is pinned) leaves it nothing to
    /// catch. Turn it off only to let panics unwind past this middleware
    /// on purpose: their clients are then not pinned.
    pub fn catch_panics(mut self, catch: bool) -> Self {
        self.catch_panics = catch;
        self
    }

    /// Pin only on real writes in every request, even one that ran no
    /// statement through a `MultiDb` (default `false`).
    ///
    /// You rarely need it: the mode is learned from each request. When a
    /// `MultiDb` with causal reads on (its default on PostgreSQL and
    /// MariaDB/MySQL, [`causal_reads`](https://docs.rs/multidb-seaorm)) routed
    /// a statement of the request, the request earns a pin only by a real
    /// write, `#[db_write]` / `mark_db_write` or [`DbWrite`](crate::DbWrite),
    /// not by its method alone — a POST that failed validation, or a 404,
    /// has no position to wait for. A request that ran no statement through
    /// a `MultiDb` keeps django's rule (any unsafe method pins, for 15 s),
    /// because the layer cannot tell whether it wrote some other way (through
    /// `db.primary()`, another pool); `true` drops that safety net too.
    ///
    /// Either way, a pin carries the replication position the request's
    /// writes reached, when its `MultiDb` has one; a request that comes
    /// with such a pin reads from any replica that has reached it, else the
    /// primary, so the client is back on the replicas as soon as they
    /// caught up. The cookie's expiry still caps the pin: a forged position
    /// far ahead (on an unsigned cookie) sends the client's reads to the
    /// primary only until then.
    pub fn causal(mut self, causal: bool) -> Self {
        self.causal = causal;
        self
    }

    /// Keep each client on one replica across its requests (default
    /// `true`), so that it never sees data go back in time: replicas lag by
    /// different amounts, and a client sent to the next one may see a row
    /// it saw a moment ago disappear. The replica a request read from goes
    /// into a cookie named after the pin cookie, `<cookie_name>_replica`
    /// (a session cookie with the same attributes), and the client's next
    /// requests read from that replica first, while it is usable (up, not
    /// lagging past the limit, and, for a causal read, at or past the
    /// position it must see); when it is not, the read goes elsewhere and
    /// the cookie follows.
    ///
    /// Why a replica and not a signed "seen up to" position: a position
    /// would have to be set on nearly every response (positions advance
    /// with every write), costing a `Set-Cookie` (and uncacheable
    /// responses) and an HMAC per request, and the exact position a read
    /// was served at is not known without one more round trip. The replica
    /// changes rarely: the cookie is set on a client's first read from a
    /// replica and when its replica stops being usable, never otherwise;
    /// it needs no signature (a client that picks its replica gains
    /// nothing); and a response cached with it by a CDN only puts the
    /// clients it reaches on the same replica, which keeps them monotonic.
    /// What it cannot do: keep a client that drops cookies monotonic, or
    /// a client whose replica becomes unusable (it moves to another, which
    /// may be behind, once).
    ///
    /// ```
    /// use multidb_http::PinningConfig;
    /// let config = PinningConfig::default().replica_affinity(false);
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn replica_affinity(mut self, affinity: bool) -> Self {
        self.replica_affinity = affinity;
        self
    }

    /// Check the configuration: what building the middleware checks,
    /// without building anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.compile().map(drop)
    }

    /// Check everything and precompute what each request needs.
    ///
    /// Middleware crates call it once, when they are built
    /// (`__private::compile`).
    pub(crate) fn compile(&self) -> Result<Settings, ConfigError> {
        let name = &self.cookie_name;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ConfigError::InvalidCookieName { name: name.clone() });
        }
        if self.pin_for < Duration::from_secs(1) || self.pin_for > MAX_PIN_DURATION {
            return Err(ConfigError::PinDurationOutOfRange {
                duration: self.pin_for,
            });
        }
        let path = &self.cookie_path;
        if !path.starts_with('/') || !path.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';') {
            return Err(ConfigError::InvalidCookiePath { path: path.clone() });
        }
        if let Some(domain) = &self.cookie_domain {
            let ok = !domain.trim_start_matches('.').is_empty()
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(ConfigError::InvalidCookieDomain {
                    domain: domain.clone(),
                });
            }
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::SameSiteNoneRequiresSecure);
        }
        // Cookie name prefixes (RFC 6265bis): browsers reject such cookies
        // unless the attributes match, so a mismatch would silently never pin.
        let prefix_error = |requirement| ConfigError::CookiePrefixRequirements {
            name: name.clone(),
            requirement,
        };
        if starts_with_ignore_case(name, "__Secure-") && !self.secure {
            return Err(prefix_error("a `__Secure-` cookie needs `secure(true)`"));
        }
        if starts_with_ignore_case(name, "__Host-")
            && (!self.secure || path != "/" || self.cookie_domain.is_some())
        {
            return Err(prefix_error(
                "a `__Host-` cookie needs `secure(true)`, path `/` and no domain",
            ));
        }

        let signer = match &self.signing_keys {
            None => None,
            Some(keys) if keys.is_empty() => return Err(ConfigError::NoSigningKeys),
            Some(keys) => {
                if let Some((index, key)) = keys
                    .iter()
                    .enumerate()
                    .find(|(_, key)| key.len() < MIN_SIGNING_KEY_LEN)
                {
                    return Err(ConfigError::SigningKeyTooShort {
                        index,
                        len: key.len(),
                    });
                }
                Some(keys.as_slice())
            }
        };

        let header_name = match &self.header_name {
            None => None,
            Some(raw) => match HeaderName::from_bytes(raw.as_bytes()) {
                Ok(header)
                    if header != http::header::COOKIE && header != http::header::SET_COOKIE =>
                {
                    Some(header)
                }
                _ => return Err(ConfigError::InvalidHeaderName { name: raw.clone() }),
            },
        };

        for prefix in &self.exempt_path_prefixes {
            if !prefix.starts_with('/') {
                return Err(ConfigError::InvalidExemptPathPrefix {
                    prefix: prefix.clone(),
                });
            }
        }

        let mut attributes = format!("; Path={path}");
        if let Some(domain) = &self.cookie_domain {
            attributes.push_str("; Domain=");
            attributes.push_str(domain);
        }
        attributes.push_str("; SameSite=");
        attributes.push_str(self.same_site.as_str());
        if self.http_only {
            attributes.push_str("; HttpOnly");
        }
        if self.secure {
            attributes.push_str("; Secure");
        }

        let whole_secs = self.pin_for.as_secs();
        let pin_secs = if self.pin_for.subsec_nanos() > 0 {
            whole_secs + 1
        } else {
            whole_secs
        };

        Ok(Settings {
            cookie_name: name.clone(),
            tokens: Tokens::new(name, pin_secs, signer),
            affinity: self
                .replica_affinity
                .then(|| AffinityCookie::new(name, attributes.clone())),
            set_cookie: SetCookie::new(name, pin_secs, attributes),
            pin_on_any_write: self.pin_on_any_write,
            catch_panics: self.catch_panics,
            causal: self.causal,
            header_name,
            exempt_path_prefixes: self
                .exempt_path_prefixes
                .iter()
                .map(|p| p.trim_end_matches('/').to_owned())
                .collect(),
        })
    }
}

/// RFC 9110 `tchar`, which RFC 6265 uses for cookie names.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The checked configuration, ready for requests: what the middleware of
/// each framework runs with (see `crate::__private`).
pub struct Settings {
    pub(crate) cookie_name: String,
    pub(crate) tokens: Tokens,
    pub(crate) set_cookie: SetCookie,
    /// The replica affinity cookie, unless turned off.
    pub(crate) affinity: Option<AffinityCookie>,
    pub(crate) pin_on_any_write: bool,
    pub(crate) catch_panics: bool,
    pub(crate) causal: bool,
    pub(crate) header_name: Option<HeaderName>,
    /// Without trailing `/` (`/` itself becomes the empty string, which
    /// exempts everything).
    pub(crate) exempt_path_prefixes: Vec<String>,
}

impl Settings {
    /// Whether `path` is one of the exempt prefixes or below one.
    pub(crate) fn is_exempt(&self, path: &str) -> bool {
        self.exempt_path_prefixes.iter().any(|prefix| {
            path.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// The pin header, if configured (lower case).
    pub fn header_name(&self) -> Option<&HeaderName> {
        self.header_name.as_ref()
    }

    /// Whether to catch a panicking handler ([`PinningConfig::catch_panics`]).
    pub fn catch_panics(&self) -> bool {
        self.catch_panics
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("cookie_name", &self.cookie_name)
            .field("pin_secs", &self.tokens.pin_secs())
            .field("set_cookie", &self.set_cookie)
            .field("affinity", &self.affinity)
            .field("pin_on_any_write", &self.pin_on_any_write)
            .field("catch_panics", &self.catch_panics)
            .field("signed", &self.tokens.signed())
            .field("header_name", &self.header_name)
            .field("exempt_path_prefixes", &self.exempt_path_prefixes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_second_durations_round_up() {
        let s = PinningConfig::default()
            .pin_for(Duration::from_millis(1500))
            .compile()
            .expect("valid");
        assert_eq!(s.tokens.pin_secs(), 2);
    }
}
