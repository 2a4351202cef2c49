#[multidb_seaorm::use_master(replica = "primary")]
async fn load() {}

#[multidb_seaorm::db_write(crate = "::multidb_seaorm", name)]
async fn save() {}

fn main() {}
