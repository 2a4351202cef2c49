// The shape `#[async_trait]` leaves (a non-async fn returning
// `Box::pin(async move { .. })`), with a syntax error in the async block:
// rustc's own error, and nothing from the attribute.
use std::future::Future;
use std::pin::Pin;

struct Db;

impl Db {
    #[multidb_seaorm::use_master]
    fn load(&self) -> Pin<Box<dyn Future<Output = u32> + Send + '_>> {
        Box::pin(async move {
            let id = 1
            id
        })
    }
}

fn main() {
    let _ = Db.load();
}
