//! The `initializers.multidb` block of a Loco config file, checked once at
//! start: a typo or a bad value stops the app with a message naming the
//! setting, never a silent default.

use std::time::Duration;

use loco_rs::config::Database;
use loco_rs::environment::Environment;
use multidb_seaorm::policy::{LeastOutstanding, PeakEwma, Random, RoundRobin, Weighted};
use multidb_seaorm::{MultiDb, MultiDbBuilder, PinningConfig};
use sea_orm::ConnectOptions;
use serde::{Deserialize, Deserializer};

/// The key of the block under `initializers:`.
pub const SETTINGS_KEY: &str = "multidb";

/// `initializers.multidb` in `config/<environment>.yaml`. Every field is
/// optional but `replicas`; Loco's `<%= get_env(...) %>` works in each.
///
/// ```yaml
/// initializers:
///   multidb:
///     # A list, or one comma-separated string (handy from one variable).
///     replicas: <%= get_env(name="DATABASE_REPLICA_URLS", default="") %>
///     policy: peak_ewma          # least_outstanding | round_robin | random | weighted
///     # weights: [1, 3]          # with `weighted`, one per replica
///     max_replica_lag_ms: 2000
///     causal_reads: true
///     pinning:
///       cookie_name: multidb_pin_writes
///       pin_for_secs: 15
///       secure: true             # default: in production only
///       signing_key: <%= get_env(name="MULTIDB_PIN_KEY", default="") %>
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Replica URLs (SeaORM URLs of the primary's backend).
    #[serde(deserialize_with = "list_or_csv")]
    pub replicas: Vec<String>,
    /// How reads are spread over the usable replicas.
    #[serde(default)]
    pub policy: Policy,
    /// With `policy: weighted`: one share per replica, in order.
    #[serde(default)]
    pub weights: Vec<u32>,
    /// Replicas lagging more get no reads (default: multidb's).
    pub max_replica_lag_ms: Option<u64>,
    /// How often each replica is checked (default: multidb's, 500 ms).
    pub monitor_interval_ms: Option<u64>,
    /// Read-your-writes by replication position (default on).
    pub causal_reads: Option<bool>,
    /// Connect each replica to the database named in `database.uri`
    /// (default `true`): replicas of one cluster have the same databases,
    /// and Loco's per-test databases then reach the replicas too.
    #[serde(default = "yes")]
    pub follow_primary_database: bool,
    /// The pinning middleware.
    #[serde(default)]
    pub pinning: PinSettings,
}

/// `initializers.multidb.pinning`: the cookie that keeps a client that
/// wrote on the primary (or on replicas that reached its write). Its
/// `Debug` leaves the signing key out.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PinSettings {
    /// Default `multidb_pin_writes`.
    pub cookie_name: Option<String>,
    /// Default 15.
    pub pin_for_secs: Option<u64>,
    /// The cookie's `Secure` attribute (default: on in production, off in
    /// the other environments, which serve plain HTTP).
    pub secure: Option<bool>,
    /// The key the pins are signed with, 32 bytes or more; empty or absent:
    /// a random key per process (pins do not survive a restart nor cross
    /// instances).
    pub signing_key: Option<String>,
    /// Path prefixes that never pin nor read a pin (health checks...).
    #[serde(default)]
    pub exempt_path_prefixes: Vec<String>,
    /// Capture the primary's position at the end of every POST, PUT, PATCH
    /// and DELETE, which may have written through `ctx.db` where multidb
    /// cannot see it (default `true`; one round trip per such request).
    #[serde(default = "yes")]
    pub capture_writes_elsewhere: bool,
}

impl std::fmt::Debug for PinSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinSettings")
            .field("cookie_name", &self.cookie_name)
            .field("pin_for_secs", &self.pin_for_secs)
            .field("secure", &self.secure)
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "<redacted>"),
            )
            .field("exempt_path_prefixes", &self.exempt_path_prefixes)
            .field("capture_writes_elsewhere", &self.capture_writes_elsewhere)
            .finish()
    }
}

/// `initializers.multidb.policy`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Load-aware, the default: `policy::PeakEwma`.
    #[default]
    PeakEwma,
    /// The fewest reads in flight: `policy::LeastOutstanding`.
    LeastOutstanding,
    /// Exact turns: `policy::RoundRobin`.
    RoundRobin,
    /// `policy::Random`.
    Random,
    /// Fixed shares from `weights`: `policy::Weighted`.
    Weighted,
}

const fn yes() -> bool {
    true
}

fn list_or_csv<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Urls {
        One(String),
        Many(Vec<String>),
    }
    // An empty `<%= get_env(...) %>` leaves no value: YAML's null.
    let urls = match Option::<Urls>::deserialize(deserializer)? {
        Some(Urls::One(text)) => text.split(',').map(str::to_owned).collect(),
        Some(Urls::Many(list)) => list,
        None => Vec::new(),
    };
    Ok(urls
        .into_iter()
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty())
        .collect())
}

fn refuse(what: impl std::fmt::Display) -> loco_rs::Error {
    loco_rs::Error::Message(format!("config `initializers.{SETTINGS_KEY}`: {what}"))
}

impl Settings {
    /// Read and check the block from Loco's config. `None` when the block is
    /// absent (the app runs on `ctx.db` alone).
    ///
    /// # Errors
    /// A malformed block, an unknown field, weights that do not match the
    /// replicas, a replica URL of another backend than the primary's, a bad
    /// pinning setting: a message naming the setting.
    pub fn from_config(config: &loco_rs::config::Config) -> loco_rs::Result<Option<Self>> {
        let Some(raw) = config
            .initializers
            .as_ref()
            .and_then(|all| all.get(SETTINGS_KEY))
        else {
            return Ok(None);
        };
        let settings: Settings = serde_json::from_value(raw.clone()).map_err(refuse)?;
        settings.check(&config.database.uri)?;
        Ok(Some(settings))
    }

    fn check(&self, primary_uri: &str) -> loco_rs::Result<()> {
        if self.policy == Policy::Weighted && self.weights.len() != self.replicas.len() {
            return Err(refuse(format_args!(
                "`policy: weighted` needs one weight per replica: {} weights for {} replicas",
                self.weights.len(),
                self.replicas.len()
            )));
        }
        if self.policy != Policy::Weighted && !self.weights.is_empty() {
            return Err(refuse("`weights` is only read with `policy: weighted`"));
        }
        let primary = scheme(primary_uri);
        for url in &self.replicas {
            if scheme(url) != primary {
                return Err(refuse(format_args!(
                    "replica `{}` is not a `{primary}:` URL like `database.uri`",
                    redact(url)
                )));
            }
        }
        if self.max_replica_lag_ms == Some(0) || self.monitor_interval_ms == Some(0) {
            return Err(refuse("durations must be above 0 ms"));
        }
        self.pinning_config(&Environment::Production)?;
        Ok(())
    }

    /// The replica URLs to connect, each with the primary's database name
    /// when `follow_primary_database` is on.
    pub fn replica_urls(&self, primary_uri: &str) -> Vec<String> {
        if !self.follow_primary_database {
            return self.replicas.clone();
        }
        let Some(database) = database_of(primary_uri) else {
            return self.replicas.clone();
        };
        self.replicas
            .iter()
            .map(|url| with_database(url, database))
            .collect()
    }

    /// The builder, before the connections: policy, lag, causal reads.
    pub fn builder(&self) -> MultiDbBuilder {
        let mut builder = MultiDb::builder();
        builder = match self.policy {
            Policy::PeakEwma => builder.policy(PeakEwma::new()),
            Policy::LeastOutstanding => builder.policy(LeastOutstanding::new()),
            Policy::RoundRobin => builder.policy(RoundRobin::new()),
            Policy::Random => builder.policy(Random::new()),
            Policy::Weighted => builder.policy(Weighted::new(self.weights.iter().copied())),
        };
        if let Some(ms) = self.max_replica_lag_ms {
            builder = builder.max_replica_lag(Duration::from_millis(ms));
        }
        if let Some(ms) = self.monitor_interval_ms {
            builder = builder.monitor_interval(Duration::from_millis(ms));
        }
        if let Some(causal) = self.causal_reads {
            builder = builder.causal_reads(causal);
        }
        builder
    }

    /// The pinning middleware's configuration.
    ///
    /// # Errors
    /// A setting `PinningConfig` refuses (a short key, a bad cookie name).
    pub fn pinning_config(&self, environment: &Environment) -> loco_rs::Result<PinningConfig> {
        let pin = &self.pinning;
        let mut config = PinningConfig::default().secure(*environment == Environment::Production);
        if let Some(name) = &pin.cookie_name {
            config = config.cookie_name(name.clone());
        }
        if let Some(secs) = pin.pin_for_secs {
            config = config.pin_for(Duration::from_secs(secs));
        }
        if let Some(secure) = pin.secure {
            config = config.secure(secure);
        }
        if let Some(key) = pin.signing_key.as_deref().filter(|key| !key.is_empty()) {
            config = config.signing_key(key);
        }
        for prefix in &pin.exempt_path_prefixes {
            config = config.exempt_path_prefix(prefix.clone());
        }
        config
            .validate()
            .map_err(|error| refuse(format_args!("pinning: {error}")))?;
        Ok(config)
    }
}

/// A URL's scheme, `postgresql` read as `postgres`; empty when it has none.
fn scheme(url: &str) -> &str {
    match url.split_once(':') {
        Some(("postgresql", _)) => "postgres",
        Some((scheme, rest)) if !rest.is_empty() => scheme,
        _ => "",
    }
}

/// SeaORM connect options for `url` with Loco's pool settings.
pub(crate) fn connect_options(url: &str, database: &Database) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(database.max_connections)
        .min_connections(database.min_connections)
        .connect_timeout(Duration::from_millis(database.connect_timeout))
        .idle_timeout(Duration::from_millis(database.idle_timeout))
        .sqlx_logging(database.enable_logging);
    if let Some(ms) = database.acquire_timeout {
        options.acquire_timeout(Duration::from_millis(ms));
    }
    options
}

/// The database name in a URL's path (`postgres://h/app?x` → `app`).
fn database_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let path = &rest[rest.find('/')? + 1..];
    let name = path.split(['?', '#']).next().unwrap_or_default();
    (!name.is_empty()).then_some(name)
}

/// `url` with its database name replaced by (or set to) `database`.
fn with_database(url: &str, database: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let query_at = rest.find(['?', '#']).unwrap_or(rest.len());
    let (head, query) = rest.split_at(query_at);
    let authority = head.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => {
            let (userinfo, host) = rest.rsplit_once('@').unwrap_or(("", rest));
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: serde_json::Value) -> Result<Settings, serde_json::Error> {
        serde_json::from_value(yaml)
    }

    #[test]
    fn replicas_are_a_list_or_one_comma_separated_string() -> Result<(), serde_json::Error> {
        let one = parse(serde_json::json!({ "replicas": "postgres://a/x, postgres://b/x," }))?;
        assert_eq!(one.replicas, ["postgres://a/x", "postgres://b/x"]);
        let many = parse(serde_json::json!({ "replicas": ["postgres://a/x"] }))?;
        assert_eq!(many.replicas, ["postgres://a/x"]);
        assert!(
            parse(serde_json::json!({ "replicas": "" }))?
                .replicas
                .is_empty()
        );
        assert!(
            parse(serde_json::json!({ "replicas": null }))?
                .replicas
                .is_empty()
        );
        assert!(
            parse(serde_json::json!({})).is_err(),
            "`replicas` must be written"
        );
        Ok(())
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        assert!(parse(serde_json::json!({ "replica": [] })).is_err());
        assert!(parse(serde_json::json!({ "replicas": [], "policy": "fastest" })).is_err());
        let weights = parse(serde_json::json!({
            "replicas": ["postgres://a/x"], "policy": "weighted", "weights": [1, 2]
        }));
        let error = weights.map(|s| s.check("postgres://p/x"));
        assert!(matches!(error, Ok(Err(_))));
        let mysql = parse(serde_json::json!({ "replicas": ["mysql://u:secret@a/x"] }));
        let message = mysql.map(|s| s.check("postgres://p/x").map_err(|e| e.to_string()));
        let Ok(Err(message)) = message else {
            panic!("a MySQL replica of a PostgreSQL primary is refused")
        };
        assert!(message.contains("mysql://u@a/x"), "{message}");
        assert!(!message.contains("secret"), "{message}");
        let short_key = parse(serde_json::json!({
            "replicas": [], "pinning": { "signing_key": "short" }
        }));
        assert!(matches!(
            short_key.map(|s| s.check("postgres://p/x")),
            Ok(Err(_))
        ));
    }

    #[test]
    fn replicas_follow_the_primary_database() -> Result<(), serde_json::Error> {
        let settings = parse(serde_json::json!({
            "replicas": ["postgres://r1:5433/app_test?sslmode=disable", "postgres://r2"]
        }))?;
        assert_eq!(
            settings.replica_urls("postgres://p/_loco_test_ab12_1700000000"),
            [
                "postgres://r1:5433/_loco_test_ab12_1700000000?sslmode=disable",
                "postgres://r2/_loco_test_ab12_1700000000",
            ]
        );
        Ok(())
    }
}
