//! Every query multidb sends on its own: which flavour of server this is,
//! the primary's position (with the cluster's identity), and the check of a
//! replica (still a replica? its position, its replication threads).

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

/// What one check of a replica found.
#[derive(Debug)]
pub(crate) struct Probe {
    pub(crate) is_replica: bool,
    pub(crate) position: Option<Position>,
    pub(crate) replication_running: Option<bool>,
    pub(crate) seconds_behind_master: Option<u64>,
    /// Which server answered (see [`server_identity`]).
    pub(crate) server: Option<String>,
}

/// One server's identity, the same from any connection to it and different
/// between two servers of one cluster (replicas share PostgreSQL's
/// `system_identifier`): its address and port as it sees them.
const PG_SERVER: &str =
    "coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port')";
const MYSQL_SERVER: &str = "CAST(CONCAT(@@hostname, ':', @@port, ':', @@server_id) AS CHAR)";

/// The identity of the server `db`'s next connection reaches, and of its
/// cluster where the server tells it (PostgreSQL's `system_identifier`).
pub(crate) async fn server_identity(
    db: &impl ConnectionTrait,
    flavor: Flavor,
) -> Result<(String, Option<String>), DbErr> {
    let sql = match flavor {
        Flavor::Postgres => format!(
            "SELECT {PG_SERVER} AS s, (SELECT system_identifier::text FROM pg_control_system()) AS c"
        ),
        _ => format!("SELECT {MYSQL_SERVER} AS s, CAST(NULL AS CHAR) AS c"),
    };
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("no row from the server identity".to_owned()))?;
    Ok((row.try_get("", "s")?, row.try_get("", "c")?))
}

#[derive(Debug)]
pub(crate) enum Checked {
    TimedOut,
    Failed(DbErr),
}

/// Check one replica; also says whether `SHOW SLAVE STATUS` was allowed,
/// when it was tried.
pub(crate) async fn probe_replica(
    db: &DatabaseConnection,
    flavor: Flavor,
    may_show_status: Option<bool>,
) -> Result<(Probe, Option<bool>), Checked> {
    let failed = Checked::Failed;
    let parse = |text: &str| flavor.parse(text).ok();
    if flavor == Flavor::Postgres {
        let row = one(
            db,
            &format!("SELECT pg_is_in_recovery() AS r, pg_last_wal_replay_lsn()::text AS p, {PG_SERVER} AS s"),
        )
        .await
        .map_err(failed)?;
        let in_recovery: bool = row.try_get("", "r").map_err(failed)?;
        let lsn: Option<String> = row.try_get("", "p").map_err(failed)?;
        let position = lsn.as_deref().and_then(parse);
        return Ok((
            Probe {
                is_replica: in_recovery,
                position,
                replication_running: None,
                seconds_behind_master: None,
                server: row.try_get("", "s").ok(),
            },
            None,
        ));
    }
    let sql = match flavor {
        Flavor::MySql => format!(
            "SELECT CAST(@@global.read_only AS SIGNED) AS ro, CAST(@@global.gtid_executed AS CHAR) AS p, {MYSQL_SERVER} AS s"
        ),
        _ => format!(
            "SELECT CAST(@@read_only AS SIGNED) AS ro, CAST(@@gtid_slave_pos AS CHAR) AS p, {MYSQL_SERVER} AS s"
        ),
    };
    let row = one(db, &sql).await.map_err(failed)?;
    let read_only: i64 = row.try_get("", "ro").map_err(failed)?;
    let text: String = row.try_get("", "p").map_err(failed)?;
    let mut probe = Probe {
        is_replica: read_only != 0,
        position: parse(&text),
        replication_running: None,
        seconds_behind_master: None,
        server: row.try_get("", "s").ok(),
    };
    if may_show_status == Some(false) {
        return Ok((probe, None));
    }
    let sql = if flavor == Flavor::MySql {
        "SHOW REPLICA STATUS"
    } else {
        "SHOW SLAVE STATUS"
    };
    let statement = Statement::from_string(db.get_database_backend(), sql);
    match db.query_one_raw(statement).await {
        Ok(None) => {
            // No replication configured at all.
            probe.replication_running = Some(false);
            Ok((probe, Some(true)))
        }
        Ok(Some(row)) => {
            let running = |names: [&str; 2]| {
                names
                    .iter()
                    .find_map(|name| row.try_get::<String>("", name).ok())
                    .is_some_and(|value| value.eq_ignore_ascii_case("yes"))
            };
            let io = running(["Slave_IO_Running", "Replica_IO_Running"]);
            let sql_thread = running(["Slave_SQL_Running", "Replica_SQL_Running"]);
            // Both stopped: not replicating. One stopped (a paused SQL thread,
            // a broken link) shows as lag.
            probe.replication_running = Some(io || sql_thread);
            probe.seconds_behind_master = ["Seconds_Behind_Master", "Seconds_Behind_Source"]
                .iter()
                .find_map(|name| row.try_get::<Option<u64>>("", name).ok())
                .flatten();
            Ok((probe, Some(true)))
        }
        Err(error) if is_access_denied(&error) => Ok((probe, Some(false))),
        Err(error) => Err(failed(error)),
    }
}

fn is_access_denied(error: &DbErr) -> bool {
    // 1227 ER_SPECIFIC_ACCESS_DENIED_ERROR (SQLSTATE 42000).
    let text = error.to_string().to_ascii_lowercase();
    text.contains("1227") || text.contains("access denied") || text.contains("privilege")
}

/// A replica's replay position now (one short round trip), for causal
/// reads that need fresher knowledge than the monitor's.
pub(crate) async fn replica_position(
    db: &DatabaseConnection,
    flavor: Flavor,
) -> Result<Option<Position>, DbErr> {
    let sql = match flavor {
        Flavor::Postgres => "SELECT pg_last_wal_replay_lsn()::text AS p",
        Flavor::MariaDb => "SELECT CAST(@@gtid_slave_pos AS CHAR) AS p",
        Flavor::MySql => "SELECT CAST(@@global.gtid_executed AS CHAR) AS p",
    };
    let text: Option<String> = one(db, sql).await?.try_get("", "p")?;
    Ok(text.and_then(|text| flavor.parse(&text).ok()))
}

/// MariaDB/MySQL: wait on the replica, at most `seconds`, until it applied
/// `position` (`MASTER_GTID_WAIT`, `WAIT_FOR_EXECUTED_GTID_SET`), then read
/// its position, in one round trip. `None` on PostgreSQL (it has no such
/// function before version 19: poll instead).
pub(crate) async fn wait_for_position(
    db: &DatabaseConnection,
    flavor: Flavor,
    position: &Position,
    seconds: f64,
) -> Result<Option<(bool, Option<Position>)>, DbErr> {
    // Both functions return 0 once the position is applied (-1 or 1 when
    // the time ran out, NULL on an error).
    let sql = match flavor {
        Flavor::Postgres => return Ok(None),
        Flavor::MariaDb => {
            "SELECT CAST(MASTER_GTID_WAIT(?, ?) AS SIGNED) AS w, \
             CAST(@@gtid_slave_pos AS CHAR) AS p"
        }
        Flavor::MySql => {
            "SELECT CAST(WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS SIGNED) AS w, \
             CAST(@@global.gtid_executed AS CHAR) AS p"
        }
    };
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [position.to_string().into(), seconds.into()],
    );
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("no row from {sql}")))?;
    let waited: Option<i64> = row.try_get("", "w")?;
    let text: Option<String> = row.try_get("", "p")?;
    Ok(Some((
        waited == Some(0),
        text.and_then(|text| flavor.parse(&text).ok()),
    )))
}
