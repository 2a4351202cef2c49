//! `#[use_master]` and `#[db_write]` on methods of `#[async_trait]` traits and
//! impls: `#[async_trait]` expands first, and the attribute wraps the
//! `Box::pin(async move { .. })` it leaves.

use async_trait::async_trait;
use multidb_core::context::RequestContext;
use multidb_seaorm::{db_write, this_task_is_pinned, use_master};

#[derive(Debug, PartialEq)]
struct NotFound;

#[async_trait]
trait Orders {
    async fn load(&self, id: u32) -> Result<u32, NotFound>;

    async fn place(&mut self, total: u32) -> Result<u32, Box<dyn std::error::Error + Send + Sync>>;

    /// A default method, wrapped in the trait.
    #[use_master]
    async fn count(&self) -> usize {
        assert!(this_task_is_pinned());
        0
    }

    async fn consume(self) -> bool
    where
        Self: Sized;
}

struct Db {
    rows: Vec<u32>,
}

#[async_trait]
impl Orders for Db {
    #[use_master]
    async fn load(&self, id: u32) -> Result<u32, NotFound> {
        assert!(this_task_is_pinned());
        let row = self.rows.get(id as usize).ok_or(NotFound)?;
        Ok(*row)
    }

    /// Doc comments and other attributes stay.
    #[db_write]
    #[allow(clippy::needless_return)]
    async fn place(&mut self, total: u32) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
        assert!(this_task_is_pinned());
        let parsed: u32 = total.to_string().parse()?;
        if parsed == 0 {
            return Err("empty order".into());
        }
        self.rows.push(parsed);
        return Ok(parsed);
    }

    #[use_master]
    async fn consume(self) -> bool {
        this_task_is_pinned() && !self.rows.is_empty()
    }
}

#[tokio::test]
async fn async_trait_methods_are_wrapped() {
    let request = RequestContext::new();
    request
        .scope(false, async {
            let mut db = Db { rows: vec![7] };
            assert_eq!(db.load(0).await, Ok(7));
            assert_eq!(db.load(5).await, Err(NotFound));
            assert!(!this_task_is_pinned());
            assert_eq!(db.place(3).await.ok(), Some(3));
            assert!(db.place(0).await.is_err());
            assert_eq!(db.count().await, 0);
            assert!(db.consume().await);
            assert!(!this_task_is_pinned());
        })
        .await;
    assert!(request.db_write_marked());
}

#[tokio::test]
async fn async_trait_objects() {
    let db: Box<dyn Orders + Send + Sync> = Box::new(Db { rows: vec![1] });
    let request = RequestContext::new();
    let handle = tokio::spawn(request.scope(false, async move { db.load(0).await }));
    assert_eq!(handle.await.expect("the task ran"), Ok(1));
    assert!(!request.db_write_marked());
}
