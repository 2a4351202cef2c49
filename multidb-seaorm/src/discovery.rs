//! Replicas discovered by DNS (feature `dns`): the replica set is kept
//! equal to what a name resolves to, as GitLab's load balancer does.
//!
//! A background task resolves the name (A/AAAA records with the URL's
//! port, or SRV records that carry the ports), adds the new addresses with
//! [`MultiDb::add_replica`]'s checks and removes the ones gone (drained:
//! reads in flight finish, then the pool closes). An empty answer or a
//! failing resolver keeps the current set. It resolves again after the
//! refresh interval, or the records' TTL when shorter, plus up to 10 %
//! jitter, so that many instances do not ask together.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{ResolveError, Resolver};
use sea_orm::{ConnectOptions, Database};

use crate::inner::Inner;
use crate::multidb::MultiDb;
use crate::replica_set::ReplicaId;

const TARGET: &str = "multidb::discovery";

/// How replicas are found by DNS; give it to
/// [`MultiDbBuilder::discover_replicas`](crate::MultiDbBuilder::discover_replicas).
///
/// The URL is a replica URL whose host is the name to resolve: with
/// [`a_records`](Self::a_records) each address it resolves to becomes a
/// replica on the URL's port; with [`srv_records`](Self::srv_records) each
/// SRV record's target and port do.
///
/// ```
/// use std::time::Duration;
/// use multidb_seaorm::Discovery;
///
/// let discovery = Discovery::a_records("postgres://app@replicas.db.internal:5432/app")
///     .refresh(Duration::from_secs(30));
/// ```
#[derive(Clone, Debug)]
pub struct Discovery {
    url: String,
    srv: bool,
    refresh: Duration,
    nameserver: Option<SocketAddr>,
}

impl Discovery {
    /// Replicas at every A/AAAA address of the URL's host, on its port.
    pub fn a_records(url: impl Into<String>) -> Self {
        Discovery {
            url: url.into(),
            srv: false,
            refresh: Duration::from_secs(30),
            nameserver: None,
        }
    }

    /// Replicas at the target and port of every SRV record of the URL's
    /// host (such as `_postgresql._tcp.replicas.db.internal`).
    pub fn srv_records(url: impl Into<String>) -> Self {
        Discovery {
            srv: true,
            ..Self::a_records(url)
        }
    }

    /// Resolve again this often (default 30 s), or at the records' TTL
    /// when it is shorter; plus up to 10 % jitter.
    pub fn refresh(mut self, every: Duration) -> Self {
        self.refresh = every;
        self
    }

    /// Ask this DNS server (UDP) instead of the system's (`/etc/resolv.conf`).
    pub fn nameserver(mut self, server: SocketAddr) -> Self {
        self.nameserver = Some(server);
        self
    }

    /// The URL's host, and the URL around it.
    fn parts(&self) -> Option<(String, String, String, u16)> {
        let (scheme, rest) = self.url.split_once("://")?;
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (user, host_port) = match authority.rsplit_once('@') {
            Some((user, host_port)) => (format!("{user}@"), host_port),
            None => (String::new(), authority),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (host_port, default_port(scheme)?),
        };
        Some((
            format!("{scheme}://{user}"),
            host.to_owned(),
            tail.to_owned(),
            port,
        ))
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" | "postgresql" => Some(5432),
        "mysql" | "mariadb" => Some(3306),
        _ => None,
    }
}

/// The discovery task's state.
struct Discovered {
    discovery: Discovery,
    resolver: Resolver<TokioConnectionProvider>,
    /// `host:port` → the replica added for it.
    members: BTreeMap<(String, u16), ReplicaId>,
}

/// Resolve once, reconcile, then keep doing so in the background (the
/// task ends with the `MultiDb`). A wrong URL or resolver configuration is
/// an error now.
pub(crate) async fn start(db: &MultiDb, discovery: Discovery) -> Result<(), String> {
    if discovery.parts().is_none() {
        return Err(format!(
            "discover_replicas: cannot read a host and port from {}",
            crate::error::redact_url(&discovery.url)
        ));
    }
    let config = match discovery.nameserver {
        Some(server) => {
            let mut config = ResolverConfig::new();
            config.add_name_server(NameServerConfig::new(server, Protocol::Udp));
            config
        }
        None => {
            hickory_resolver::system_conf::read_system_conf()
                .map_err(|error| format!("discover_replicas: {error}"))?
                .0
        }
    };
    let mut options = ResolverOpts::default();
    // Our own schedule honours the TTL; a cache would hide changes.
    options.cache_size = 0;
    options.timeout = Duration::from_secs(2);
    options.attempts = 2;
    let resolver = Resolver::builder_with_config(config, TokioConnectionProvider::default())
        .with_options(options)
        .build();
    let mut state = Discovered {
        discovery,
        resolver,
        members: BTreeMap::new(),
    };
    let wait = state.refresh(db).await;
    let weak = Arc::downgrade(&db.inner);
    tokio::spawn(run(weak, state, wait));
    Ok(())
}

async fn run(weak: Weak<Inner>, mut state: Discovered, mut wait: Duration) {
    loop {
        tokio::time::sleep(wait).await;
        let Some(inner) = weak.upgrade().filter(|inner| !inner.is_closed()) else {
            break;
        };
        wait = state.refresh(&MultiDb { inner }).await;
    }
}

impl Discovered {
    /// Resolve, add and remove; how long to wait for the next time.
    async fn refresh(&mut self, db: &MultiDb) -> Duration {
        let every = self.discovery.refresh;
        let (found, valid_until) = match self.resolve().await {
            Ok((found, _)) if found.is_empty() => {
                tracing::warn!(target: TARGET, "DNS answer empty: keeping the current replicas");
                return jittered(every);
            }
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(target: TARGET, %error, "DNS resolution failed: keeping the current replicas");
                return jittered(every);
            }
        };
        let gone: Vec<(String, u16)> = self
            .members
            .keys()
            .filter(|address| !found.contains(*address))
            .cloned()
            .collect();
        for address in gone {
            if let Some(id) = self.members.remove(&address) {
                let _ = db.remove_replica(id).await;
            }
        }
        for address in found {
            if !self.members.contains_key(&address) {
                match self.add(db, &address).await {
                    Ok(id) => {
                        self.members.insert(address, id);
                    }
                    Err(error) => tracing::warn!(
                        target: TARGET, host = %address.0, port = address.1, %error,
                        "discovered replica not added (tried again at the next refresh)"
                    ),
                }
            }
        }
        let ttl = valid_until.saturating_duration_since(Instant::now());
        jittered(if ttl.is_zero() { every } else { every.min(ttl) })
    }

    async fn add(&self, db: &MultiDb, (host, port): &(String, u16)) -> Result<ReplicaId, String> {
        let Some((before, _, after, _)) = self.discovery.parts() else {
            return Err("no host in the URL".to_owned());
        };
        let host_in_url = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let mut options = ConnectOptions::new(format!("{before}{host_in_url}:{port}{after}"));
        options
            .connect_timeout(crate::config::DEFAULT_REPLICA_TIMEOUT)
            .acquire_timeout(crate::config::DEFAULT_REPLICA_TIMEOUT);
        let connection = Database::connect(options)
            .await
            .map_err(|error| error.to_string())?;
        db.join(
            connection,
            Some(format!("{host}:{port}")),
            Some((host.clone(), *port)),
        )
        .await
        .map_err(|error| error.to_string())
    }

    /// The addresses the name resolves to now, and until when the answer
    /// is valid.
    async fn resolve(&self) -> Result<(BTreeSet<(String, u16)>, Instant), ResolveError> {
        let Some((_, host, _, port)) = self.discovery.parts() else {
            return Ok((BTreeSet::new(), Instant::now()));
        };
        if self.discovery.srv {
            let answer = self.resolver.srv_lookup(host.as_str()).await?;
            let found = answer
                .iter()
                .map(|srv| {
                    let target = srv.target().to_utf8();
                    (target.trim_end_matches('.').to_owned(), srv.port())
                })
                .collect();
            Ok((found, answer.as_lookup().valid_until()))
        } else {
            let answer = self.resolver.lookup_ip(host.as_str()).await?;
            let found = answer.iter().map(|ip| (ip.to_string(), port)).collect();
            Ok((found, answer.valid_until()))
        }
    }
}

/// `every` plus up to 10 % jitter, at least 100 ms.
fn jittered(every: Duration) -> Duration {
    use std::hash::{BuildHasher, RandomState};
    let spread = every.as_millis() / 10;
    let jitter = if spread == 0 {
        0
    } else {
        u128::from(RandomState::new().hash_one(Instant::now())) % spread
    };
    let millis = u64::try_from(every.as_millis() + jitter).unwrap_or(u64::MAX);
    Duration::from_millis(millis).max(Duration::from_millis(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_gives_the_name_and_the_port() {
        let d = Discovery::a_records("postgres://app:pw@replicas.db.internal:6432/app?x=1");
        assert_eq!(
            d.parts(),
            Some((
                "postgres://app:pw@".to_owned(),
                "replicas.db.internal".to_owned(),
                "/app?x=1".to_owned(),
                6432
            ))
        );
        let d = Discovery::srv_records("mysql://u@_mysql._tcp.db/x");
        assert_eq!(
            d.parts().map(|p| (p.1, p.3)),
            Some(("_mysql._tcp.db".to_owned(), 3306))
        );
        assert!(Discovery::a_records("not a url").parts().is_none());
    }

    #[test]
    fn jitter_stays_within_a_tenth() {
        for _ in 0..100 {
            let wait = jittered(Duration::from_secs(10));
            assert!(wait >= Duration::from_secs(10) && wait < Duration::from_secs(11));
        }
        assert_eq!(jittered(Duration::ZERO), Duration::from_millis(100));
    }
}
