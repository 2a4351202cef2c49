//! The Prometheus recorder of the forum (feature `metrics`): installed
//! before the `MultiDb` is built, so that its metrics are described.

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};

use super::observe::Scrape;

/// OpenTelemetry's advice for `db.client.operation.duration`, in seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Install the recorder globally (once per process) and keep its
/// histograms tidy; the scrape renders the text format. Call it inside a
/// tokio runtime.
pub(crate) fn install() -> Result<Scrape, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("db.client.operation.duration".into()),
            DURATION_BUCKETS,
        )?
        .install_recorder()?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(Arc::new(move || handle.render()))
}
