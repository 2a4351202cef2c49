//! Unit tests of the classifier; the property tests and the differential
//! tests against real parsers are in `multidb-core/tests/`.

use super::*;

#[track_caller]
fn read(sql: &str) {
    blind_fast_agrees(sql);
    assert_eq!(classify(sql), Access::Read, "expected Read: {sql:?}");
}

#[track_caller]
fn write(sql: &str) {
    blind_fast_agrees(sql);
    assert_eq!(classify(sql), Access::Write, "expected Write: {sql:?}");
}

/// The fast path proves only what the full scan finds.
#[track_caller]
fn fast_agrees(dialect: Dialect, sql: &str, extra: scan::Extra<'_>) {
    let profiles = profile::of(dialect);
    if fast::proven_read(sql.as_bytes(), profiles[0], extra) {
        assert_eq!(
            full_verdict(profiles[0], &profiles[1..], sql.as_bytes(), extra),
            Access::Read,
            "the fast path called a write a read ({dialect:?}): {sql:?}"
        );
    }
}

/// The dialect-blind fast path proves only what the pre-scan and the
/// blind full scan find.
#[track_caller]
fn blind_fast_agrees(sql: &str) {
    if fast::proven_read(sql.as_bytes(), profile::BLIND_FAST, scan::Extra::default()) {
        assert_eq!(
            blind_full(sql.as_bytes()),
            Access::Read,
            "the blind fast path called a write a read: {sql:?}"
        );
        let scan = profile::prescan(sql.as_bytes());
        assert!(
            scan.is_some_and(|s| !s.divergent),
            "the blind fast path took a divergent text: {sql:?}"
        );
    }
}

#[track_caller]
fn expect(dialect: Dialect, sql: &str, access: Access) {
    blind_fast_agrees(sql);
    fast_agrees(dialect, sql, scan::Extra::default());
    assert_eq!(classify_for(dialect, sql), access, "{dialect:?}: {sql:?}");
    assert_eq!(
        Classifier::new(dialect).classify(sql),
        access,
        "{dialect:?}: {sql:?}"
    );
    // The blind form is never less conservative.
    if access == Access::Write {
        assert_eq!(classify(sql), Access::Write, "blind: {sql:?}");
    }
}

#[track_caller]
fn pg_read(sql: &str) {
    expect(Dialect::Postgres, sql, Access::Read);
}

#[track_caller]
fn pg_write(sql: &str) {
    expect(Dialect::Postgres, sql, Access::Write);
}

#[track_caller]
fn my_read(sql: &str) {
    expect(Dialect::MySql, sql, Access::Read);
}

#[track_caller]
fn my_write(sql: &str) {
    expect(Dialect::MySql, sql, Access::Write);
}

#[track_caller]
fn lite_read(sql: &str) {
    expect(Dialect::Sqlite, sql, Access::Read);
}

#[track_caller]
fn lite_write(sql: &str) {
    expect(Dialect::Sqlite, sql, Access::Write);
}

/// Write in every dialect and in the blind form.
#[track_caller]
fn all_write(sql: &str) {
    for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
        expect(d, sql, Access::Write);
    }
}

#[test]
fn seaorm_postgres_reads() {
    read(r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2"#);
    read(
        r#"SELECT COUNT(*) AS num_items FROM (SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."name" LIKE $1) AS "sub_query""#,
    );
    read(
        r#"SELECT "fruit"."id", "fruit"."name", "fruit"."cake_id" FROM "fruit" INNER JOIN "cake" ON "fruit"."cake_id" = "cake"."id" WHERE "cake"."id" IN ($1, $2, $3) ORDER BY "fruit"."id" ASC"#,
    );
    read(
        r#"SELECT CAST("cake"."price" AS text), "cake"."tags" @> $1 FROM "cake" WHERE "cake"."name" ILIKE $2 OFFSET $3"#,
    );
    // SQLite has no `ANY(`: an application function could answer to it.
    pg_read("select * from cake where id = any($1)");
    write("select * from cake where id = any($1)");
    read("SELECT 1");
}

/// What the workspace's real-replica tests send to learn which server answered.
#[test]
fn server_probes_of_the_integration_tests_are_reads() {
    pg_read("SELECT inet_server_port()::bigint AS port");
    my_read("SELECT CAST(@@port AS SIGNED) AS port");
    pg_write("SELECT inet_server_port()::bigint AS port FROM lock_post LIMIT 1 FOR UPDATE");
    // The blind form does not know `inet_server_port` in MySQL or SQLite.
    write("SELECT inet_server_port()::bigint AS port");
}

#[test]
fn seaorm_mysql_and_sqlite_reads() {
    read("SELECT `cake`.`id` FROM `cake` WHERE `cake`.`id` = ?");
    read(
        "SELECT COUNT(*) AS num_items FROM (SELECT `cake`.`id`, `cake`.`name` FROM `cake`) AS `sub_query`",
    );
    read(r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = ? LIMIT ?"#);
    read("SELECT `id` FROM `cake` WHERE `name` = ? LIMIT ? OFFSET ?");
}

#[test]
fn other_reads() {
    read("WITH t AS (SELECT 1 AS x) SELECT x FROM t");
    read(
        "WITH RECURSIVE n(i) AS (VALUES (1) UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT * FROM n",
    );
    read("VALUES (1, 'a'), (2, 'b')");
    read("TABLE cake");
    // Session settings answer differently on a replica's connection.
    write("SHOW search_path");
    read("SHOW server_version");
    read("SHOW TABLES LIKE 'cake%'");
    read("SHOW CREATE TABLE cake");
    read("EXPLAIN SELECT * FROM cake");
    read("EXPLAIN (FORMAT JSON, COSTS false) SELECT * FROM cake");
    read("EXPLAIN QUERY PLAN SELECT * FROM cake");
    read("DESCRIBE cake");
    read("DESC cake");
    read("(SELECT 1) UNION (SELECT 2)");
    read("((SELECT 1)) INTERSECT (SELECT 1) EXCEPT SELECT 2");
    read("(VALUES (1))");
    read("SELECT 1;");
    read("SELECT 1 ; -- done\n /* really */ ");
    read("SELECT replace(name, 'a', 'b') FROM cake");
    read("SELECT * FROM cake ORDER BY id DESC FETCH NEXT 10 ROWS ONLY");
    read("SELECT substring(name FROM 1 FOR 3) FROM cake");
    pg_read("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), pg_typeof(1)");
    pg_read("SELECT pg_size_pretty(pg_total_relation_size('cake'))");
    // Blind: SQLite and MySQL know no `pg_typeof`.
    write("SELECT pg_typeof(1)");
    read("SELECT share, lock FROM stocks");
    // SQLite has no `ANY(`: an application function could answer to it.
    pg_read("SELECT * FROM t WHERE x = ANY(ARRAY[1, 2]) AND y[1] = 2");
    write("SELECT * FROM t WHERE x = ANY(ARRAY[1, 2]) AND y[1] = 2");
    read("SELECT data #>> '{a,b}' FROM t");
    read("SELECT a # b FROM t");
    // `@a` is a MySQL user variable: session state.
    write("SELECT @a, @@version");
    read("SELECT @@version");
    read("SELECT $1::text, $2::int");
}

#[test]
fn dml_is_write() {
    write(r#"INSERT INTO "cake" ("name") VALUES ($1) RETURNING "id", "name""#);
    write("INSERT INTO `cake` (`name`) VALUES (?)");
    write(r#"UPDATE "cake" SET "name" = $1 WHERE "cake"."id" = $2"#);
    write(r#"DELETE FROM "cake" WHERE "cake"."id" = $1"#);
    write("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE");
    write("REPLACE INTO cake (id, name) VALUES (1, 'x')");
    write("UPSERT INTO cake VALUES (1)");
    write("INSERT OR REPLACE INTO cake VALUES (1)");
    write("(INSERT INTO cake VALUES (1))");
}

#[test]
fn ddl_and_admin_is_write() {
    for sql in [
        "CREATE TABLE t (id int)",
        "ALTER TABLE t ADD COLUMN c int",
        "DROP TABLE t",
        "TRUNCATE t",
        "RENAME TABLE a TO b",
        "COMMENT ON TABLE t IS 'x'",
        "GRANT SELECT ON t TO u",
        "REVOKE ALL ON t FROM u",
        "REFRESH MATERIALIZED VIEW v",
        "CLUSTER t",
        "REINDEX TABLE t",
        "VACUUM",
        "VACUUM ANALYZE t",
        "ANALYZE t",
        "CHECKPOINT",
        "DISCARD ALL",
        "OPTIMIZE TABLE t",
        "FLUSH TABLES",
        "KILL 42",
        "USE shop",
    ] {
        write(sql);
    }
}

#[test]
fn session_and_transaction_control_is_write() {
    for sql in [
        "SET search_path = public",
        "SET NAMES utf8mb4",
        "RESET ALL",
        "BEGIN",
        "START TRANSACTION",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT s",
        "LISTEN ch",
        "NOTIFY ch, 'x'",
        "UNLISTEN *",
        "PREPARE p AS SELECT 1",
        "EXECUTE p",
        "DEALLOCATE p",
        "LOCK TABLE t IN SHARE MODE",
        "CALL proc()",
        "DO $$ BEGIN PERFORM 1; END $$",
        "COPY t FROM STDIN",
        "COPY (SELECT 1) TO STDOUT",
        "HANDLER t OPEN",
        "LOAD DATA INFILE 'x' INTO TABLE t",
    ] {
        write(sql);
    }
}

#[test]
fn locking_reads_are_write() {
    write("SELECT * FROM t FOR UPDATE");
    write("SELECT * FROM t FOR SHARE");
    write("SELECT * FROM t FOR NO KEY UPDATE");
    write("SELECT * FROM t FOR KEY SHARE");
    write("SELECT * FROM t FOR UPDATE OF t NOWAIT");
    write("SELECT * FROM t FOR UPDATE OF t SKIP LOCKED");
    write("SELECT * FROM t for\n\tupdate");
    write("SELECT * FROM t FOR /* hm */ SHARE");
    write("SELECT * FROM t LOCK IN SHARE MODE");
    write("(SELECT * FROM t FOR UPDATE)");
}

#[test]
fn data_modifying_ctes_and_into_are_write() {
    write("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x");
    write("WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x");
    write("WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM x");
    write("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x");
    write("WITH x AS (SELECT 1) DELETE FROM t");
    write("SELECT * INTO new_table FROM t");
    write("SELECT * FROM t INTO OUTFILE '/tmp/x'");
    write("SELECT a INTO @v FROM t");
    write("SELECT @v := 1");
    write("VALUES (1) RETURNING 1");
}

#[test]
fn side_effect_functions_are_write() {
    for sql in [
        "SELECT nextval('s')",
        "SELECT NEXTVAL('s')",
        "SELECT pg_catalog.nextval('s')",
        r#"SELECT "nextval"('s')"#,
        "SELECT setval('s', 1)",
        "SELECT currval('s')",
        "SELECT lastval()",
        "SELECT NEXT VALUE FOR s",
        "SELECT PREVIOUS VALUE FOR s",
        "SELECT s.nextval FROM dual",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_advisory_xact_lock_shared(1)",
        "SELECT pg_try_advisory_lock(1)",
        "SELECT pg_advisory_unlock_all()",
        "SELECT pg_notify('ch', 'x')",
        "SELECT set_config('a.b', 'c', false)",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_unlink(42)",
        "SELECT txid_current()",
        "SELECT pg_current_xact_id()",
        "SELECT pg_current_wal_lsn()",
        "SELECT pg_switch_wal()",
        "SELECT pg_terminate_backend(1)",
        "SELECT * FROM dblink('db', 'DELETE FROM t') AS x(a int)",
        "SELECT query_to_xml('select 1', true, true, '')",
        "SELECT U&\"\\006Eextval\"('s')",
    ] {
        write(sql);
    }
}

#[test]
fn explain_analyze_and_explained_writes_are_write() {
    write("EXPLAIN ANALYZE SELECT * FROM t");
    write("EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM t");
    write("EXPLAIN (FORMAT JSON, ANALYSE true) SELECT 1");
    write("EXPLAIN UPDATE t SET a = 1");
    write("EXPLAIN DELETE FROM t");
    write("EXPLAIN INSERT INTO t VALUES (1)");
    write("EXPLAIN EXECUTE p");
    write("EXPLAIN CREATE TABLE x AS SELECT 1");
    write("DESCRIBE DELETE FROM t");
    write("(EXPLAIN SELECT 1)");
    write("(SHOW TABLES)");
}

#[test]
fn comments_never_fool_it() {
    read("SELECT 1 -- DELETE FROM t");
    read("SELECT 1 -- ; DELETE FROM t\n");
    read("/* INSERT */ SELECT 1");
    read("-- UPDATE t\nSELECT 1");
    read("SELECT /* FOR UPDATE */ 1 FROM t /*; DROP TABLE t */");
    read("SELECT 1 /*+ MAX_EXECUTION_TIME(1000) */");
    write("/* SELECT */ DELETE FROM t");
    write("-- SELECT 1\nDELETE FROM t");
    write("SELECT 1 -- x\r; DELETE FROM t");
    // Postgres nests comments, MySQL and SQLite do not.
    write("SELECT 1 /* /* */ ; DELETE FROM t /* */ */");
    read("SELECT 1 /* /* */ */");
    write("SELECT 1 /* /* */");
    // MySQL executable comments run.
    write("SELECT 1 /*! FOR UPDATE */");
    write("SELECT * FROM t /*!50000 FOR UPDATE */");
    write("SELECT 1 /*M! ; DELETE FROM t */");
    // `#`: an operator in Postgres, a comment in MySQL.
    read("SELECT 1 # just a comment in MySQL\n");
    write("SELECT 1 # DELETE\n");
    write("SELECT a # 1 FROM t; DELETE FROM t");
    write("SELECT 1 #'\n; DELETE FROM t; -- '");
    // `--` without a space is not a comment in MySQL.
    write("SELECT 1 --'\n, '; DELETE FROM t; --'");
    read("SELECT 1 -- '\n");
    // Comment-only text cannot be proven a read.
    write("-- SELECT 1");
    write("/* SELECT 1 */");
}

#[test]
fn strings_never_fool_it() {
    read("SELECT 'DELETE FROM t'");
    read("SELECT 'it''s; DROP TABLE t' FROM t");
    read("SELECT E'it\\'s' FROM t");
    // Without backslash escapes (MySQL NO_BACKSLASH_ESCAPES) the `;` is code.
    write("SELECT E'it\\'s; DELETE' FROM t");
    read("SELECT 'it\\'s' FROM t");
    read("SELECT * FROM t WHERE a = 'O''Brien' AND b = 'x--y' AND c = '/*'");
    read("SELECT N'update', X'FF', B'01', U&'d\\0061t\\+000061'");
    read("SELECT _utf8mb4'delete' COLLATE utf8mb4_bin");
    write("SELECT '' ; DELETE FROM t");
    // A backslash ends a Postgres string but escapes in MySQL: both readings count.
    write("SELECT 'a\\'; DELETE FROM t; -- '");
    write("SELECT '\\' ; DELETE FROM t; SELECT ''");
    write("SELECT \"\\\" ; DELETE FROM t; SELECT \"");
    write("SELECT E'\\' ; DELETE FROM t; SELECT '");
}

#[test]
fn quoted_identifiers_never_fool_them() {
    read(r#"SELECT "update", "delete" FROM "insert" WHERE "for" = 'share'"#);
    read(r#"SELECT "a""; DELETE FROM t" FROM t"#);
    read("SELECT `delete`, `update` FROM `insert`");
    read("SELECT `a``; DROP TABLE t` FROM t");
    read("SELECT [insert] FROM [delete]");
    read("SELECT `into` FROM `t` FOR SYSTEM_TIME AS OF '2020-01-01'");
    write(r#"SELECT "x" FROM t FOR UPDATE"#);
    write("SELECT [a] FROM t; DELETE FROM t");
    write("SELECT [a'] FROM t; DELETE FROM t; SELECT [']");
    write("SELECT x[']'] ; DELETE FROM t");
    write("SELECT [insert into] FROM t");
    write(r#"SELECT "a" FROM "t"; UPDATE "t" SET "a" = 1"#);
}

#[test]
fn dollar_quotes() {
    read("SELECT $$it's$$");
    read("SELECT $tag$a 'quote' and a \"dq\"$tag$ AS x");
    read("SELECT $a$ $ $b$ $a$");
    // MySQL and SQLite read dollar-quoted text as code.
    write("SELECT $$ DELETE FROM t $$");
    write("SELECT $q$ ; DROP TABLE t $q$");
    // A dollar quote hides nothing from the Postgres reading either.
    write("SELECT $$x$$; DELETE FROM t");
    write("SELECT $a$ $$ $a$ FOR UPDATE");
    // Unterminated.
    write("SELECT $$abc");
    write("SELECT $tag$abc$tagx$");
    // `$` inside an identifier does not open a quote.
    write("SELECT x$a$ FROM t; DELETE FROM t; SELECT $a$");
    // SQLite TCL-style parameters swallow `(...)`.
    write("SELECT $a(') FROM t; DELETE FROM t; SELECT $b(')");
    read("SELECT :name, :other FROM t");
}

#[test]
fn case_whitespace_and_parentheses() {
    read("select 1");
    read("SeLeCt\t*\nFROM\r\ncake");
    read("\n\t  SELECT 1  \n");
    read("(((SELECT 1)))");
    read("SELECT (1 + (2 * 3))");
    write("InSeRt InTo t VaLuEs (1)");
    write("sElEcT * fRoM t FoR uPdAtE");
    write("SELECT (1");
    write("SELECT 1)");
    write("(SELECT 1");
    write("SELECT 1 FROM t WHERE (a = 1))");
    write("()");
    write("(");
    write(")");
}

#[test]
fn identifiers_containing_keywords_are_identifiers() {
    read(
        "SELECT nextval_count, updated_at, insert_date, for_update_flag, returning_customer, deleted, created_at FROM t",
    );
    read("SELECT t.created_by, t.into_count, lock_version, share_price FROM t");
    read("SELECT selected, setvalue, droplet, altered FROM t");
    read("SELECT café_update, x$update FROM t");
    // Bare write keywords as identifiers: conservatively Write.
    write("SELECT t.update FROM t");
    write("SELECT 1 AS delete");
    write("SELECT t.nextval FROM t");
}

#[test]
fn multiple_statements_are_write() {
    write("SELECT 1; SELECT 2");
    write("SELECT 1;SELECT 2");
    write("SELECT 1;;");
    write("SELECT 1; -- c\n DELETE FROM t");
    write("SELECT 1; /* c */ x");
    write("SELECT (1; 2)");
    write(";");
    write("; SELECT 1");
    read("SELECT 1;  \n\t-- trailing comment");
}

#[test]
fn empty_and_unparsable_are_write() {
    for sql in [
        "",
        " ",
        "\n\t",
        ";",
        "-- nothing",
        "/* nothing */",
        "SELECT 'abc",
        "SELECT \"abc",
        "SELECT `abc",
        "SELECT 1 /* unterminated",
        "SELECT $$unterminated",
        "SELECT 1\0",
        "1",
        "'SELECT 1'",
        "\"select\"",
        "SELECT[abc",
        "SELECT a]",
    ] {
        write(sql);
    }
}

#[test]
fn mysql_mariadb_specials() {
    write("SELECT * FROM t LOCK IN SHARE MODE");
    write("SELECT * FROM t WHERE id = ? LOCK\nIN\tSHARE MODE");
    write("SELECT GET_LOCK('x', 10)");
    write("SELECT RELEASE_LOCK('x')");
    write("SELECT RELEASE_ALL_LOCKS()");
    write("SELECT IS_USED_LOCK('x')");
    write("SELECT LAST_INSERT_ID()");
    write("SELECT LAST_INSERT_ID(42)");
    write("SELECT last_insert_id ()");
    write("SELECT ROW_COUNT()");
    write("SELECT FOUND_ROWS()");
    write("REPLACE INTO t VALUES (1)");
    write("REPLACE t SET a = 1");
    write("SELECT * FROM t PROCEDURE ANALYSE()");
    write("HANDLER t READ FIRST");
    write("DO SLEEP(1)");
    read("SELECT SQL_NO_CACHE `a` FROM `t` WHERE `b` = 'x\\'y'");
    read("SELECT * FROM t WHERE a = \"it\\\"s\"");
}

#[test]
fn sqlite_specials() {
    write("INSERT OR REPLACE INTO t VALUES (1)");
    write("INSERT OR IGNORE INTO t VALUES (1)");
    write("PRAGMA journal_mode");
    write("PRAGMA table_info(t)");
    write("VACUUM");
    write("ATTACH DATABASE 'x.db' AS x");
    write("DETACH DATABASE x");
    write("SELECT last_insert_rowid()");
    write("SELECT changes()");
    write("SELECT total_changes()");
    write("SELECT load_extension('x')");
    read("SELECT changes FROM audit");
    read("SELECT [order], [group] FROM [table] WHERE x = ?1");
    // `@b` is a user variable in MySQL: only SQLite reads it as a parameter.
    lite_read("SELECT * FROM t WHERE a = :a AND b = @b AND c = $c");
    write("SELECT * FROM t WHERE a = :a AND b = @b AND c = $c");
}

#[test]
fn common_sql_takes_the_single_pass_path() {
    // Not a timing test: it pins the design. The SQL SeaORM generates
    // contains nothing the profiles could read differently, so one
    // profile pass decides (plus a byte scan), without allocating.
    for sql in [
        r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2"#,
        "SELECT `cake`.`id` FROM `cake` WHERE `cake`.`id` = ?",
        r#"INSERT INTO "cake" ("name") VALUES ($1) RETURNING "id", "name""#,
    ] {
        let scan = profile::prescan(sql.as_bytes()).map(|s| s.divergent);
        assert_eq!(scan, Some(false), "{sql}");
    }
    let divergent = |sql: &[u8]| profile::prescan(sql).map(|s| s.divergent);
    assert_eq!(divergent(b"SELECT $$x$$"), Some(true));
    assert_eq!(divergent(b"SELECT 1 -- x"), Some(true));
    assert_eq!(divergent(b"SELECT '\\'"), Some(true));
    assert_eq!(divergent(b"SELECT 1\0"), None);
}

/// Every profile, always: the reference the fast path must agree with.
fn classify_slow(sql: &str) -> Access {
    let b = sql.as_bytes();
    if b.contains(&0) {
        return Access::Write;
    }
    let verdicts = profile::ALL.map(|p| run_one(b, p, scan::Extra::default()));
    if verdicts.contains(&Verdict::Write) || !verdicts.contains(&Verdict::Read) {
        Access::Write
    } else {
        Access::Read
    }
}

proptest::proptest! {
    /// The shortcuts (one profile when the pre-scan finds nothing to
    /// disagree on; no backslash variants without a backslash) never
    /// change the answer of running every profile.
    #[test]
    fn shortcuts_agree_with_all_profiles(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "SELECT", "select", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN", "DESC",
                "FROM", "t", "x", "update", "delete", "into", "for", "share", "in", "key",
                "nextval", "pg_sleep", "pg_cancel_backend", "replace", "changes", "E", "U",
                "&", "'", "''", "\"", "`", "(", ")", ";", ",", ".", "=", ":", "::", "@",
                "$1", "?", "1", " ", "\n", "\r", "\t", "*", "/", "-", "+", "[", "]", "é",
                "/* c */", "$", "$$", "--", "#", "\\", "/*!", "*/",
            ]),
            0..24,
        )
    ) {
        let sql: String = parts.concat();
        proptest::prop_assert_eq!(classify(&sql), classify_slow(&sql), "{:?}", sql);
    }
}

// ---------------------------------------------------------------------------
// The classes of false reads found under attack (issue 12), one test each.
// ---------------------------------------------------------------------------

#[test]
fn postgres_string_continuation_follows_scan_l() {
    // E'' carries its escapes into the continuation: `\'` does not end it.
    pg_write("SELECT E'x'\n'\\'', '\\' ; DELETE FROM t; -- '");
    pg_write("SELECT E'x' -- gap\n'\\'', '\\' ; DELETE FROM t; -- '");
    pg_write("SELECT E'x'\r'\\'', '\\' ; DELETE FROM t; -- '");
    pg_write("SELECT E'x'  \t\r\n  -- c\n  '\\'', '\\' ; DELETE FROM t; -- '");
    write("SELECT E'x'\n'\\'', '\\' ; DELETE FROM t; -- '");
    // Without a newline in the gap there is no continuation (a syntax
    // error in PostgreSQL); a block comment does not continue either.
    // (both are syntax errors in PostgreSQL: two adjacent constants).
    // Harmless continuations stay reads.
    pg_read("SELECT 'a'\n'b' FROM t");
    pg_read("SELECT E'a\\n'\n'\\'' AS q");
    pg_read("SELECT 'a' -- c\n 'b'");
    pg_read("SELECT B'01'\n'10', X'AB'\n'CD'");
    // A standard string continues as a standard string.
    pg_write("SELECT 'x'\n'\\'; DELETE FROM t; --'");
}

#[test]
fn attribute_notation_calls_are_checked() {
    for sql in [
        r#"SELECT ('s'::regclass)."nextval""#,
        "SELECT ('s'::regclass).nextval",
        r#"SELECT (4243::bigint)."pg_advisory_lock""#,
        "SELECT ('/etc/passwd'::text).lo_import",
        "SELECT (0::oid).lo_create",
        "SELECT (true).pg_promote",
        "SELECT (pid).pg_terminate_backend FROM pg_stat_activity",
        r#"SELECT ('DELETE FROM t'::text)."dblink_exec""#,
        "SELECT ('s'::regclass).currval",
        r#"SELECT ('x'::text)."my_function""#,
        "SELECT (x).unknown_function FROM t",
        "SELECT ((x)).pg_reload_conf FROM t",
        "SELECT (ARRAY['s'::regclass])[1].\"my_function\"",
        "SELECT $1.unknown_function",
    ] {
        pg_write(sql);
        write(sql);
    }
    // Read-only functions through attribute notation are reads.
    pg_read("SELECT ('abc'::text).upper");
    pg_read(r#"SELECT ('abc'::text)."length""#);
    // MariaDB sql_mode=ORACLE: `s.nextval` in any quoting.
    for sql in [
        "SELECT `s`.`nextval`",
        r#"SELECT s."nextval""#,
        "SELECT s.nextval",
        "SELECT `s`.`lastval`",
        "SELECT `db`.`s`.`nextval` FROM dual",
        "SELECT t.lo_unlink FROM t",
        r#"SELECT "t"."pg_switch_wal" FROM t"#,
    ] {
        all_write(sql);
    }
    // Ordinary qualified columns are reads.
    pg_read(r#"SELECT "t"."id", "t"."next_value", t.version FROM t"#);
}

#[test]
fn calls_are_reads_only_on_the_allow_list() {
    for sql in [
        "SELECT ts_rewrite('a & b'::tsquery, 'SELECT t, s FROM aliases')",
        "SELECT * FROM xpath_table('id', 'x', 'SELECT 1', '/a', 'true') AS t(id int)",
        "SELECT brin_summarize_new_values('idx')",
        "SELECT brin_summarize_range('idx', 0)",
        "SELECT brin_desummarize_range('idx', 0)",
        "SELECT gin_clean_pending_list('idx')",
        "SELECT heap_force_kill('t'::regclass, ARRAY['(0,1)']::tid[])",
        "SELECT set_limit(0.5)",
        "SELECT isn_weak(true)",
        "SELECT archive_old_orders()",
        r#"SELECT "archive"(1)"#,
        r#"SELECT "Lower"('A')"#,
        "SELECT public.lower('a')",
        "SELECT app.f(1)",
        "SELECT pg_catalog.nextval('s')",
        "SELECT pg_catalog.unknown_fn(1)",
        "SELECT count(*) FROM t WHERE f(x)",
        "SELECT * FROM t WHERE EXISTS (SELECT g(1))",
        "SELECT * FROM t, LATERAL h(t.id)",
        "SELECT a[1:evil(2)] FROM t",
    ] {
        pg_write(sql);
    }
    pg_read("SELECT lower(name), upper(name), length(name), coalesce(a, b) FROM t");
    pg_read(
        "SELECT count(*), sum(x), avg(x), max(x), min(x) FROM t GROUP BY y HAVING count(*) > 1",
    );
    pg_read("SELECT now(), date_trunc('day', created_at), to_char(now(), 'YYYY') FROM t");
    pg_read("SELECT jsonb_build_object('a', 1), json_agg(t), to_jsonb(t) FROM t");
    pg_read("SELECT array_agg(x ORDER BY x), unnest(ARRAY[1, 2]), cardinality(a) FROM t");
    pg_read("SELECT to_tsvector('english', body) @@ plainto_tsquery($1) FROM t");
    pg_read("SELECT random(), gen_random_uuid(), pg_catalog.lower('A')");
    pg_read(r#"SELECT "pg_catalog"."lower"('A'), "pg_catalog".like_escape('a', 'b')"#);
    pg_write(r#"SELECT "PG_CATALOG"."lower"('A')"#);
    pg_read("SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t");
    pg_read("SELECT count(*) FILTER (WHERE x > 1) FROM t");
    pg_read("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t");
    pg_read("SELECT CAST(x AS varchar(10)), x::numeric(10, 2), y::pg_catalog.varchar(3) FROM t");
    pg_read("SELECT * FROM generate_series(1, 3) AS g(i)");
    pg_read("SELECT * FROM unnest(ARRAY[1]) u(x)");
    pg_read("SELECT * FROM t WHERE id IN (SELECT id FROM u) AND EXISTS (SELECT 1)");
    pg_read(
        "WITH RECURSIVE n(i) AS (VALUES (1) UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT * FROM n",
    );
    pg_read("WITH a(x) AS (SELECT 1), b(y, z) AS MATERIALIZED (SELECT 2, 3) SELECT * FROM a, b");
    pg_read("SELECT * FROM (WITH a(x) AS (SELECT 1) SELECT x FROM a) s");
    pg_read("EXPLAIN WITH a(x) AS (SELECT 1) SELECT x FROM a");
    // The CTE list ends at the main query: names after it are calls again.
    pg_write("WITH a AS (SELECT 1) SELECT x FROM a, evil(1)");
    pg_write("WITH a AS (SELECT 1) (SELECT 1), evil(1)");
    pg_write("SELECT * FROM unnest(a) WITH ORDINALITY AS t(v, n), evil(1)");
    pg_write("WITH a AS (SELECT 1) SELECT (SELECT 1), evil(2) FROM a");
    my_read("SELECT IF(a > 1, 'x', 'y'), IFNULL(b, 0), GROUP_CONCAT(c SEPARATOR ',') FROM t");
    my_read("SELECT DATE_FORMAT(NOW(), '%Y'), JSON_EXTRACT(doc, '$.a') FROM t");
    my_read("SELECT * FROM t WHERE MATCH (a) AGAINST ('x' IN BOOLEAN MODE)");
    my_read("SELECT * FROM t USE INDEX (idx) WHERE a = ?");
    my_write("SELECT ROW_COUNT()");
    my_write("SELECT FOUND_ROWS()");
    my_write("SELECT `lower`('A')");
    my_write("SELECT mydb.myfunc(1)");
    lite_read(
        "SELECT datetime('now'), strftime('%Y', d), json_extract(j, '$.a'), iif(a, 1, 2) FROM t",
    );
    lite_read("SELECT * FROM json_each('[1]')");
    lite_read("SELECT * FROM pragma_table_info('t')");
    lite_write("SELECT optimize(t) FROM t");
    lite_write("SELECT * FROM pragma_optimize");
    lite_write("SELECT * FROM pragma_optimize()");
    lite_write("SELECT changes(), total_changes()");
    lite_write("SELECT last_insert_rowid()");
}

#[test]
fn application_declared_functions() {
    let c = Classifier::new(Dialect::Postgres)
        .with_read_only_functions(["slugify", "Price_With_Tax"])
        .expect("valid names");
    assert_eq!(c.classify("SELECT slugify(name) FROM t"), Access::Read);
    assert_eq!(c.classify("SELECT SLUGIFY(name) FROM t"), Access::Read);
    assert_eq!(c.classify("SELECT price_with_tax(p) FROM t"), Access::Read);
    assert_eq!(c.classify(r#"SELECT "slugify"(name) FROM t"#), Access::Read);
    assert_eq!(
        c.classify(r#"SELECT "Slugify"(name) FROM t"#),
        Access::Write
    );
    assert_eq!(c.classify("SELECT app.slugify(name) FROM t"), Access::Write);
    assert_eq!(c.classify("SELECT other(name) FROM t"), Access::Write);
    assert_eq!(
        c.classify("SELECT slugify(name) FROM t FOR UPDATE"),
        Access::Write
    );
    assert_eq!(c.classify("SELECT ('x'::text).slugify"), Access::Read);
    let more = c
        .clone()
        .with_read_only_functions(["other"])
        .expect("valid");
    assert_eq!(more.classify("SELECT other(slugify(x))"), Access::Read);
    assert_eq!(c.classify("SELECT other(slugify(x))"), Access::Write);
    for bad in [
        "",
        " ",
        "a b",
        "1abc",
        "$x",
        "s.f",
        "f()",
        "nextval",
        "pg_advisory_lock",
        "lo_import",
        "dblink_exec",
        "update",
        "x".repeat(64).as_str(),
    ] {
        assert!(
            Classifier::new(Dialect::MySql)
                .with_read_only_functions([bad])
                .is_err(),
            "{bad:?}"
        );
    }
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<Classifier>();
    assert_traits::<InvalidFunctionName>();
}

#[test]
fn mysql_session_state_is_write() {
    for sql in [
        "SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10",
        "SELECT sql_calc_found_rows id FROM t",
        "SELECT @@identity",
        "SELECT @@IDENTITY",
        "SELECT @@insert_id",
        "SELECT @@last_insert_id",
        "SELECT @@warning_count",
        "SELECT @@error_count",
        "SELECT @@session.warning_count",
        "SELECT @@SESSION.insert_id",
        "SELECT @@`identity`",
        "SELECT @@session.`warning_count`",
        "SELECT @ @identity",
        "SHOW WARNINGS",
        "SHOW ERRORS",
        "SHOW COUNT(*) WARNINGS",
        "SHOW WARNINGS LIMIT 10",
        "SHOW PROFILE",
        "SHOW PROFILES",
    ] {
        all_write(sql);
    }
    // The session's time zone and user variables are session state.
    my_read("SELECT @@version, @@global.time_zone");
    my_write("SELECT @@version, @@session.time_zone");
    my_write("SELECT @@version, @a");
    my_read("SHOW TABLES");
    my_read("SELECT identity, warning_count FROM t");
}

#[test]
fn explain_options_quoted_are_checked() {
    all_write(r#"EXPLAIN ("analyze") SELECT * FROM t"#);
    all_write(r#"EXPLAIN ("ANALYZE" true, "buffers") SELECT 1"#);
    all_write(r#"EXPLAIN (FORMAT JSON, "analyse") SELECT 1"#);
    all_write("EXPLAIN (`analyze`) SELECT 1");
    pg_read(r#"EXPLAIN ("costs" false) SELECT 1"#);
}

#[test]
fn postgres_reads_no_longer_pay_for_mysql_comments_and_dollar_quotes() {
    for sql in [
        "SELECT (data #>> '{a,b}') FROM t WHERE id = $1 AND (x # 4) = 0",
        "SELECT (data #> '{a}') FROM t WHERE (a # b) = 1",
        r#"SELECT "id" FROM "items" WHERE ("x" # 1) = 0 ORDER BY "embedding" <#> $1 LIMIT 5"#,
        "SELECT $$ DELETE FROM t $$",
        "SELECT $q$ ; DROP TABLE t $q$ AS x",
        "SELECT 1 /* /* nested */ still comment; DELETE */",
    ] {
        pg_read(sql);
        write(sql);
    }
    // And stay writes when they are.
    pg_write("SELECT data #>> '{a}' FROM t; DELETE FROM t");
    pg_write("SELECT $$x$$; DELETE FROM t");
    pg_write("SELECT $$x$$ FOR UPDATE");
    // MySQL reads `#` as a comment and dollar quotes as code.
    my_read("SELECT 1 # DELETE FROM t\n");
    my_write("SELECT $$ DELETE FROM t $$");
    // SQLite brackets quote identifiers.
    lite_read("SELECT [delete] FROM [update]");
}

#[test]
fn dialect_profiles_follow_escape_settings() {
    // standard_conforming_strings=off reads `\'` as an escape.
    pg_write("SELECT 'a\\'; DELETE FROM t; -- '");
    pg_write("SELECT 'a\\' ; DELETE FROM t; SELECT ''");
    pg_read("SELECT 'it\\'s' FROM t");
    // NO_BACKSLASH_ESCAPES and ANSI_QUOTES.
    my_write("SELECT 'a\\'; DELETE FROM t; -- '");
    my_write("SELECT \"\\\" ; DELETE FROM t; SELECT \"");
    my_read("SELECT 'it\\'s' FROM t");
    // SQLite has no backslash escapes.
    lite_write("SELECT 'a\\'; DELETE FROM t; -- '");
    lite_read("SELECT 'a\\' FROM t");
    // A NUL anywhere is a write.
    all_write("SELECT 'a\0'");
    all_write("SELECT 1 -- \0");
    all_write("SELECT \"a\0\"");
    all_write("SELECT $$\0$$");
    all_write("SELECT 1\0");
}

#[test]
fn word_lists_are_sorted_lower_case_and_disjoint() {
    for (name, list) in [
        ("PG_FUNCTIONS", words::PG_FUNCTIONS),
        ("PG_SYNTAX", words::PG_SYNTAX),
        ("PG_OPERATORS", words::PG_OPERATORS),
        ("MYSQL", words::MYSQL),
        ("SQLITE_FUNCTIONS", words::SQLITE_FUNCTIONS),
        ("SQLITE_SYNTAX", words::SQLITE_SYNTAX),
    ] {
        for pair in list.windows(2) {
            assert!(
                pair[0] < pair[1],
                "{name} not sorted at {:?}",
                String::from_utf8_lossy(pair[1])
            );
        }
        for w in list {
            assert!(!w.iter().any(u8::is_ascii_uppercase), "{name}: {w:?}");
            assert!(
                !words::known_to_write(w, words::keyword(w)),
                "{name} allows a writer: {:?}",
                String::from_utf8_lossy(w)
            );
            assert!(
                !matches!(
                    words::keyword(w),
                    words::Kw::Write | words::Kw::SessionVar | words::Kw::Deny
                ),
                "{name}: {:?}",
                String::from_utf8_lossy(w)
            );
        }
    }
    for k in words::KEYWORDS {
        assert!(
            k.len() <= 16 && !k.iter().any(u8::is_ascii_uppercase),
            "{k:?}"
        );
    }
}

#[test]
fn deep_nesting_uses_bounded_stack() {
    let deep = format!("SELECT {}1{}", "(".repeat(200_000), ")".repeat(200_000));
    assert_eq!(classify_for(Dialect::Postgres, &deep), Access::Read);
    assert_eq!(classify(&deep), Access::Read);
    let unbalanced = "(".repeat(100_000);
    assert_eq!(classify_for(Dialect::MySql, &unbalanced), Access::Write);
    let comments = format!("SELECT 1 {}", "/*".repeat(50_000));
    assert_eq!(classify_for(Dialect::Postgres, &comments), Access::Write);
}

/// Every profile of the dialect over the whole text: the reference that the
/// resumed passes of [`classify_for`] must agree with.
fn classify_for_slow(dialect: Dialect, sql: &str) -> Access {
    let verdicts: Vec<_> = profile::of(dialect)
        .iter()
        .map(|&p| run_one(sql.as_bytes(), p, scan::Extra::default()))
        .collect();
    if verdicts.contains(&Verdict::Write) || !verdicts.contains(&Verdict::Read) {
        Access::Write
    } else {
        Access::Read
    }
}

const FRAGMENTS: &[&str] = &[
    "SELECT", "select", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN", "DESC", "FROM", "t", "x",
    "update", "delete", "into", "for", "share", "in", "key", "nextval", "pg_sleep", "lower",
    "count", "evil", "AS", "replace", "changes", "E", "U", "N", "&", "'", "''", "\"", "`", "(",
    ")", ";", ",", ".", "=", ":", "::", "@", "@@", "identity", "$1", "?", "1", " ", "\n", "\r",
    "\t", "*", "/", "-", "+", "[", "]", "é", "/* c */", "$", "$$", "$a$", "--", "-- c\n", "#",
    "\\", "\\'", "/*!", "*/", "'\\''", "E'\\''", "'\n'", "\"\\\"\"",
];

proptest::proptest! {
    /// `classify_for(d, s) == Read` implies that no profile of `d`, run over
    /// the whole text, finds a write (and one accepts it).
    #[test]
    fn classify_for_agrees_with_every_profile_of_its_dialect(
        parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..28)
    ) {
        let sql: String = parts.concat();
        for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            proptest::prop_assert_eq!(classify_for(d, &sql), classify_for_slow(d, &sql), "{:?} {:?}", d, sql);
        }
    }
}

// ---- Round two: the classes of issue 19 ----

#[test]
fn sqlite_explain_of_a_pragma_is_write() {
    // SQLite applies some pragmas while preparing, so EXPLAIN does not stop them.
    for sql in [
        "EXPLAIN PRAGMA case_sensitive_like = 1",
        "EXPLAIN QUERY PLAN PRAGMA locking_mode = EXCLUSIVE",
        "explain query plan pragma full_column_names=1",
        "EXPLAIN PRAGMA main.cache_size = 10",
    ] {
        all_write(sql);
    }
    lite_read("EXPLAIN QUERY PLAN SELECT * FROM t WHERE flag = 1");
}

#[test]
fn mariadb_mssql_brackets_quote_identifiers() {
    // With sql_mode=MSSQL, `[…]` quotes an identifier: what hides inside is
    // not a string, and what follows is code.
    for sql in [
        "SELECT [it's] FROM t FOR UPDATE -- '",
        "SELECT [a'] FROM t; DELETE FROM t; -- ']",
        "SELECT [x'] FROM t LOCK IN SHARE MODE -- ']",
        "SELECT [f](1)",
    ] {
        my_write(sql);
        write(sql);
    }
    my_read("SELECT [id], [name] FROM [cake]");
    my_read("SELECT '[not a quote' FROM t");
}

#[test]
fn postgres_attribute_notation_chains_are_calls() {
    for sql in [
        "SELECT (1).int4.my_volatile",
        "SELECT ($1).text.archive_all",
        "SELECT (x).lower.\"Evil\" FROM t",
        "SELECT (a)[1].abs.user_fn FROM t",
        "SELECT ((1).int8).abs.pg_terminate_backend",
    ] {
        pg_write(sql);
    }
    pg_read("SELECT (x).lower.upper FROM t");
}

#[test]
fn allow_lists_hold_only_each_dialects_own_names() {
    // Words that are keywords or built-ins in another dialect, or in a newer
    // server, name user functions here.
    for sql in [
        "SELECT against(1)",
        "SELECT columns(1)",
        "SELECT nested(1)",
        "SELECT filter(1)",
        "SELECT over(1)",
        "SELECT rollup(1)",
        "SELECT join(1)",
        "SELECT 1 WHERE x AND join(1)",
        "SELECT * FROM join(1)",
        "SELECT \"in\"(1)",
        "SELECT \"coalesce\"(1)",
        "SELECT uuid(1)",
    ] {
        pg_write(sql);
    }
    for sql in [
        "SELECT against(1)",
        "SELECT lateral(1)",
        "SELECT of(1)",
        "SELECT columns(1)",
    ] {
        my_write(sql);
    }
    for sql in [
        "SELECT against(1)",
        "SELECT with(1)",
        "SELECT window(1)",
        "SELECT integer(1)",
        "SELECT \"in\"(1)",
    ] {
        lite_write(sql);
    }
    // The same words as syntax stay reads.
    pg_read("SELECT * FROM a JOIN (SELECT 1 AS x) b ON true");
    pg_read("SELECT * FROM a LEFT JOIN (b JOIN c ON b.id = c.id) ON a.id = b.id");
    pg_read("SELECT a, count(*) FROM t GROUP BY ROLLUP (a)");
    pg_read("SELECT a FROM t GROUP BY GROUPING SETS ((a), ())");
    pg_read("SELECT a FROM t GROUP BY (a)");
    pg_read("EXPLAIN (COSTS false) SELECT 1");
    pg_read("WITH x AS MATERIALIZED (SELECT 1) SELECT * FROM x");
    pg_read("SELECT CAST(x AS character varying(10)) FROM t");
    pg_read("SELECT count(*) FILTER (WHERE x) OVER (PARTITION BY y) FROM t");
    my_read("SELECT * FROM t WHERE MATCH (title) AGAINST ('x' IN BOOLEAN MODE)");
    my_read("SELECT * FROM t WHERE 3 MEMBER OF (tags)");
    my_read("SELECT * FROM t USE INDEX (idx) WHERE a = 1");
    lite_read("SELECT * FROM a JOIN (SELECT 1) b");
    // Built-ins the issue found missing.
    pg_read("SELECT least(a, b), numnode(q), version() FROM t");
    pg_read("SELECT strict_word_similarity(a, b), unaccent(name) FROM t");
    my_read("SELECT JSON_VALUE(doc, '$.a' RETURNING SIGNED) FROM t");
    my_read("SELECT least(a, b), version()");
}

#[test]
fn postgres_operators_must_be_known() {
    for sql in [
        "SELECT 1 === 2",
        "SELECT a <<=>> b FROM t",
        "SELECT a ==> b FROM t",
        "SELECT a == b FROM t",
        "SELECT a &&& b FROM t",
    ] {
        pg_write(sql);
    }
    pg_read(r#"SELECT "id" FROM "items" ORDER BY "embedding" <=> $1 LIMIT 5"#);
    pg_read("SELECT a FROM t WHERE tags @> $1 AND doc ->> 'k' = 'v' AND b <> c AND d != e");
    pg_read("SELECT a FROM t WHERE name % $1 AND x<-1 AND y>=-2");
    pg_read("SELECT a FROM t WHERE b !~~* 'x' AND v -|- w");
    pg_read("SELECT a FROM t WHERE b=-1 AND c=+2");
    pg_read("SELECT make_date(year => 2020, month => 1, day => 1)");
}

#[test]
fn non_utf8_client_encodings_cannot_swallow_delimiters() {
    // In SJIS, GBK or BIG5 the last byte of `ā` (0x81) starts a two-byte
    // character that swallows the backslash, backtick or bracket after it.
    for sql in [
        "SELECT E'\u{101}\\' ; DELETE FROM t; --'",
        "SELECT 'x\u{101}\\' FROM t",
    ] {
        pg_write(sql);
        my_write(sql);
    }
    my_write("SELECT `\u{101}` FROM t");
    my_write("SELECT \u{101}`x FROM t; DELETE FROM t; -- ` FROM t");
    my_write("SELECT [\u{101}] FROM t");
    pg_read("SELECT '\u{101}' FROM t WHERE name = 'ü'");
    my_read("SELECT `ü\u{101}x` FROM t");
}

#[test]
fn per_connection_state_is_write() {
    // Settings, user variables, temporary tables, prepared statements,
    // LISTEN: a replica's connection holds none of what the session set.
    for sql in [
        "SELECT current_setting('search_path')",
        "SHOW search_path",
        "SHOW ALL",
        "SHOW work_mem",
        "SELECT * FROM pg_settings",
        "SELECT * FROM pg_prepared_statements",
        "SELECT * FROM pg_cursors",
        "SELECT pg_listening_channels()",
        "SELECT * FROM pg_temp.scratch",
        "SELECT * FROM pg_temp_3.scratch",
        "SELECT pg_my_temp_schema()",
    ] {
        pg_write(sql);
    }
    pg_read("SHOW server_version");
    pg_read("SHOW max_connections");
    for sql in [
        "SELECT @a",
        "SELECT @`a`",
        "SELECT @'a'",
        "SELECT * FROM t WHERE id = @last",
        "SELECT @@session.time_zone",
        "SELECT @@time_zone",
        "SELECT @@sql_mode",
        "SELECT @@local.autocommit",
        "SHOW VARIABLES",
        "SHOW SESSION VARIABLES LIKE 'x'",
        "SHOW STATUS",
        "SHOW LOCAL STATUS",
    ] {
        my_write(sql);
        write(sql);
    }
    my_read("SELECT @@version, @@global.time_zone, @@port");
    my_read("SHOW GLOBAL VARIABLES LIKE 'read_only'");
    my_read("SHOW GLOBAL STATUS");
    my_read("SHOW TABLE STATUS");
    my_read("SHOW SLAVE STATUS");
    for sql in [
        "SELECT * FROM temp.scratch",
        "SELECT * FROM \"temp\".scratch",
        "SELECT * FROM sqlite_temp_master",
        "SELECT * FROM sqlite_temp_schema",
    ] {
        lite_write(sql);
    }
    lite_read("SELECT temp FROM readings");
}

#[test]
fn the_catalog_settles_unknown_names() {
    use std::sync::Arc;
    let mut b = Catalog::builder(Dialect::Postgres);
    b.function("st_distance", Origin::Extension, Volatility::Immutable)
        .function("st_transform", Origin::Extension, Volatility::Immutable)
        .function("addgeometrycolumn", Origin::Extension, Volatility::Volatile)
        .function("price_with_tax", Origin::User, Volatility::Stable)
        .function("archive", Origin::User, Volatility::Volatile)
        .function("lower", Origin::BuiltIn, Volatility::Immutable)
        .function("abs", Origin::User, Volatility::Volatile)
        .function("abbrev", Origin::BuiltIn, Volatility::Immutable)
        .function("some_stable_builtin", Origin::BuiltIn, Volatility::Stable)
        .operator("&&&", Origin::Extension, Volatility::Immutable)
        .operator("<<->>", Origin::User, Volatility::Volatile);
    let catalog = Arc::new(b.build());
    let c = Classifier::new(Dialect::Postgres).with_catalog(catalog.clone());
    let read = |sql: &str| assert_eq!(c.classify(sql), Access::Read, "{sql}");
    let write = |sql: &str| assert_eq!(c.classify(sql), Access::Write, "{sql}");
    read("SELECT st_distance(st_transform(a.geom, 3857), $1) FROM a");
    read("SELECT price_with_tax(price), lower(name), abbrev(ip) FROM cake");
    read("SELECT a FROM t WHERE g &&& $1");
    write("SELECT addgeometrycolumn('t', 'g', 4326, 'POINT', 2)");
    write("SELECT archive()");
    write("SELECT o.archive FROM orders o");
    write("SELECT abs(1)"); // a user's volatile abs shadows the built-in
    write("SELECT some_stable_builtin(1, $1)"); // stable built-in off the list
    write("SELECT a <<->> b FROM t");
    write("SELECT unknown_fn(1)");
    write("SELECT st_distance(a, b) FOR UPDATE");
    // Another dialect's catalog is not consulted; classify_with overrides.
    assert_eq!(
        Classifier::new(Dialect::MySql)
            .with_catalog(catalog.clone())
            .classify("SELECT price_with_tax(1)"),
        Access::Write
    );
    assert_eq!(
        Classifier::new(Dialect::Postgres)
            .classify_with("SELECT price_with_tax(1)", Some(&catalog)),
        Access::Read
    );
    assert_eq!(
        c.classify_with("SELECT price_with_tax(1)", None),
        Access::Write
    );
}

#[test]
fn fast_path_takes_seaorm_statements() {
    let pg = r#"SELECT "post"."id", "post"."title" FROM "post" WHERE "post"."author_id" = $1 AND "post"."published" = $2 ORDER BY "post"."created_at" DESC LIMIT $3 OFFSET $4"#;
    let my = "SELECT `post`.`id`, COUNT(*) AS `n` FROM `post` WHERE `post`.`id` IN (?, ?) -- x\n AND `a` <> 'b' /* c */ LIMIT ?";
    let lite = r#"SELECT "cake"."id" FROM "cake" WHERE "cake"."name" LIKE ? AND "price" >= 2"#;
    let long = "SELECT \"post\".\"id\", \"author\".\"id\" AS \"author_id\", COUNT(\"comment\".\"id\") AS \"comments\", MAX(\"comment\".\"created_at\") AS \"last_comment\" FROM \"post\" INNER JOIN \"author\" ON \"post\".\"author_id\" = \"author\".\"id\" LEFT JOIN \"comment\" ON \"comment\".\"post_id\" = \"post\".\"id\" WHERE \"post\".\"published\" = $1 AND \"tag\".\"name\" IN ($2, $3, $4) AND \"author\".\"name\" LIKE $5 -- only published\n GROUP BY \"post\".\"id\", \"author\".\"id\" HAVING COUNT(\"comment\".\"id\") > $6 ORDER BY \"post\".\"created_at\" DESC, \"post\".\"id\" ASC LIMIT $7 OFFSET $8";
    for (dialect, sql) in [
        (Dialect::Postgres, pg),
        (Dialect::MySql, my),
        (Dialect::Sqlite, lite),
        (Dialect::Postgres, long),
    ] {
        assert!(
            fast::proven_read(
                sql.as_bytes(),
                profile::of(dialect)[0],
                scan::Extra::default()
            ),
            "{sql}"
        );
        expect(dialect, sql, Access::Read);
    }
    // Without comments, the dialect-blind form takes them too.
    for sql in [
        pg,
        lite,
        "SELECT `post`.`id` FROM `post` WHERE `post`.`id` IN (?, ?)",
    ] {
        assert!(
            fast::proven_read(sql.as_bytes(), profile::BLIND_FAST, scan::Extra::default()),
            "{sql}"
        );
        read(sql);
    }
}

/// Found by the `classify` fuzz target: the keyword tables pack DEL like
/// `_`, so the full scan takes `"pragma\x7fa"` after a `.` for a pragma
/// (a write); the fast path must not call it a read.
#[test]
fn fast_path_agrees_on_names_with_a_del_byte() {
    for sql in [
        "SElECT su?!\"z\".\"pragma\x7fa\"",
        "SELECT \"z\".\"pragma\x7fa\"",
        "SELECT `z`.`pragma\x7fa`",
    ] {
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            fast_agrees(dialect, sql, scan::Extra::default());
            let profiles = profile::of(dialect);
            assert_eq!(
                classify_for(dialect, sql),
                full_verdict(
                    profiles[0],
                    &profiles[1..],
                    sql.as_bytes(),
                    scan::Extra::default()
                ),
                "{dialect:?}: {sql:?}"
            );
        }
        blind_fast_agrees(sql);
        assert_eq!(classify(sql), blind_full(sql.as_bytes()), "{sql:?}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

    /// On token soup built from SQL fragments (names, keywords, writers,
    /// quotes, comments, operators, parameters), the fast path never proves
    /// a read the full scan does not find, with and without a catalog.
    #[test]
    fn fast_path_never_disagrees(parts in proptest::collection::vec(proptest::sample::select(SOUP), 0..24)) {
        let sql = format!("SELECT {}", parts.concat());
        let mut b = Catalog::builder(Dialect::Postgres);
        b.function("archive", Origin::User, Volatility::Volatile)
            .function("count", Origin::User, Volatility::Volatile)
            .operator("=", Origin::User, Volatility::Volatile);
        let catalog = b.build();
        blind_fast_agrees(&sql);
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            fast_agrees(dialect, &sql, scan::Extra::default());
            fast_agrees(dialect, &sql, scan::Extra { declared: &[], catalog: Some(&catalog) });
        }
    }
}

const SOUP: &[&str] = &[
    " ",
    "\n",
    "\r",
    "\t",
    "\"post\"",
    "\"id\"",
    "`post`",
    "`id`",
    ".",
    ",",
    "(",
    ")",
    "$1",
    "?",
    "?1",
    "42",
    "'text'",
    "''",
    "'a''b'",
    "'\\'",
    "E",
    "x",
    "U&",
    "=",
    "<",
    ">",
    "<>",
    "<=",
    ">=",
    "!=",
    "!",
    "*",
    "-",
    "--",
    "-- c\n",
    "/*",
    "*/",
    "/* c */",
    "/*! c */",
    "#",
    ";",
    "@",
    "@@",
    ":",
    "::",
    "[",
    "]",
    "$",
    "$$",
    "FROM",
    "WHERE",
    "AND",
    "IN",
    "AS",
    "FOR",
    "UPDATE",
    "SHARE",
    "KEY",
    "NEXT",
    "VALUE",
    "INTO",
    "count",
    "COUNT",
    "lower",
    "archive",
    "nextval",
    "lo_unlink",
    "pg_catalog",
    "temp",
    "\"temp\"",
    "\"pragma_x\"",
    "pragma_optimize",
    "changes",
    "replace",
    "REPLACE",
    "WITH",
    "RETURNING",
    "select",
    "t",
    "\u{101}",
    "\"\u{101}\"",
    "`\u{101}`",
    "\u{101}\\",
    "\0",
    "||",
    "->",
    "@>",
    "===",
    "=>",
    "+",
    "-1",
    "1.5",
    "current_setting",
    "session",
    "global",
    "$1x",
    "$1(",
    "$1::",
    "'a--b'",
    "\"a$\"",
    "a$b",
    "?|",
    "`temp`",
    "`temp`.",
    "\"pragma\x7fa\"",
];
