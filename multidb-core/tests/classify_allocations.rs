//! The classifier allocates nothing: it runs on every statement.

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

#[test]
fn classify_does_not_allocate() {
    let statements = [
        r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2"#,
        "SELECT `cake`.`id` FROM `cake` WHERE `cake`.`id` = ? /* comment */ -- tail",
        r#"INSERT INTO "cake" ("name") VALUES ($1) RETURNING "id", "name""#,
        "WITH moved AS (DELETE FROM a RETURNING *) SELECT * FROM moved",
        "SELECT 'it''s', $tag$ update $tag$ FROM t FOR UPDATE",
        "SELECT 1; DROP TABLE t",
        "",
        "SELECT E'x'\n'\\'', slugify($1), 'it\\'s' FROM t",
    ];
    let profiler = dhat::Profiler::builder().testing().build();
    let classifier = multidb_core::Classifier::new(multidb_core::Dialect::Postgres)
        .with_read_only_functions(["slugify"])
        .expect("valid name");
    let mut catalog = multidb_core::Catalog::builder(multidb_core::Dialect::Postgres);
    catalog
        .function(
            "st_distance",
            multidb_core::Origin::Extension,
            multidb_core::Volatility::Immutable,
        )
        .function(
            "archive",
            multidb_core::Origin::User,
            multidb_core::Volatility::Volatile,
        )
        .operator(
            "&&&",
            multidb_core::Origin::Extension,
            multidb_core::Volatility::Immutable,
        );
    let with_catalog = classifier
        .clone()
        .with_catalog(std::sync::Arc::new(catalog.build()));
    let before = dhat::HeapStats::get();
    let mut writes = 0;
    for sql in statements {
        if multidb_core::classify(sql) == multidb_core::Access::Write {
            writes += 1;
        }
        for d in [
            multidb_core::Dialect::Postgres,
            multidb_core::Dialect::MySql,
            multidb_core::Dialect::Sqlite,
        ] {
            let _ = multidb_core::classify_for(d, sql);
        }
        let _ = classifier.classify(sql);
        let _ = with_catalog.classify(sql);
        let _ = with_catalog.classify("SELECT st_distance(a, b), t.archive FROM t WHERE g &&& $1");
    }
    let after = dhat::HeapStats::get();
    dhat::assert_eq!(after.total_blocks, before.total_blocks);
    assert_eq!(writes, 6);
    drop(profiler);
}
