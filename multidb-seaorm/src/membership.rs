//! Replicas that come and go: [`MultiDb::add_replica`] and
//! [`MultiDb::remove_replica`], and the checks a replica passes before it
//! joins.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};

use crate::error::{MultiDbError, Role};
use crate::health::ReplicaHealth;
use crate::multidb::MultiDb;
use crate::names;
use crate::positions::{Flavor, primary_position, probe_replica, server_identity};
use crate::replica_set::{Member, ReplicaId};

const TARGET: &str = "multidb::replicas";

/// How long the checks of a replica being added may take.
const ADD_CHECK: Duration = Duration::from_secs(5);

impl MultiDb {
    /// Add a replica to the running set; it takes reads as soon as this
    /// returns. Returns its id, for [`remove_replica`](Self::remove_replica)
    /// and [`ReplicaStatus::id`](crate::ReplicaStatus::id).
    ///
    /// Before it joins it passes the monitor's health check (so that, with
    /// causal reads, its position is known), and it must be a replica of
    /// this primary: a connection of another backend
    /// ([`MultiDbError::BackendMismatch`]), one that is not a replica or is
    /// the primary itself ([`MultiDbError::NotAReplica`]), one of another
    /// cluster ([`MultiDbError::OtherCluster`]) or one that does not answer
    /// ([`MultiDbError::Connect`]) is refused, and nothing changes. On SQLite
    /// and mock connections (no replication) only the backend is checked.
    ///
    /// Policies, sticky scopes, counters and metric labels (its name:
    /// `replica<id>`) follow the change; reads never wait for it.
    ///
    /// ```
    /// # use multidb_seaorm::MultiDb;
    /// # use sea_orm::Database;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = MultiDb::new(Database::connect("sqlite::memory:").await?, vec![])?;
    /// let id = db.add_replica(Database::connect("sqlite::memory:").await?).await?;
    /// assert_eq!(db.replica_status()[0].id, id);
    /// db.remove_replica(id).await?;
    /// assert!(db.replica_status().is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn add_replica(
        &self,
        replica: DatabaseConnection,
    ) -> Result<ReplicaId, MultiDbError> {
        self.join(replica, None, None).await
    }

    /// Remove replica `id`: no read is routed to it once this returned;
    /// reads already running there finish, then its pool is closed (in the
    /// background). Removing the last replica sends reads to the primary
    /// (reason `no_replica`). An unknown or already removed id is
    /// [`MultiDbError::UnknownReplica`], and nothing changes.
    pub async fn remove_replica(&self, id: ReplicaId) -> Result<(), MultiDbError> {
        let member = self.inner.change_set(|set| {
            let index = set.position(id).ok_or(MultiDbError::UnknownReplica(id))?;
            Ok((set.without(id), set.members[index].clone()))
        })?;
        member.metrics.gauges(None, None, false);
        tracing::info!(
            target: TARGET, replica = %member.name, %id,
            "replica removed: no new reads; its pool closes once its reads in flight finish"
        );
        // sqlx's close fails waiting acquires at once (those reads retry
        // elsewhere) and waits for the connections in use to come back.
        tokio::spawn(async move {
            member.connection.close_by_ref().await.ok();
            tracing::debug!(target: TARGET, replica = %member.name, "removed replica's pool closed");
        });
        Ok(())
    }

    /// Check `connection` and add it, named `name` (else `replica<id>`),
    /// reachable at `address` for the watch of hung reads.
    pub(crate) async fn join(
        &self,
        connection: DatabaseConnection,
        name: Option<String>,
        address: Option<(String, u16)>,
    ) -> Result<ReplicaId, MultiDbError> {
        let inner = &self.inner;
        let id = inner.new_id();
        let name = names::name(id.0, name.as_deref(), None);
        let backend = inner.primary.get_database_backend();
        let found = connection.get_database_backend();
        if found != backend {
            return Err(MultiDbError::BackendMismatch {
                replica: inner.replicas.load().len(),
                primary: backend,
                found,
            });
        }
        let member = Arc::new(Member::new(
            id,
            connection,
            name.clone(),
            ReplicaHealth::Up,
            address,
        ));
        if inner.positions {
            tokio::time::timeout(ADD_CHECK, self.check_new(&member))
                .await
                .unwrap_or_else(|_| {
                    Err(MultiDbError::Connect {
                        role: Role::Replica(id.0),
                        url: name.clone(),
                        source: DbErr::Custom(format!("no answer within {ADD_CHECK:?}")),
                    })
                })?;
        }
        inner.change_set(|set| Ok((set.with(member), ())))?;
        tracing::info!(target: TARGET, replica = %name, %id, "replica added: takes reads");
        Ok(id)
    }

    /// The checks of a replica before it joins: it answers the monitor's
    /// probe, is a replica, is not the primary, and follows this cluster.
    async fn check_new(&self, member: &Member) -> Result<(), MultiDbError> {
        let inner = &self.inner;
        let failed = |source: DbErr| MultiDbError::Connect {
            role: Role::Replica(member.id.0),
            url: member.name.clone(),
            source,
        };
        let flavor = inner.flavor().await.map_err(failed)?;
        let started = inner.now_stamp();
        let (probe, _) = probe_replica(&member.connection, flavor, Some(false))
            .await
            .map_err(|checked| failed(DbErr::Custom(format!("{checked:?}"))))?;
        let not_a_replica = |why: &str| MultiDbError::NotAReplica {
            replica: member.name.clone(),
            why: why.to_owned(),
        };
        let ((server, cluster), (primary_server, primary_cluster)) = {
            let (replica, primary) = join(
                server_identity(&member.connection, flavor),
                server_identity(&inner.primary, flavor),
            )
            .await;
            (replica.map_err(failed)?, primary.map_err(failed)?)
        };
        if server == primary_server {
            return Err(not_a_replica("it is the primary itself"));
        }
        if !probe.is_replica {
            return Err(not_a_replica(match flavor {
                Flavor::Postgres => "pg_is_in_recovery() is false: it accepts writes",
                _ => "@@read_only is off: it accepts writes",
            }));
        }
        if cluster != primary_cluster {
            return Err(MultiDbError::OtherCluster {
                replica: member.name.clone(),
            });
        }
        if let Some(position) = &probe.position {
            // MariaDB/MySQL name no cluster: a replica cannot be ahead of
            // its primary, so one that is follows another.
            let primary = primary_position(&inner.primary, flavor)
                .await
                .map_err(failed)?;
            inner.set_cluster(primary.cluster());
            if !primary.position().reached(position) {
                return Err(MultiDbError::OtherCluster {
                    replica: member.name.clone(),
                });
            }
            member
                .health
                .set_known(started, inner.now_stamp(), position.clone());
        }
        member.health.answered(started);
        Ok(())
    }
}

/// The identities of the servers that two connections of `db`, held at
/// once, reach: two different ones mean a load balancer.
pub(crate) async fn servers_of_two(
    db: &DatabaseConnection,
    flavor: Flavor,
) -> Result<[String; 2], DbErr> {
    let (first, second) = join(db.begin(), db.begin()).await;
    let (first, second) = (first?, second?);
    let (a, b) = join(
        server_identity(&first, flavor),
        server_identity(&second, flavor),
    )
    .await;
    let (_, _) = join(first.rollback(), second.rollback()).await;
    Ok([a?.0, b?.0])
}
