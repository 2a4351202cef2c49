use multidb_seaorm::{db_write, use_master};

#[use_master]
fn load() -> u32 {
    1
}

#[db_write]
pub fn save() {}

fn main() {
    let _ = load();
    save();
}
