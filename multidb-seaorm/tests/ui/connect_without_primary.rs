// `connect` needs a primary: what was MissingPrimary at run time.
use multidb_seaorm::MultiDb;

async fn run() {
    let _ = MultiDb::builder().connect().await;
}

fn main() {
    let _ = run();
}
