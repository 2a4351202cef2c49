use multidb_seaorm::use_master;

#[use_master]
struct Post {
    id: u32,
}

struct Db;

#[use_master]
impl Db {
    async fn load(&self) {}
}

trait Repo {
    #[use_master]
    async fn load(&self) -> u32;
}

fn main() {
    let _ = Post { id: 1 }.id;
}
