//! [`ConfigError`]: why a [`PinningConfig`](crate::PinningConfig) was rejected.

use std::fmt;
use std::time::Duration;

use crate::config::MIN_SIGNING_KEY_LEN;

/// Why a [`PinningConfig`](crate::PinningConfig) was rejected: each variant
/// names the setter to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The cookie name is empty or not an RFC 6265 token.
    InvalidCookieName {
        /// The rejected name.
        name: String,
    },
    /// A `__Secure-` or `__Host-` cookie name whose attributes browsers
    /// would reject.
    CookiePrefixRequirements {
        /// The cookie name.
        name: String,
        /// What the prefix requires.
        requirement: &'static str,
    },
    /// The pin duration is shorter than 1 second or longer than 400 days.
    PinDurationOutOfRange {
        /// The rejected duration.
        duration: Duration,
    },
    /// The cookie path does not start with `/` or holds a character not
    /// allowed in it.
    InvalidCookiePath {
        /// The rejected path.
        path: String,
    },
    /// The cookie domain is empty or holds a character not allowed in it.
    InvalidCookieDomain {
        /// The rejected domain.
        domain: String,
    },
    /// `SameSite=None` without `Secure`: browsers reject such cookies.
    SameSiteNoneRequiresSecure,
    /// A signing key is shorter than [`MIN_SIGNING_KEY_LEN`] bytes.
    SigningKeyTooShort {
        /// Its position in the list given to
        /// [`signing_keys`](crate::PinningConfig::signing_keys) (0 for
        /// [`signing_key`](crate::PinningConfig::signing_key)).
        index: usize,
        /// Its length in bytes.
        len: usize,
    },
    /// [`signing_keys`](crate::PinningConfig::signing_keys) was given an empty list.
    NoSigningKeys,
    /// The pin header name is not a valid HTTP header name, or is `Cookie`
    /// or `Set-Cookie`.
    InvalidHeaderName {
        /// The rejected name.
        name: String,
    },
    /// An exempt path prefix does not start with `/`.
    InvalidExemptPathPrefix {
        /// The rejected prefix.
        prefix: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidCookieName { name } => write!(
                f,
                "invalid pinning cookie name {name:?}: it must be a non-empty RFC 6265 token"
            ),
            ConfigError::CookiePrefixRequirements { name, requirement } => {
                write!(f, "pinning cookie name {name:?}: {requirement}")
            }
            ConfigError::PinDurationOutOfRange { duration } => write!(
                f,
                "pin duration {duration:?} out of range: it must be between 1 s and 400 days"
            ),
            ConfigError::InvalidCookiePath { path } => write!(
                f,
                "invalid pinning cookie path {path:?}: it must start with `/` and hold only printable ASCII other than `;`"
            ),
            ConfigError::InvalidCookieDomain { domain } => write!(
                f,
                "invalid pinning cookie domain {domain:?}: letters, digits, `-` and `.` only"
            ),
            ConfigError::SameSiteNoneRequiresSecure => {
                write!(f, "a `SameSite=None` pinning cookie needs `secure(true)`")
            }
            ConfigError::SigningKeyTooShort { index, len } => write!(
                f,
                "pinning signing key #{index} is {len} bytes long: at least {MIN_SIGNING_KEY_LEN} are required"
            ),
            ConfigError::NoSigningKeys => {
                write!(f, "`signing_keys` was given no key: give at least one")
            }
            ConfigError::InvalidHeaderName { name } => write!(
                f,
                "invalid pinning header name {name:?}: it must be a valid HTTP header name other than Cookie and Set-Cookie"
            ),
            ConfigError::InvalidExemptPathPrefix { prefix } => {
                write!(f, "exempt path prefix {prefix:?} must start with `/`")
            }
        }
    }
}

impl std::error::Error for ConfigError {}
