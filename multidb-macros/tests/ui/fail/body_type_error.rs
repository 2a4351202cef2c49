// A body with a type error: rustc's own error on that line, and nothing
// from the attribute.
use multidb_seaorm::use_master;

#[use_master]
async fn load(id: u32) -> u32 {
    let name: u32 = "str";
    id + name
}

fn main() {
    let _ = load(1);
}
