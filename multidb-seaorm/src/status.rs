//! The status page: one self-refreshing HTML page of what `MultiDb` knows
//! (each replica's health, lag, position, reads, failures and fallbacks,
//! and the routing decisions), rendered without any web framework so that
//! any application can serve it.

use std::fmt::Write as _;
use std::time::Duration;

use multidb_core::{Reason, Target};

use crate::health::{ReplicaHealth, ReplicaStatus};
use crate::multidb::MultiDb;
use crate::stats::RoutingStats;

/// How often the page reloads itself, in seconds.
pub const STATUS_PAGE_REFRESH_SECS: u32 = 5;

impl MultiDb {
    /// A self-refreshing HTML page (every
    /// [`STATUS_PAGE_REFRESH_SECS`] seconds) of each replica's health, lag,
    /// position, reads, failures and fallbacks
    /// ([`replica_status`](Self::replica_status)) and of the routing
    /// decisions ([`stats`](Self::stats)). Everything is HTML-escaped, and it
    /// loads nothing else (no script, no style sheet).
    ///
    /// It shows replica addresses, replication positions and error
    /// messages: serve it where only operators can reach it.
    ///
    /// Mount it in one line: with axum,
    /// `.route("/multidb", get(|State(db): State<MultiDb>| async move { Html(db.status_page()) }))`;
    /// with actix-web,
    /// `.route("/multidb", web::get().to(|db: web::Data<MultiDb>| async move { HttpResponse::Ok().content_type("text/html; charset=utf-8").body(db.status_page()) }))`.
    ///
    /// ```
    /// # use multidb_seaorm::MultiDb;
    /// # use sea_orm::Database;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = MultiDb::new(
    ///     Database::connect("sqlite::memory:").await?,
    ///     vec![Database::connect("sqlite::memory:").await?],
    /// )?;
    /// let page = db.status_page();
    /// assert!(page.starts_with("<!DOCTYPE html>"));
    /// assert!(page.contains(r#"<meta http-equiv="refresh" content="5">"#));
    /// assert!(page.contains(r#"data-health="up""#));
    /// # Ok(()) }
    /// ```
    pub fn status_page(&self) -> String {
        let replicas = self.replica_status();
        let stats = self.stats();
        render(&Page {
            backend: crate::metrics::System::of(self.get_database_backend()).as_str(),
            replicas: &replicas,
            stats: &stats,
        })
    }
}

/// What the page shows.
pub(crate) struct Page<'a> {
    /// `postgresql`, `mysql`, `sqlite`.
    pub(crate) backend: &'a str,
    pub(crate) replicas: &'a [ReplicaStatus],
    pub(crate) stats: &'a RoutingStats,
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}\
p.summary{color:#555;margin:0}\
table{border-collapse:collapse}th,td{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left}\
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}\
tr.zero td{color:#aaa}\
.h{display:inline-block;padding:.05em .6em;border-radius:1em;font-weight:600;color:#fff}\
.h-up{background:#2e7d32}.h-down{background:#c62828}.h-lagging{background:#ef6c00}\
.h-not_replica{background:#6a1b9a}td.err{color:#c62828;max-width:40em}\
code{font-size:.95em}";

/// The page for `page`.
pub(crate) fn render(page: &Page<'_>) -> String {
    let mut out = String::with_capacity(4096 + 512 * page.replicas.len());
    let up = page
        .replicas
        .iter()
        .filter(|r| r.health == ReplicaHealth::Up)
        .count();
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{STATUS_PAGE_REFRESH_SECS}\">\
         <title>multidb status</title><style>{STYLE}</style></head><body>\n\
         <h1>multidb</h1><p class=\"summary\" id=\"summary\">{backend} · {count} \
         replica{plural}, {up} taking reads · refreshes every {STATUS_PAGE_REFRESH_SECS} s</p>\n",
        backend = escape(page.backend),
        count = page.replicas.len(),
        plural = if page.replicas.len() == 1 { "" } else { "s" },
    );
    replicas(&mut out, page.replicas);
    decisions(&mut out, page.stats);
    out.push_str("</body></html>\n");
    out
}

fn replicas(out: &mut String, replicas: &[ReplicaStatus]) {
    out.push_str(
        "<h2>Replicas</h2>\n<table id=\"replicas\"><thead><tr><th>#</th><th>Replica</th>\
         <th>Health</th><th>Lag</th><th>Behind</th><th>Position</th><th>Checked</th>\
         <th>Reads</th><th>Failures</th><th>Fallbacks</th><th>Last error</th></tr></thead><tbody>\n",
    );
    if replicas.is_empty() {
        out.push_str(
            "<tr><td colspan=\"11\">No replicas: every statement goes to the primary.</td></tr>\n",
        );
    }
    for r in replicas {
        let health = r.health.as_str();
        let name = escape(&r.name);
        let _ = writeln!(
            out,
            "<tr data-replica=\"{name}\" data-health=\"{health}\"><td class=\"n\">{index}</td>\
             <td><code>{name}</code></td><td><span class=\"h h-{health}\">{health}</span></td>\
             <td class=\"n\">{lag}</td><td class=\"n\">{bytes}</td><td><code>{position}</code></td>\
             <td class=\"n\">{checked}</td><td class=\"n\">{reads}</td><td class=\"n\">{failures}</td>\
             <td class=\"n\">{fallbacks}</td><td class=\"err\">{error}</td></tr>",
            index = r.index,
            lag = r.lag.map_or_else(dash, duration),
            bytes = r.lag_bytes.map_or_else(dash, bytes),
            position = r
                .position
                .as_ref()
                .map_or_else(dash, |p| escape(&p.to_string())),
            checked = r
                .checked_ago
                .map_or_else(dash, |ago| format!("{} ago", duration(ago))),
            reads = r.reads,
            failures = r.failures,
            fallbacks = r.fallbacks,
            error = r.last_error.as_deref().map(escape).unwrap_or_default(),
        );
    }
    out.push_str("</tbody></table>\n");
}

fn decisions(out: &mut String, stats: &RoutingStats) {
    out.push_str(
        "<h2>Routing decisions</h2>\n<table id=\"decisions\"><thead><tr><th>Reason</th>\
         <th>Primary</th><th>Replica</th></tr></thead><tbody>\n",
    );
    for &reason in Reason::ALL {
        let (primary, replica) = (
            stats.count(Target::Primary, reason),
            stats.count(Target::Replica, reason),
        );
        let _ = writeln!(
            out,
            "<tr data-reason=\"{reason}\"{zero}><td>{reason}</td><td class=\"n\">{primary}</td>\
             <td class=\"n\">{replica}</td></tr>",
            zero = if primary + replica == 0 {
                " class=\"zero\""
            } else {
                ""
            },
        );
    }
    let _ = writeln!(
        out,
        "</tbody><tfoot><tr><th>total</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
         </tfoot></table>",
        stats.total(Target::Primary),
        stats.total(Target::Replica),
    );
}

fn dash() -> String {
    "–".to_owned()
}

/// `12 ms`, `1.25 s`, `3 min 20 s`.
fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{} min {} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// `512 B`, `3.5 KiB`, `1.2 MiB`…
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    // Display only: f64 is precise enough.
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `text` with `&<>"'` escaped, for element content and quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            escape(r#"<script>alert("x&y's")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;y&#39;s&quot;)&lt;/script&gt;"
        );
    }

    #[test]
    fn durations_and_sizes_read_well() {
        assert_eq!(duration(Duration::from_millis(12)), "12 ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.25 s");
        assert_eq!(duration(Duration::from_secs(200)), "3 min 20 s");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3584), "3.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 + 200 * 1024), "5.2 MiB");
    }
}
