//! What both forums (axum's `app.rs`, actix-web's `actix.rs`) share: the
//! post table, its queries, and the pages, so that the two differ only in
//! their HTTP plumbing and layer order.

use multidb_seaorm::MultiDb;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend, QueryOrder, QuerySelect, Set};
use serde::Deserialize;

/// The `forum_post` table.
pub(crate) mod post {
    // SeaORM's derives generate `pub` items; this module is private to the forum.
    #![allow(unreachable_pub)]
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "forum_post")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The longest title accepted, in characters (the column is `VARCHAR(200)`).
const MAX_TITLE_CHARS: usize = 200;

/// Posts per page of `GET /posts`.
pub(crate) const PAGE_SIZE: u64 = 50;

/// `CREATE TABLE IF NOT EXISTS forum_post` for `backend`.
pub(crate) fn create_table_sql(backend: DbBackend) -> String {
    let id = match backend {
        DbBackend::Postgres => "id SERIAL PRIMARY KEY",
        DbBackend::MySql => "id INT AUTO_INCREMENT PRIMARY KEY",
        _ => "id INTEGER PRIMARY KEY AUTOINCREMENT",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS forum_post ({id}, title VARCHAR(200) NOT NULL, body TEXT NOT NULL)"
    )
}

/// Create the table on `db`'s primary if it is missing. Replicas get it by
/// replication (on SQLite, the caller creates it in each file): wait (up to
/// 30 s) until every replica that takes reads has it, so that the very
/// first `GET /posts` does not meet "relation does not exist" on a lagging
/// replica.
pub(crate) async fn create_schema(db: &MultiDb) -> Result<(), DbErr> {
    let sql = create_table_sql(db.get_database_backend());
    let position = multidb_seaorm::scope(async {
        db.execute_unprepared(&sql).await?;
        db.write_position().await
    })
    .await?;
    let Some(position) = position else {
        return Ok(()); // SQLite: no replication
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let behind = db.replica_status().into_iter().filter(|r| {
            r.health == multidb_seaorm::ReplicaHealth::Up
                && !r
                    .position
                    .as_ref()
                    .is_some_and(|p| position.reached_by(position.cluster(), p))
        });
        if behind.count() == 0 || std::time::Instant::now() > deadline {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The query of `GET /posts`: `?before=<id>` for the page of older posts.
#[derive(Deserialize)]
pub(crate) struct Page {
    before: Option<i32>,
}

/// The form of `POST /posts`.
#[derive(Deserialize)]
pub(crate) struct NewPost {
    title: String,
    #[serde(default)]
    body: String,
}

/// `GET /posts`: one page of posts, newest first (keyset pagination: the
/// page after is `?before=<the last id shown>`, which stays right while
/// posts are added), and the form to write one.
pub(crate) async fn list_page(db: &MultiDb, Page { before }: Page) -> Result<String, DbErr> {
    let mut query = post::Entity::find().order_by_desc(post::Column::Id);
    if let Some(before) = before {
        query = query.filter(post::Column::Id.lt(before));
    }
    // One more than a page says whether there is a next page.
    let mut posts = query.limit(PAGE_SIZE + 1).all(db).await?;
    let more = posts.len() as u64 > PAGE_SIZE;
    posts.truncate(PAGE_SIZE as usize);
    let mut page = String::from(
        "<!doctype html><title>forum</title><h1>Forum</h1>\n\
         <form method=post action=/posts>\
         <p><input name=title placeholder=Title required maxlength=200>\
         <p><textarea name=body placeholder=Body></textarea>\
         <p><button>Post</button></form>\n<ul>\n",
    );
    for post in &posts {
        page.push_str(&format!(
            "<li><a href=\"/posts/{}\">{}</a></li>\n",
            post.id,
            escape(&post.title)
        ));
    }
    page.push_str("</ul>\n");
    match posts.last() {
        Some(last) if more => page.push_str(&format!(
            "<p><a href=\"/posts?before={}\">older posts</a></p>\n",
            last.id
        )),
        _ => page.push_str("<p>no older posts</p>\n"),
    }
    Ok(page)
}

/// `POST /posts`: the new post's id, or (`Ok(Err(..))`) why the form is
/// refused (answered `422`).
pub(crate) async fn create_post(db: &MultiDb, form: NewPost) -> Result<Result<i32, String>, DbErr> {
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Ok(Err(format!(
            "a title of 1 to {MAX_TITLE_CHARS} characters is required\n"
        )));
    }
    let created = post::ActiveModel {
        title: Set(title.to_owned()),
        body: Set(form.body),
        ..Default::default()
    }
    .insert(db)
    .await?;
    tracing::info!(id = created.id, "post created");
    Ok(Ok(created.id))
}

/// `GET /posts/{id}`: the post's page, or `None`.
pub(crate) async fn post_page(db: &MultiDb, id: i32) -> Result<Option<String>, DbErr> {
    Ok(post::Entity::find_by_id(id).one(db).await?.map(|post| {
        format!(
            "<!doctype html><title>{title}</title><h1>{title}</h1>\n<p>{body}</p>\n\
             <p><a href=/posts>all posts</a></p>\n",
            title = escape(&post.title),
            body = escape(&post.body),
        )
    }))
}

/// `text` made safe inside HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
