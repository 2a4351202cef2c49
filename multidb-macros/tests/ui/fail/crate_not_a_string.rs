#[multidb_seaorm::use_master(crate = 5)]
async fn load() {}

#[multidb_seaorm::use_master(crate = multidb_seaorm)]
async fn load_path() {}

#[multidb_seaorm::use_master(crate = "not a path")]
async fn load_bad_path() {}

#[multidb_seaorm::use_master(crate)]
async fn load_missing() {}

fn main() {}
