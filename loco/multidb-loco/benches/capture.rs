//! What capturing the primary's position costs a request that may have
//! written through `ctx.db` (`capture_writes_elsewhere`): `wrote_elsewhere`
//! then the capture the pinning layer makes, against one `SELECT 1` round
//! trip to the same primary, interleaved.
//!
//! ```sh
//! MULTIDB_REPLICAS=pg scripts/replicas.sh run -- \
//!   sh -c 'cd loco && cargo bench -p multidb-loco --bench capture'
//! ```

use std::time::{Duration, Instant};

use multidb_seaorm::{MultiDb, scope};
use sea_orm::ConnectionTrait;

const ROUNDS: usize = 5_000;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let at = ((samples.len() - 1) as f64 * p).round() as usize;
    samples[at]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(primary) = std::env::var("MULTIDB_PG_PRIMARY_URL") else {
        return Err("MULTIDB_PG_PRIMARY_URL is not set: run under scripts/replicas.sh".into());
    };
    let replica = std::env::var("MULTIDB_PG_REPLICA_URL")?;
    let db = MultiDb::builder()
        .primary(primary)
        .replica(replica)
        .connect()
        .await?;
    let (mut capture, mut select) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let position = scope(async {
            db.wrote_elsewhere();
            db.write_position().await
        })
        .await?;
        capture.push(started.elapsed());
        assert!(position.is_some(), "a position on PostgreSQL");
        let started = Instant::now();
        db.primary().execute_unprepared("SELECT 1").await?;
        select.push(started.elapsed());
    }
    let capture_median = percentile(&mut capture, 0.5);
    let select_median = percentile(&mut select, 0.5);
    println!(
        "position capture after a write elsewhere: {ROUNDS} rounds; median {:.1} µs (p99 {:.1} µs); \
         one SELECT 1 on the primary: median {:.1} µs (p99 {:.1} µs)",
        capture_median.as_secs_f64() * 1e6,
        percentile(&mut capture, 0.99).as_secs_f64() * 1e6,
        select_median.as_secs_f64() * 1e6,
        percentile(&mut select, 0.99).as_secs_f64() * 1e6,
    );
    db.close().await?;
    Ok(())
}
