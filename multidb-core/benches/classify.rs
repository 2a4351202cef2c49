//! How long classifying a statement takes, next to copying it: the cost
//! multidb adds to every statement. Each class is timed with `classify_for`
//! in its dialect, with the dialect-blind `classify`, and as a plain copy of
//! the string (`to_owned`) in the same run; criterion reports ns per call
//! and, through `Throughput::Bytes`, bytes per second.
//!
//!     cargo bench -p multidb-core --bench classify

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use multidb_core::{Dialect, classify, classify_for};

/// (class, dialect, SQL)
pub const STATEMENTS: &[(&str, Dialect, &str)] = &[
    (
        "seaorm_select_pg",
        Dialect::Postgres,
        r#"SELECT "post"."id", "post"."title", "post"."body", "post"."created_at" FROM "post" WHERE "post"."author_id" = $1 AND "post"."published" = $2 ORDER BY "post"."created_at" DESC LIMIT $3 OFFSET $4"#,
    ),
    (
        "seaorm_select_mysql",
        Dialect::MySql,
        "SELECT `post`.`id`, `post`.`title`, `post`.`body`, `post`.`created_at` FROM `post` WHERE `post`.`author_id` = ? AND `post`.`published` = ? ORDER BY `post`.`created_at` DESC LIMIT ? OFFSET ?",
    ),
    (
        "seaorm_insert_returning",
        Dialect::Postgres,
        r#"INSERT INTO "post" ("title", "body", "author_id") VALUES ($1, $2, $3) RETURNING "id", "title", "body", "author_id", "created_at""#,
    ),
    (
        "long_join_pg",
        Dialect::Postgres,
        r#"SELECT "post"."id", "post"."title", "post"."body", "post"."created_at", "author"."id" AS "author_id", "author"."name" AS "author_name", "author"."email" AS "author_email", COUNT("comment"."id") AS "comments", MAX("comment"."created_at") AS "last_comment" FROM "post" INNER JOIN "author" ON "post"."author_id" = "author"."id" LEFT JOIN "comment" ON "comment"."post_id" = "post"."id" LEFT JOIN "post_tag" ON "post_tag"."post_id" = "post"."id" LEFT JOIN "tag" ON "tag"."id" = "post_tag"."tag_id" WHERE "post"."published" = $1 AND "tag"."name" IN ($2, $3, $4) AND "author"."name" LIKE $5 -- only published
 GROUP BY "post"."id", "author"."id" HAVING COUNT("comment"."id") > $6 ORDER BY "post"."created_at" DESC, "post"."id" ASC LIMIT $7 OFFSET $8"#,
    ),
    (
        "comments_and_literals_mysql",
        Dialect::MySql,
        "/* app:forum, route:list */ SELECT `post`.`id`, `post`.`title` FROM `post` -- the list\n WHERE `post`.`title` LIKE 'it''s %' AND `post`.`body` <> 'a \\'quoted\\' -- not a comment' # trailing\n AND `post`.`kind` IN ('news', 'blog', 'event') /*+ hint */ LIMIT 20",
    ),
    (
        "comments_and_literals_pg",
        Dialect::Postgres,
        "/* app:forum */ SELECT \"id\", 'it''s', E'a\\'b', $tag$ DELETE $tag$, data #>> '{a,b}' FROM \"post\" -- list\n WHERE \"title\" LIKE 'x%' /* nested /* comment */ */ AND \"body\" <> 'y' LIMIT 20",
    ),
];

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("classify");
    for &(name, dialect, sql) in STATEMENTS {
        group.throughput(Throughput::Bytes(sql.len() as u64));
        group.bench_function(BenchmarkId::new("classify_for", name), |b| {
            b.iter(|| classify_for(black_box(dialect), black_box(sql)))
        });
        group.bench_function(BenchmarkId::new("classify_blind", name), |b| {
            b.iter(|| classify(black_box(sql)))
        });
        group.bench_function(BenchmarkId::new("to_owned", name), |b| {
            b.iter(|| black_box(sql).to_owned())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
