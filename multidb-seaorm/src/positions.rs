//! Reading replication positions: which flavour of server this is, and the
//! queries for the primary's position (with the cluster's identity) and a
//! replica's.

use multidb_core::position::{Position, WritePosition, cluster_id};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement};

/// Which SQL dialect of replication status to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Postgres,
    MariaDb,
    MySql,
}

impl Flavor {
    /// The guess before the server said (MariaDB and MySQL share a backend).
    pub(crate) fn guess(backend: DbBackend) -> Flavor {
        match backend {
            DbBackend::Postgres => Flavor::Postgres,
            _ => Flavor::MariaDb,
        }
    }

    pub(crate) fn parse(self, text: &str) -> Result<Position, DbErr> {
        match self {
            Flavor::Postgres => Position::parse_pg_lsn(text),
            Flavor::MariaDb => Position::parse_mariadb(text),
            Flavor::MySql => Position::parse_mysql(text),
        }
        .map_err(|error| DbErr::Custom(error.to_string()))
    }
}

pub(crate) async fn one(db: &DatabaseConnection, sql: &str) -> Result<QueryResult, DbErr> {
    let statement = Statement::from_string(db.get_database_backend(), sql);
    db.query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("no row from {sql}")))
}

/// Ask the server which flavour it is.
pub(crate) async fn flavor_of(primary: &DatabaseConnection) -> Result<Flavor, DbErr> {
    Ok(match primary.get_database_backend() {
        DbBackend::Postgres => Flavor::Postgres,
        _ => {
            let version: String = one(primary, "SELECT CAST(VERSION() AS CHAR) AS v")
                .await?
                .try_get("", "v")?;
            if version.to_ascii_lowercase().contains("mariadb") {
                Flavor::MariaDb
            } else {
                Flavor::MySql
            }
        }
    })
}

/// The primary's position now, tagged with the cluster's identity: one
/// round trip. On PostgreSQL the insert position when `synchronous_commit`
/// is off (the write position may then be behind a commit that returned).
pub(crate) async fn primary_position(
    primary: &DatabaseConnection,
    flavor: Flavor,
) -> Result<WritePosition, DbErr> {
    let sql = match flavor {
        Flavor::Postgres => {
            "SELECT (CASE WHEN current_setting('synchronous_commit') = 'off' \
             THEN pg_current_wal_insert_lsn() ELSE pg_current_wal_lsn() END)::text AS p, \
             (SELECT system_identifier::text FROM pg_control_system()) AS id"
        }
        Flavor::MariaDb => {
            "SELECT CAST(@@gtid_binlog_pos AS CHAR) AS p, \
             CAST(CONCAT(@@hostname, ':', @@port, ':', @@server_id) AS CHAR) AS id"
        }
        Flavor::MySql => {
            "SELECT CAST(@@global.gtid_executed AS CHAR) AS p, CAST(@@server_uuid AS CHAR) AS id"
        }
    };
    let row = one(primary, sql).await?;
    let position: String = row.try_get("", "p")?;
    let identity: String = row.try_get("", "id")?;
    Ok(WritePosition::new(
        cluster_id(&identity),
        flavor.parse(&position)?,
    ))
}
