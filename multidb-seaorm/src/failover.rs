//! Which errors of a read on a replica are worth trying elsewhere, decided
//! by the driver's error type and the server's error code; the English text
//! is only the fallback for errors that carry no code.

use sea_orm::{DbErr, RuntimeErr};

/// What a failed read on a replica tells the router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The server could not be reached or dropped the connection: retry on
    /// another replica, and count this one down until it answers again.
    Unreachable,
    /// The server is up but could not run it now (a hot-standby conflict,
    /// too many connections, a table or column a migration just created
    /// and the replica has not replayed yet): retry elsewhere, the replica
    /// stays in.
    Transient,
    /// The replica refused it as a write (PostgreSQL 25006, MariaDB 1290):
    /// the classifier let a writing statement through. Run it on the
    /// primary, once, and count it as a write.
    ReadOnly,
    /// A real answer (syntax, constraint, wrong type…): return it.
    Final,
}

/// How [`failure`] recognised the error: by structure, or by its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Evidence {
    /// The driver's error kind or the server's SQLSTATE.
    Code,
    /// The message's words (errors without a code, or without the `sqlx`
    /// feature).
    Text,
    /// Nothing matched.
    None,
}

/// Classify a read's error on a replica.
pub(crate) fn failure(error: &DbErr) -> (Failure, Evidence) {
    match error {
        // SeaORM's own mapping of sqlx's PoolTimedOut / PoolClosed.
        DbErr::ConnectionAcquire(_) => (Failure::Unreachable, Evidence::Code),
        DbErr::Conn(runtime) | DbErr::Query(runtime) | DbErr::Exec(runtime) => {
            if let Some(found) = by_code(runtime) {
                return (found, Evidence::Code);
            }
            match (by_text(&runtime.to_string()), error) {
                (Some(found), _) => (found, Evidence::Text),
                // A failure to connect that says nothing more.
                (None, DbErr::Conn(_)) => (Failure::Unreachable, Evidence::None),
                (None, _) => (Failure::Final, Evidence::None),
            }
        }
        _ => (Failure::Final, Evidence::None),
    }
}

#[cfg(feature = "sqlx")]
fn by_code(runtime: &RuntimeErr) -> Option<Failure> {
    use sea_orm::sqlx::Error;
    let RuntimeErr::SqlxError(error) = runtime else {
        return None;
    };
    match &**error {
        Error::Io(_) | Error::Tls(_) | Error::PoolTimedOut | Error::PoolClosed => {
            Some(Failure::Unreachable)
        }
        Error::WorkerCrashed | Error::Protocol(_) => Some(Failure::Unreachable),
        Error::Database(db) => db.code().and_then(|code| by_sqlstate(&code)),
        _ => None,
    }
}

#[cfg(not(feature = "sqlx"))]
fn by_code(_: &RuntimeErr) -> Option<Failure> {
    None
}

/// SQLSTATEs (PostgreSQL's, and MySQL/MariaDB's where they are specific).
#[cfg_attr(not(feature = "sqlx"), allow(dead_code))]
fn by_sqlstate(code: &str) -> Option<Failure> {
    match code {
        // admin_shutdown, crash_shutdown, cannot_connect_now; 08: connection
        // exceptions (MySQL's 08S01 too); MariaDB 70100: connection killed.
        "57P01" | "57P02" | "57P03" | "70100" => Some(Failure::Unreachable),
        c if c.starts_with("08") => Some(Failure::Unreachable),
        // read_only_sql_transaction: the statement writes.
        "25006" => Some(Failure::ReadOnly),
        // serialization_failure is how a hot standby cancels a query that
        // conflicts with recovery; too_many_connections.
        "40001" | "53300" => Some(Failure::Transient),
        // A replica behind the schema: a migration on the primary created
        // the table, column, function or schema, and the replica has not
        // replayed it yet (PostgreSQL 42P01, 42703, 42883, 3F000; MySQL and
        // MariaDB 42S02, 42S22). The read is retried elsewhere, ending on
        // the primary, whose answer stands if it is missing there too.
        "42P01" | "42703" | "42883" | "3F000" | "42S02" | "42S22" => Some(Failure::Transient),
        _ => None,
    }
}

/// The fallback for errors without a code: sqlx's and the servers' stable
/// English wording.
fn by_text(text: &str) -> Option<Failure> {
    const UNREACHABLE: [&str; 9] = [
        "error communicating with database", // sqlx I/O: refused, reset, EOF
        "pool timed out while waiting for an open connection",
        "attempted to acquire a connection on a closed pool",
        "attempted to communicate with a crashed background worker",
        "terminating connection due to administrator command", // PostgreSQL 57P01
        "the database system is starting up",                  // PostgreSQL 57P03
        "the database system is shutting down",                // PostgreSQL 57P03
        "server has gone away",                                // MySQL 2006
        "lost connection to",                                  // MySQL 2013
    ];
    const READ_ONLY: [&str; 2] = [
        "in a read-only transaction", // PostgreSQL 25006
        "--read-only option",         // MySQL/MariaDB 1290
    ];
    let text = text.to_ascii_lowercase();
    if UNREACHABLE.iter().any(|phrase| text.contains(phrase)) {
        Some(Failure::Unreachable)
    } else if READ_ONLY.iter().any(|phrase| text.contains(phrase)) {
        Some(Failure::ReadOnly)
    } else if text.contains("conflict with recovery") {
        Some(Failure::Transient)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbErr, RuntimeErr};

    use super::*;

    fn query(message: &str) -> DbErr {
        DbErr::Query(RuntimeErr::Internal(message.into()))
    }

    #[test]
    fn text_fallback_for_errors_without_a_code() {
        let cases = [
            (
                "error communicating with database: Connection refused (os error 111)",
                Failure::Unreachable,
            ),
            (
                "error returned from database: terminating connection due to administrator command",
                Failure::Unreachable,
            ),
            ("MySQL server has gone away", Failure::Unreachable),
            (
                "cannot execute INSERT in a read-only transaction",
                Failure::ReadOnly,
            ),
            (
                "The MariaDB server is running with the --read-only option so it cannot execute this statement",
                Failure::ReadOnly,
            ),
            (
                "canceling statement due to conflict with recovery",
                Failure::Transient,
            ),
            (
                "error returned from database: relation \"x\" does not exist",
                Failure::Final,
            ),
        ];
        for (message, expected) in cases {
            let (found, evidence) = failure(&query(message));
            assert_eq!(found, expected, "{message}");
            let expected_evidence = if expected == Failure::Final {
                Evidence::None
            } else {
                Evidence::Text
            };
            assert_eq!(evidence, expected_evidence, "{message}");
        }
    }

    #[test]
    fn other_errors_are_final_and_connect_errors_unreachable() {
        assert_eq!(
            failure(&DbErr::RecordNotFound("x".into())).0,
            Failure::Final
        );
        assert_eq!(
            failure(&DbErr::Custom("error communicating with database".into())).0,
            Failure::Final
        );
        assert_eq!(
            failure(&DbErr::Conn(RuntimeErr::Internal("refused".into()))).0,
            Failure::Unreachable
        );
        assert_eq!(
            failure(&DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)),
            (Failure::Unreachable, Evidence::Code)
        );
    }

    #[cfg(feature = "sqlx")]
    #[test]
    fn driver_errors_are_matched_by_kind() {
        use std::sync::Arc;

        use sea_orm::sqlx;
        let io = sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "x",
        ));
        let err = DbErr::Query(RuntimeErr::SqlxError(Arc::new(io)));
        assert_eq!(failure(&err), (Failure::Unreachable, Evidence::Code));
        let err = DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sqlx::Error::WorkerCrashed)));
        assert_eq!(failure(&err), (Failure::Unreachable, Evidence::Code));
        let err = DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound)));
        assert_eq!(failure(&err).0, Failure::Final);
    }

    #[test]
    fn sqlstates() {
        for code in ["57P01", "57P03", "08006", "08S01", "70100"] {
            assert_eq!(by_sqlstate(code), Some(Failure::Unreachable), "{code}");
        }
        assert_eq!(by_sqlstate("25006"), Some(Failure::ReadOnly));
        assert_eq!(by_sqlstate("40001"), Some(Failure::Transient));
        for code in ["42P01", "42703", "42883", "3F000", "42S02", "42S22"] {
            assert_eq!(by_sqlstate(code), Some(Failure::Transient), "{code}");
        }
        assert_eq!(by_sqlstate("42601"), None); // syntax_error
        assert_eq!(by_sqlstate("HY000"), None);
    }
}
