// A `crate` path that does not hold the runtime functions: the error points
// at the attribute.
#[multidb_seaorm::use_master(crate = "std")]
async fn load() {}

fn main() {}
