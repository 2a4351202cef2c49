//! Native `async fn` in traits, and `#[async_trait]` impls and defaults.
#![deny(warnings)]

use multidb_seaorm::{db_write, use_master};

trait Native {
    async fn get(&self) -> u32;

    #[use_master]
    async fn default_method(&self) -> u32 {
        self.get().await
    }
}

struct Db;

impl Native for Db {
    #[db_write]
    async fn get(&self) -> u32 {
        1
    }
}

#[async_trait::async_trait]
trait Boxed {
    async fn get(&self, id: u32) -> Result<u32, String>;

    #[use_master]
    async fn default_method(&self) -> Result<u32, String> {
        self.get(0).await
    }
}

#[async_trait::async_trait]
impl Boxed for Db {
    #[use_master]
    async fn get(&self, id: u32) -> Result<u32, String> {
        let parsed: u32 = id.to_string().parse().map_err(|_| "bad".to_owned())?;
        Ok(parsed)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _ = Native::default_method(&Db).await;
    let _ = Boxed::default_method(&Db).await;
}
