// A replica URL before the primary's: there is no primary to connect.
use multidb_seaorm::MultiDb;

fn main() {
    let _ = MultiDb::builder().replica("postgres://app@replica/app");
}
