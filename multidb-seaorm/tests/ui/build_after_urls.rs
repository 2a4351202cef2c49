// URLs given to the builder cannot be followed by `build`, which takes open
// connections and would ignore them.
use multidb_seaorm::MultiDb;
use sea_orm::DatabaseConnection;

fn main() {
    let primary = DatabaseConnection::default();
    let _ = MultiDb::builder()
        .primary("postgres://app@primary/app")
        .build(primary, vec![]);
}
