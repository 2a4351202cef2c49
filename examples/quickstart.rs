//! multidb in one file, on embedded SQLite: no server needed.
//!
//! A primary file and two replica files opened read-only (`mode=ro`), so a
//! write sent to a replica would fail loudly. The replicas are copies of the
//! primary taken at the start and never updated: that is replication lag,
//! frozen, so you can watch read-your-writes at work.
//!
//!     cargo run -p multidb-examples --example quickstart
//!
//! Every statement is logged with where it went and why
//! (`RUST_LOG=multidb=debug` is the default here).

use std::path::Path;

use multidb_seaorm::{MultiDb, Target, scope, use_master};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Database, Set, TransactionTrait};
use tracing_subscriber::EnvFilter;

mod post {
    // SeaORM's derives generate `pub` items; this module is private to the example.
    #![allow(unreachable_pub)]
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "post")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("multidb=debug")),
        )
        .with_target(false)
        .without_time()
        .init();

    let dir = tempfile_dir()?;
    let result = run(&dir).await;
    std::fs::remove_dir_all(&dir)?;
    result
}

async fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    // The primary, with a schema and two posts.
    let primary_path = dir.join("primary.db");
    let seed = Database::connect(url(&primary_path, "rwc")).await?;
    seed.execute_unprepared(
        "CREATE TABLE post (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL);
         INSERT INTO post (title) VALUES ('first post'), ('second post');",
    )
    .await?;
    seed.close().await?;

    // The replicas: copies taken now, opened read-only.
    for name in ["replica0.db", "replica1.db"] {
        std::fs::copy(&primary_path, dir.join(name))?;
    }
    let db = MultiDb::builder()
        .primary(url(&primary_path, "rw"))
        .replica(url(&dir.join("replica0.db"), "ro"))
        .replica(url(&dir.join("replica1.db"), "ro"))
        .connect()
        .await?;

    println!("\n1. Plain reads go to the replicas, in turn:");
    for _ in 0..2 {
        let posts = post::Entity::find().all(&db).await?;
        println!("   {} posts", posts.len());
    }

    println!(
        "\n2. A request that writes: the INSERT goes to the primary, and so do its later reads:"
    );
    scope(async {
        let created = post::ActiveModel {
            title: Set("fresh post".into()),
            ..Default::default()
        }
        .insert(&db)
        .await?;
        let again = post::Entity::find_by_id(created.id).one(&db).await?;
        println!(
            "   wrote post #{}, read it back: {:?}",
            created.id,
            again.map(|p| p.title)
        );
        Ok::<_, DbErr>(())
    })
    .await?;

    println!("\n3. Another request reads a replica, which has not caught up (replication lag):");
    let count = scope(post::Entity::find().count(&db)).await?;
    println!("   the replica has {count} posts; the primary has 3");
    println!(
        "   (over HTTP, PinningLayer's cookie sends the writer's next requests to the primary)"
    );

    println!("\n4. use_master sends a block to the primary:");
    let count = use_master(post::Entity::find().count(&db)).await?;
    println!("   {count} posts");

    println!("\n5. Transactions run on the primary:");
    let txn = db.begin().await?;
    post::Entity::delete_many()
        .filter(post::Column::Title.eq("first post"))
        .exec(&txn)
        .await?;
    txn.commit().await?;

    let stats = db.stats();
    println!(
        "\nDone: {} statements on the primary, {} on replica0, {} on replica1.",
        stats.total(Target::Primary),
        stats.replica(0),
        stats.replica(1)
    );
    Ok(())
}

fn url(path: &Path, mode: &str) -> String {
    format!("sqlite://{}?mode={mode}", path.display())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("multidb-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
