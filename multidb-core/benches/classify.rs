//! How long classifying a statement takes, next to copying it: the cost
//! multidb adds to every statement.
//!
//!     cargo bench -p multidb-core --bench classify

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};

const STATEMENTS: [(&str, &str); 4] = [
    (
        "seaorm_select",
        r#"SELECT "post"."id", "post"."title", "post"."body", "post"."created_at" FROM "post" WHERE "post"."author_id" = $1 AND "post"."published" = $2 ORDER BY "post"."created_at" DESC LIMIT $3 OFFSET $4"#,
    ),
    (
        "seaorm_insert_returning",
        r#"INSERT INTO "post" ("title", "body", "author_id") VALUES ($1, $2, $3) RETURNING "id", "title", "body", "author_id", "created_at""#,
    ),
    (
        "mysql_select_with_comments",
        "/* app:forum */ SELECT `post`.`id`, `post`.`title` FROM `post` -- list\n WHERE `post`.`title` LIKE 'it''s %' LIMIT 20",
    ),
    (
        "cte_with_lock",
        "WITH recent AS (SELECT id FROM post ORDER BY id DESC LIMIT 10) SELECT * FROM post JOIN recent USING (id) FOR UPDATE",
    ),
];

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("classify");
    for (name, sql) in STATEMENTS {
        group.bench_function(name, |b| b.iter(|| multidb_core::classify(black_box(sql))));
        group.bench_function(format!("{name}/to_owned_baseline"), |b| {
            b.iter(|| black_box(sql).to_owned())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
