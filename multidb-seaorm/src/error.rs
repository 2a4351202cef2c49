//! Errors of building a [`MultiDb`](crate::MultiDb).

use std::fmt;

use sea_orm::{DbBackend, DbErr, RuntimeErr};

/// Which database of the set an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The primary.
    Primary,
    /// The replica at this index (in the order given).
    Replica(usize),
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Primary => f.write_str("primary"),
            Role::Replica(index) => write!(f, "replica #{index}"),
        }
    }
}

/// Why a [`MultiDb`](crate::MultiDb) could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum MultiDbError {
    /// A replica speaks another SQL dialect than the primary: statements built
    /// for the primary would fail or, worse, mean something else there.
    BackendMismatch {
        /// The offending replica's index, in the order given.
        replica: usize,
        /// The primary's backend.
        primary: DbBackend,
        /// The replica's backend.
        found: DbBackend,
    },
    /// A name given to
    /// [`MultiDbBuilder::read_only_functions`](crate::MultiDbBuilder::read_only_functions)
    /// cannot be declared read-only (not a plain function name, or one
    /// known to write).
    InvalidReadOnlyFunction(multidb_core::InvalidFunctionName),
    /// [`MultiDb::remove_replica`](crate::MultiDb::remove_replica) got an
    /// id that is not in the set (never given, or already removed).
    UnknownReplica(crate::ReplicaId),
    /// [`MultiDb::add_replica`](crate::MultiDb::add_replica) got a
    /// connection that is not a replica: the primary itself, or a server
    /// that accepts writes.
    NotAReplica {
        /// The name it would have had.
        replica: String,
        /// What gave it away.
        why: String,
    },
    /// [`MultiDb::add_replica`](crate::MultiDb::add_replica) got a replica
    /// of another cluster than the primary's.
    OtherCluster {
        /// The name it would have had.
        replica: String,
    },
    /// DNS discovery of replicas could not start (an unreadable URL or
    /// resolver configuration).
    Discovery(String),
    /// Connecting to a database failed.
    Connect {
        /// Which database.
        role: Role,
        /// Its URL, password removed.
        url: String,
        /// SeaORM's error.
        source: DbErr,
    },
}

impl fmt::Display for MultiDbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultiDbError::BackendMismatch {
                replica,
                primary,
                found,
            } => write!(
                f,
                "replica #{replica} is a {found:?} database but the primary is {primary:?}: \
                 every replica must use the primary's backend"
            ),
            MultiDbError::InvalidReadOnlyFunction(error) => {
                write!(f, "read_only_functions: {error}")
            }
            MultiDbError::Discovery(error) => f.write_str(error),
            MultiDbError::UnknownReplica(id) => write!(
                f,
                "no replica {id} in the set (never added, or removed already): \
                 see db.replica_status() for the ids"
            ),
            MultiDbError::NotAReplica { replica, why } => write!(
                f,
                "{replica} is not a replica ({why}): add a read replica of this primary"
            ),
            MultiDbError::OtherCluster { replica } => write!(
                f,
                "{replica} replicates another cluster than this primary's: check its URL"
            ),
            MultiDbError::Connect { role, url, source } => write!(
                f,
                "cannot connect to the {role} at {url}: {source} \
                 (check that the server is running and the URL, user and password are right)"
            ),
        }
    }
}

impl std::error::Error for MultiDbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MultiDbError::Connect { source, .. } => Some(source),
            MultiDbError::InvalidReadOnlyFunction(error) => Some(error),
            _ => None,
        }
    }
}

/// So that `?` works in functions that return SeaORM's `DbErr`: a failed
/// connection becomes `DbErr::Conn`, a misconfiguration `DbErr::Custom`,
/// both with this error's message (role, redacted URL, what to do).
///
/// ```
/// use multidb_seaorm::MultiDb;
/// use sea_orm::{Database, DbErr};
///
/// async fn connect() -> Result<MultiDb, DbErr> {
///     let primary = Database::connect("sqlite::memory:").await?;
///     Ok(MultiDb::new(primary, vec![])?)
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() { connect().await.unwrap(); }
/// ```
impl From<MultiDbError> for DbErr {
    fn from(error: MultiDbError) -> Self {
        match error {
            MultiDbError::Connect { .. } => DbErr::Conn(RuntimeErr::Internal(error.to_string())),
            _ => DbErr::Custom(error.to_string()),
        }
    }
}

/// The URL with any password (in the user info or a `password=` query
/// parameter) replaced by `***`, for error messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    let url = redact_user_info(url);
    match url.split_once('?') {
        Some((base, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{base}?{}", query.join("&"))
        }
        None => url,
    }
}

fn redact_user_info(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end + 3],
                &authority[..colon],
                &rest[at..]
            ),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cr@t@db:5432/x?sslmode=require"),
            "postgres://app:***@db:5432/x?sslmode=require"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1/x"),
            "mysql://root@127.0.0.1/x"
        );
        assert_eq!(redact_url("sqlite://a.db?mode=ro"), "sqlite://a.db?mode=ro");
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(
            redact_url("postgres://db/x?user=app&password=hunter2&sslmode=disable"),
            "postgres://db/x?user=app&password=***&sslmode=disable"
        );
    }
}
