//! A "replica" URL that is really a TCP load balancer (Debian's haproxy,
//! started by `scripts/haproxy.sh`) in front of two replicas of a real
//! [`Cluster`]: the monitor must find out, and never trust it as one server.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use multidb_seaorm::{MultiDb, Reason, Target, scope};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::scenarios::Outcome;
use crate::servers::{Cluster, Instance, run_script, wait_until};

/// haproxy on a loopback port, stopped when dropped.
#[derive(Debug)]
pub struct Balancer {
    dir: String,
    listen: String,
    /// The port it listens on.
    pub port: u16,
}

fn script(args: &[&str]) -> Result<(), String> {
    run_script("haproxy.sh", args)
}

impl Balancer {
    /// Forward `listen` (`address:port`) to `backends`, state in `dir`.
    pub fn start_at(
        _c: &Cluster,
        dir: &str,
        listen: &str,
        backends: &[i64],
    ) -> Result<Self, String> {
        let backends: Vec<String> = backends.iter().map(i64::to_string).collect();
        let mut args = vec!["start", dir, listen];
        args.extend(backends.iter().map(String::as_str));
        script(&args)?;
        Ok(Balancer {
            dir: dir.to_owned(),
            listen: listen.to_owned(),
            port: listen
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse().ok())
                .unwrap_or(0),
        })
    }

    /// Round-robin per connection over `backends` (ports on 127.0.0.1).
    /// Its port: `MULTIDB_PG_PORT` (default 25432) + 20, + 1 for MariaDB,
    /// so that clusters of separate port blocks do not collide.
    pub fn start(c: &Cluster, backends: &[i64]) -> Result<Self, String> {
        let base = std::env::var("MULTIDB_PG_PORT")
            .ok()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or(25432);
        let port = base + 20 + u16::from(c.backend != DbBackend::Postgres);
        let dir = format!("{}/haproxy", c.state_dir);
        let port_text = port.to_string();
        let backends: Vec<String> = backends.iter().map(i64::to_string).collect();
        let mut args = vec!["start", dir.as_str(), port_text.as_str()];
        args.extend(backends.iter().map(String::as_str));
        script(&args)?;
        Ok(Balancer {
            dir,
            listen: port_text,
            port,
        })
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        if let Err(error) = script(&["stop", &self.dir, &self.listen]) {
            eprintln!("{error}");
        }
    }
}

/// A replica URL through haproxy in front of the fast and the delayed
/// replica: the monitor sees two servers behind it within a check and says
/// so; plain reads still go through it, causal reads never (a scope reads
/// its own write every time, from the primary), though the fast replica
/// behind it would often have had the row and the delayed one not.
pub async fn a_load_balanced_endpoint_is_never_trusted_as_one_server(c: &Cluster) -> Outcome {
    let (fast, delayed) = (c.port(Instance::Replica), c.port(Instance::Delayed));
    let balancer = Balancer::start(c, &[fast, delayed])?;
    let table = format!("balanced_{}", c.stack());
    c.create_table(&table).await.map_err(|e| e.to_string())?;
    let url = c
        .url(Instance::Replica)
        .replace(&format!(":{fast}/"), &format!(":{}/", balancer.port));
    let began = Instant::now();
    let db = MultiDb::builder()
        .monitor_interval(Duration::from_millis(200))
        .primary(c.url(Instance::Primary))
        .replica(url.as_str())
        .connect()
        .await?;
    let detected = wait_until(Duration::from_secs(5), || async {
        db.replica_status()[0].load_balanced
    })
    .await
    .map_err(|w| {
        format!(
            "not seen as load-balanced after {w:?}: {:?}",
            db.replica_status()
        )
    })?;
    let mut servers = BTreeSet::new();
    for _ in 0..40 {
        servers.insert(scope(c.port_of(&db)).await?);
    }
    let before = db.stats();
    for i in 0..10 {
        let title = format!("balanced-{i}");
        let found = scope(async {
            db.execute_unprepared(&format!("INSERT INTO {table} (title) VALUES ('{title}')"))
                .await?;
            let row = db
                .query_one_raw(Statement::from_string(
                    c.backend,
                    format!("SELECT COUNT(*) AS n FROM {table} WHERE title = '{title}'"),
                ))
                .await?;
            row.map_or(Ok(0), |row| row.try_get::<i64>("", "n"))
        })
        .await?;
        assert_eq!(found, 1, "a scope did not read its own write {title}");
    }
    let after = db.stats();
    let causal = after.count(Target::Primary, Reason::Causal)
        + after.count(Target::Primary, Reason::ReadAfterWrite)
        - before.count(Target::Primary, Reason::Causal)
        - before.count(Target::Primary, Reason::ReadAfterWrite);
    let status = db.replica_status();
    println!(
        "{:?} haproxy on {} in front of {fast} and {delayed}: seen as load-balanced {detected:?} \
         after start ({:?} after connect began), plain reads answered by {servers:?}, \
         10/10 read-your-writes from the primary ({causal} reads), lag reported {:?}",
        c.backend,
        balancer.port,
        began.elapsed(),
        status[0].lag,
    );
    assert!(status[0].load_balanced);
    assert!(
        status[0].position.is_none(),
        "a load-balanced endpoint keeps no position"
    );
    assert_eq!(causal, 10, "read-after-write reads not on the primary");
    assert!(
        servers.iter().all(|p| *p == fast || *p == delayed),
        "plain reads went elsewhere than through the endpoint: {servers:?}"
    );
    Ok(())
}
