// A body with a syntax error, the commonest case while typing: rustc's own
// error on that line, and nothing from the attribute.
use multidb_seaorm::{db_write, use_master};

#[use_master]
async fn load(id: u32) -> Result<u32, String> {
    let doubled = id * 2
    Ok(doubled)
}

#[db_write]
async fn save(total: u32) -> u32 {
    let saved = total + ;
    saved
}

fn main() {
    let _ = load(1);
    let _ = save(2);
}
