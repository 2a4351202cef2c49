//! How long classifying a statement takes, next to copying it: the cost
//! multidb adds to every statement. Each class is timed with `classify_for`
//! in its dialect, with the dialect-blind `classify`, and as a plain copy of
//! the string (`to_owned`) in the same run; criterion reports ns per call
//! and, through `Throughput::Bytes`, bytes per second. Those calls see the
//! same text again and again, as an application's statements are, so they
//! are answered from the verdict cache; `first_sight` times a text the
//! cache has not seen (a classifier with new declared functions each time:
//! a new cache key), which reads the whole statement and keeps its verdict.
//!
//!     cargo bench -p multidb-core --bench classify
//!
//! With `MULTIDB_BENCH_PROFILE=<function>/<class>=<n>` (`classify_for`,
//! `classify_blind`, `with_catalog` or `first_sight`) the binary instead classifies that
//! statement n times and exits: for callgrind, which counts instructions
//! where wall-clock time on a shared machine is noisy (see BENCHMARKS.md).

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, black_box};
use multidb_core::{Catalog, Classifier, Dialect, Origin, Volatility, classify, classify_for};

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

/// A catalog the size of PostgreSQL's with PostGIS: about 3,000 built-ins
/// and 1,000 extension functions.
fn catalog(dialect: Dialect) -> Arc<Catalog> {
    let mut b = Catalog::builder(dialect);
    for i in 0..3000 {
        b.function(
            &format!("builtin_{i}"),
            Origin::BuiltIn,
            Volatility::Immutable,
        );
    }
    for i in 0..1000 {
        b.function(
            &format!("st_fn_{i}"),
            Origin::Extension,
            Volatility::Immutable,
        );
    }
    b.function("count", Origin::BuiltIn, Volatility::Immutable);
    Arc::new(b.build())
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("classify");
    for &(name, dialect, sql) in STATEMENTS {
        let with_catalog = Classifier::new(dialect).with_catalog(catalog(dialect));
        group.throughput(Throughput::Bytes(sql.len() as u64));
        group.bench_function(BenchmarkId::new("classify_for", name), |b| {
            b.iter(|| classify_for(black_box(dialect), black_box(sql)))
        });
        group.bench_function(BenchmarkId::new("with_catalog", name), |b| {
            b.iter(|| with_catalog.classify(black_box(sql)))
        });
        group.bench_function(BenchmarkId::new("first_sight", name), |b| {
            b.iter_batched(
                || unseen(dialect),
                |classifier| classifier.classify(black_box(sql)),
                criterion::BatchSize::SmallInput,
            )
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

/// A classifier whose verdicts the cache holds none of yet: declared
/// functions (none the statements call) make a new cache key.
fn unseen(dialect: Dialect) -> Classifier {
    Classifier::new(dialect)
        .with_read_only_functions(["bench_unused"])
        .expect("a valid name")
}

/// `MULTIDB_BENCH_PROFILE=<function>/<class>=<n>`: classify n times.
fn profile(spec: &str) {
    let (case, n) = spec.rsplit_once('=').expect("<function>/<class>=<n>");
    let n: u64 = n.parse().expect("a number of operations");
    let (function, class) = case.split_once('/').expect("<function>/<class>");
    let &(_, dialect, sql) = STATEMENTS
        .iter()
        .find(|(name, _, _)| *name == class)
        .unwrap_or_else(|| {
            panic!(
                "no class {class:?}: {:?}",
                STATEMENTS.iter().map(|s| s.0).collect::<Vec<_>>()
            )
        });
    let with_catalog = Classifier::new(dialect).with_catalog(catalog(dialect));
    for _ in 0..n {
        if function == "first_sight" {
            let classifier = unseen(dialect);
            black_box(classifier.classify(black_box(sql)));
            continue;
        }
        let access = match function {
            "classify_for" => classify_for(black_box(dialect), black_box(sql)),
            "classify_blind" => classify(black_box(sql)),
            "with_catalog" => with_catalog.classify(black_box(sql)),
            other => panic!("no function {other:?}"),
        };
        black_box(access);
    }
}

fn main() {
    if let Ok(spec) = std::env::var("MULTIDB_BENCH_PROFILE") {
        profile(&spec);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
