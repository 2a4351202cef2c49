//! A fixed workload for `valgrind --tool=callgrind`, whose instruction
//! counts are repeatable (timings on a shared machine are not):
//!
//!     cargo test --release -p multidb-core --test classify_profile_loop --no-run
//!     valgrind --tool=callgrind target/release/deps/classify_profile_loop-* --ignored --exact <class>
//!
//! Each test classifies one statement class 10,000 times with `classify_for`.

use multidb_core::{Access, Dialect, classify_for};

const RUNS: usize = 10_000;

fn run(dialect: Dialect, sql: &str, expected: Access) {
    for _ in 0..RUNS {
        assert_eq!(classify_for(dialect, std::hint::black_box(sql)), expected);
    }
}

#[test]
#[ignore = "a profiling workload, run under callgrind"]
fn seaorm_select_pg() {
    run(
        Dialect::Postgres,
        r#"SELECT "post"."id", "post"."title", "post"."body", "post"."created_at" FROM "post" WHERE "post"."author_id" = $1 AND "post"."published" = $2 ORDER BY "post"."created_at" DESC LIMIT $3 OFFSET $4"#,
        Access::Read,
    );
}

#[test]
#[ignore = "a profiling workload, run under callgrind"]
fn seaorm_select_mysql() {
    run(
        Dialect::MySql,
        "SELECT `post`.`id`, `post`.`title`, `post`.`body`, `post`.`created_at` FROM `post` WHERE `post`.`author_id` = ? AND `post`.`published` = ? ORDER BY `post`.`created_at` DESC LIMIT ? OFFSET ?",
        Access::Read,
    );
}

#[test]
#[ignore = "a profiling workload, run under callgrind"]
fn seaorm_insert_returning() {
    run(
        Dialect::Postgres,
        r#"INSERT INTO "post" ("title", "body", "author_id") VALUES ($1, $2, $3) RETURNING "id", "title", "body", "author_id", "created_at""#,
        Access::Write,
    );
}

#[test]
#[ignore = "a profiling workload, run under callgrind"]
fn comments_and_literals_mysql() {
    run(
        Dialect::MySql,
        "/* app:forum, route:list */ SELECT `post`.`id`, `post`.`title` FROM `post` -- the list\n WHERE `post`.`title` LIKE 'it''s %' AND `post`.`body` <> 'a \\'quoted\\' -- not a comment' # trailing\n AND `post`.`kind` IN ('news', 'blog', 'event') /*+ hint */ LIMIT 20",
        Access::Read,
    );
}

#[test]
#[ignore = "a profiling workload, run under callgrind"]
fn long_join_pg() {
    run(
        Dialect::Postgres,
        r#"SELECT "post"."id", "post"."title", "post"."body", "post"."created_at", "author"."id" AS "author_id", "author"."name" AS "author_name", "author"."email" AS "author_email", COUNT("comment"."id") AS "comments", MAX("comment"."created_at") AS "last_comment" FROM "post" INNER JOIN "author" ON "post"."author_id" = "author"."id" LEFT JOIN "comment" ON "comment"."post_id" = "post"."id" LEFT JOIN "post_tag" ON "post_tag"."post_id" = "post"."id" LEFT JOIN "tag" ON "tag"."id" = "post_tag"."tag_id" WHERE "post"."published" = $1 AND "tag"."name" IN ($2, $3, $4) AND "author"."name" LIKE $5 -- only published
 GROUP BY "post"."id", "author"."id" HAVING COUNT("comment"."id") > $6 ORDER BY "post"."created_at" DESC, "post"."id" ASC LIMIT $7 OFFSET $8"#,
        Access::Read,
    );
}
