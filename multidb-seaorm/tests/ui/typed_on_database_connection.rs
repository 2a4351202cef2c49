// Code typed on `DatabaseConnection` itself takes `db.primary()`, or is made
// generic over `ConnectionTrait`; the note names `multidb_seaorm::MultiDb`.
use multidb_seaorm::MultiDb;
use sea_orm::DatabaseConnection;

fn count(_db: &DatabaseConnection) {}

fn port(db: &MultiDb) {
    count(db);
}

fn main() {}
