-- The statements of the classifier's unit and regression tests (src/classify/tests.rs,
-- tests/classify_regressions.rs), one a line, with \n \r \t \0 \\ escaped.
SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2
SELECT COUNT(*) AS num_items FROM (SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."name" LIKE $1) AS "sub_query"
SELECT "fruit"."id", "fruit"."name", "fruit"."cake_id" FROM "fruit" INNER JOIN "cake" ON "fruit"."cake_id" = "cake"."id" WHERE "cake"."id" IN ($1, $2, $3) ORDER BY "fruit"."id" ASC
SELECT CAST("cake"."price" AS text), "cake"."tags" @> $1 FROM "cake" WHERE "cake"."name" ILIKE $2 OFFSET $3
select * from cake where id = any($1)
SELECT 1
SELECT inet_server_port()::bigint AS port
SELECT CAST(@@port AS SIGNED) AS port
SELECT inet_server_port()::bigint AS port FROM lock_post LIMIT 1 FOR UPDATE
SELECT `cake`.`id` FROM `cake` WHERE `cake`.`id` = ?
SELECT COUNT(*) AS num_items FROM (SELECT `cake`.`id`, `cake`.`name` FROM `cake`) AS `sub_query`
SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = ? LIMIT ?
SELECT `id` FROM `cake` WHERE `name` = ? LIMIT ? OFFSET ?
WITH t AS (SELECT 1 AS x) SELECT x FROM t
WITH RECURSIVE n(i) AS (VALUES (1) UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT * FROM n
VALUES (1, 'a'), (2, 'b')
TABLE cake
SHOW search_path
SHOW TABLES LIKE 'cake%'
SHOW CREATE TABLE cake
EXPLAIN SELECT * FROM cake
EXPLAIN (FORMAT JSON, COSTS false) SELECT * FROM cake
EXPLAIN QUERY PLAN SELECT * FROM cake
DESCRIBE cake
DESC cake
(SELECT 1) UNION (SELECT 2)
((SELECT 1)) INTERSECT (SELECT 1) EXCEPT SELECT 2
(VALUES (1))
SELECT 1;
SELECT 1 ; -- done\n /* really */ 
SELECT replace(name, 'a', 'b') FROM cake
SELECT * FROM cake ORDER BY id DESC FETCH NEXT 10 ROWS ONLY
SELECT substring(name FROM 1 FOR 3) FROM cake
SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), pg_typeof(1)
SELECT pg_size_pretty(pg_total_relation_size('cake'))
SELECT pg_typeof(1)
SELECT share, lock FROM stocks
SELECT * FROM t WHERE x = ANY(ARRAY[1, 2]) AND y[1] = 2
SELECT data #>> '{a,b}' FROM t
SELECT a # b FROM t
SELECT @a, @@version
SELECT $1::text, $2::int
INSERT INTO "cake" ("name") VALUES ($1) RETURNING "id", "name"
INSERT INTO `cake` (`name`) VALUES (?)
UPDATE "cake" SET "name" = $1 WHERE "cake"."id" = $2
DELETE FROM "cake" WHERE "cake"."id" = $1
MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE
REPLACE INTO cake (id, name) VALUES (1, 'x')
UPSERT INTO cake VALUES (1)
INSERT OR REPLACE INTO cake VALUES (1)
(INSERT INTO cake VALUES (1))
CREATE TABLE t (id int)
ALTER TABLE t ADD COLUMN c int
DROP TABLE t
TRUNCATE t
RENAME TABLE a TO b
COMMENT ON TABLE t IS 'x'
GRANT SELECT ON t TO u
REVOKE ALL ON t FROM u
REFRESH MATERIALIZED VIEW v
CLUSTER t
REINDEX TABLE t
VACUUM
VACUUM ANALYZE t
ANALYZE t
CHECKPOINT
DISCARD ALL
OPTIMIZE TABLE t
FLUSH TABLES
KILL 42
USE shop
SET search_path = public
SET NAMES utf8mb4
RESET ALL
BEGIN
START TRANSACTION
COMMIT
ROLLBACK
SAVEPOINT s
LISTEN ch
NOTIFY ch, 'x'
UNLISTEN *
PREPARE p AS SELECT 1
EXECUTE p
DEALLOCATE p
LOCK TABLE t IN SHARE MODE
CALL proc()
DO $$ BEGIN PERFORM 1; END $$
COPY t FROM STDIN
COPY (SELECT 1) TO STDOUT
HANDLER t OPEN
LOAD DATA INFILE 'x' INTO TABLE t
SELECT * FROM t FOR UPDATE
SELECT * FROM t FOR SHARE
SELECT * FROM t FOR NO KEY UPDATE
SELECT * FROM t FOR KEY SHARE
SELECT * FROM t FOR UPDATE OF t NOWAIT
SELECT * FROM t FOR UPDATE OF t SKIP LOCKED
SELECT * FROM t for\n\tupdate
SELECT * FROM t FOR /* hm */ SHARE
SELECT * FROM t LOCK IN SHARE MODE
(SELECT * FROM t FOR UPDATE)
WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x
WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x
WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM x
WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x
WITH x AS (SELECT 1) DELETE FROM t
SELECT * INTO new_table FROM t
SELECT * FROM t INTO OUTFILE '/tmp/x'
SELECT a INTO @v FROM t
SELECT @v := 1
VALUES (1) RETURNING 1
SELECT nextval('s')
SELECT NEXTVAL('s')
SELECT pg_catalog.nextval('s')
SELECT "nextval"('s')
SELECT setval('s', 1)
SELECT currval('s')
SELECT lastval()
SELECT NEXT VALUE FOR s
SELECT PREVIOUS VALUE FOR s
SELECT s.nextval FROM dual
SELECT pg_advisory_lock(1)
SELECT pg_advisory_xact_lock_shared(1)
SELECT pg_try_advisory_lock(1)
SELECT pg_advisory_unlock_all()
SELECT pg_notify('ch', 'x')
SELECT set_config('a.b', 'c', false)
SELECT lo_import('/etc/passwd')
SELECT lo_unlink(42)
SELECT txid_current()
SELECT pg_current_xact_id()
SELECT pg_current_wal_lsn()
SELECT pg_switch_wal()
SELECT pg_terminate_backend(1)
SELECT * FROM dblink('db', 'DELETE FROM t') AS x(a int)
SELECT query_to_xml('select 1', true, true, '')
SELECT U&"\\006Eextval"('s')
EXPLAIN ANALYZE SELECT * FROM t
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM t
EXPLAIN (FORMAT JSON, ANALYSE true) SELECT 1
EXPLAIN UPDATE t SET a = 1
EXPLAIN DELETE FROM t
EXPLAIN INSERT INTO t VALUES (1)
EXPLAIN EXECUTE p
EXPLAIN CREATE TABLE x AS SELECT 1
DESCRIBE DELETE FROM t
(EXPLAIN SELECT 1)
(SHOW TABLES)
SELECT 1 -- DELETE FROM t
SELECT 1 -- ; DELETE FROM t\n
/* INSERT */ SELECT 1
-- UPDATE t\nSELECT 1
SELECT /* FOR UPDATE */ 1 FROM t /*; DROP TABLE t */
SELECT 1 /*+ MAX_EXECUTION_TIME(1000) */
/* SELECT */ DELETE FROM t
-- SELECT 1\nDELETE FROM t
SELECT 1 -- x\r; DELETE FROM t
SELECT 1 /* /* */ ; DELETE FROM t /* */ */
SELECT 1 /* /* */ */
SELECT 1 /* /* */
SELECT 1 /*! FOR UPDATE */
SELECT * FROM t /*!50000 FOR UPDATE */
SELECT 1 /*M! ; DELETE FROM t */
SELECT 1 # just a comment in MySQL\n
SELECT 1 # DELETE\n
SELECT a # 1 FROM t; DELETE FROM t
SELECT 1 #'\n; DELETE FROM t; -- '
SELECT 1 --'\n, '; DELETE FROM t; --'
SELECT 1 -- '\n
-- SELECT 1
/* SELECT 1 */
SELECT 'DELETE FROM t'
SELECT 'it''s; DROP TABLE t' FROM t
SELECT E'it\\'s' FROM t
SELECT E'it\\'s; DELETE' FROM t
SELECT 'it\\'s' FROM t
SELECT * FROM t WHERE a = 'O''Brien' AND b = 'x--y' AND c = '/*'
SELECT N'update', X'FF', B'01', U&'d\\0061t\\+000061'
SELECT _utf8mb4'delete' COLLATE utf8mb4_bin
SELECT '' ; DELETE FROM t
SELECT 'a\\'; DELETE FROM t; -- '
SELECT '\\' ; DELETE FROM t; SELECT ''
SELECT "\\" ; DELETE FROM t; SELECT "
SELECT E'\\' ; DELETE FROM t; SELECT '
SELECT "update", "delete" FROM "insert" WHERE "for" = 'share'
SELECT "a""; DELETE FROM t" FROM t
SELECT `delete`, `update` FROM `insert`
SELECT `a``; DROP TABLE t` FROM t
SELECT [insert] FROM [delete]
SELECT `into` FROM `t` FOR SYSTEM_TIME AS OF '2020-01-01'
SELECT "x" FROM t FOR UPDATE
SELECT [a] FROM t; DELETE FROM t
SELECT [a'] FROM t; DELETE FROM t; SELECT [']
SELECT x[']'] ; DELETE FROM t
SELECT [insert into] FROM t
SELECT "a" FROM "t"; UPDATE "t" SET "a" = 1
SELECT $$it's$$
SELECT $tag$a 'quote' and a "dq"$tag$ AS x
SELECT $a$ $ $b$ $a$
SELECT $$ DELETE FROM t $$
SELECT $q$ ; DROP TABLE t $q$
SELECT $$x$$; DELETE FROM t
SELECT $a$ $$ $a$ FOR UPDATE
SELECT $$abc
SELECT $tag$abc$tagx$
SELECT x$a$ FROM t; DELETE FROM t; SELECT $a$
SELECT $a(') FROM t; DELETE FROM t; SELECT $b(')
SELECT :name, :other FROM t
select 1
SeLeCt\t*\nFROM\r\ncake
\n\t  SELECT 1  \n
(((SELECT 1)))
SELECT (1 + (2 * 3))
InSeRt InTo t VaLuEs (1)
sElEcT * fRoM t FoR uPdAtE
SELECT (1
SELECT 1)
(SELECT 1
SELECT 1 FROM t WHERE (a = 1))
SELECT nextval_count, updated_at, insert_date, for_update_flag, returning_customer, deleted, created_at FROM t
SELECT t.created_by, t.into_count, lock_version, share_price FROM t
SELECT selected, setvalue, droplet, altered FROM t
SELECT café_update, x$update FROM t
SELECT t.update FROM t
SELECT 1 AS delete
SELECT t.nextval FROM t
SELECT 1; SELECT 2
SELECT 1;SELECT 2
SELECT 1;;
SELECT 1; -- c\n DELETE FROM t
SELECT 1; /* c */ x
SELECT (1; 2)
; SELECT 1
SELECT 1;  \n\t-- trailing comment
-- nothing
/* nothing */
SELECT 'abc
SELECT "abc
SELECT `abc
SELECT 1 /* unterminated
SELECT $$unterminated
SELECT 1\0
'SELECT 1'
"select"
SELECT[abc
SELECT a]
SELECT * FROM t WHERE id = ? LOCK\nIN\tSHARE MODE
SELECT GET_LOCK('x', 10)
SELECT RELEASE_LOCK('x')
SELECT RELEASE_ALL_LOCKS()
SELECT IS_USED_LOCK('x')
SELECT LAST_INSERT_ID()
SELECT LAST_INSERT_ID(42)
SELECT last_insert_id ()
SELECT ROW_COUNT()
SELECT FOUND_ROWS()
REPLACE INTO t VALUES (1)
REPLACE t SET a = 1
SELECT * FROM t PROCEDURE ANALYSE()
HANDLER t READ FIRST
DO SLEEP(1)
SELECT SQL_NO_CACHE `a` FROM `t` WHERE `b` = 'x\\'y'
SELECT * FROM t WHERE a = "it\\"s"
INSERT OR REPLACE INTO t VALUES (1)
INSERT OR IGNORE INTO t VALUES (1)
PRAGMA journal_mode
PRAGMA table_info(t)
ATTACH DATABASE 'x.db' AS x
DETACH DATABASE x
SELECT last_insert_rowid()
SELECT changes()
SELECT total_changes()
SELECT load_extension('x')
SELECT changes FROM audit
SELECT [order], [group] FROM [table] WHERE x = ?1
SELECT * FROM t WHERE a = :a AND b = @b AND c = $c
SELECT $$x$$
SELECT 1 -- x
SELECT '\\'
SELECT
select
WITH
VALUES
TABLE
SHOW
EXPLAIN
DESC
FROM
update
delete
into
for
share
key
nextval
pg_sleep
pg_cancel_backend
replace
changes
/* c */
SELECT E'x'\n'\\'', '\\' ; DELETE FROM t; -- '
SELECT E'x' -- gap\n'\\'', '\\' ; DELETE FROM t; -- '
SELECT E'x'\r'\\'', '\\' ; DELETE FROM t; -- '
SELECT E'x'  \t\r\n  -- c\n  '\\'', '\\' ; DELETE FROM t; -- '
SELECT 'a'\n'b' FROM t
SELECT E'a\\n'\n'\\'' AS q
SELECT 'a' -- c\n 'b'
SELECT B'01'\n'10', X'AB'\n'CD'
SELECT 'x'\n'\\'; DELETE FROM t; --'
SELECT ('s'::regclass)."nextval"
SELECT ('s'::regclass).nextval
SELECT (4243::bigint)."pg_advisory_lock"
SELECT ('/etc/passwd'::text).lo_import
SELECT (0::oid).lo_create
SELECT (true).pg_promote
SELECT (pid).pg_terminate_backend FROM pg_stat_activity
SELECT ('DELETE FROM t'::text)."dblink_exec"
SELECT ('s'::regclass).currval
SELECT ('x'::text)."my_function"
SELECT (x).unknown_function FROM t
SELECT ((x)).pg_reload_conf FROM t
SELECT (ARRAY['s'::regclass])[1]."my_function"
SELECT $1.unknown_function
SELECT ('abc'::text).upper
SELECT ('abc'::text)."length"
SELECT `s`.`nextval`
SELECT s."nextval"
SELECT s.nextval
SELECT `s`.`lastval`
SELECT `db`.`s`.`nextval` FROM dual
SELECT t.lo_unlink FROM t
SELECT "t"."pg_switch_wal" FROM t
SELECT "t"."id", "t"."next_value", t.version FROM t
SELECT ts_rewrite('a & b'::tsquery, 'SELECT t, s FROM aliases')
SELECT * FROM xpath_table('id', 'x', 'SELECT 1', '/a', 'true') AS t(id int)
SELECT brin_summarize_new_values('idx')
SELECT brin_summarize_range('idx', 0)
SELECT brin_desummarize_range('idx', 0)
SELECT gin_clean_pending_list('idx')
SELECT heap_force_kill('t'::regclass, ARRAY['(0,1)']::tid[])
SELECT set_limit(0.5)
SELECT isn_weak(true)
SELECT archive_old_orders()
SELECT "archive"(1)
SELECT "Lower"('A')
SELECT public.lower('a')
SELECT app.f(1)
SELECT pg_catalog.unknown_fn(1)
SELECT count(*) FROM t WHERE f(x)
SELECT * FROM t WHERE EXISTS (SELECT g(1))
SELECT * FROM t, LATERAL h(t.id)
SELECT a[1:evil(2)] FROM t
SELECT lower(name), upper(name), length(name), coalesce(a, b) FROM t
SELECT count(*), sum(x), avg(x), max(x), min(x) FROM t GROUP BY y HAVING count(*) > 1
SELECT now(), date_trunc('day', created_at), to_char(now(), 'YYYY') FROM t
SELECT jsonb_build_object('a', 1), json_agg(t), to_jsonb(t) FROM t
SELECT array_agg(x ORDER BY x), unnest(ARRAY[1, 2]), cardinality(a) FROM t
SELECT to_tsvector('english', body) @@ plainto_tsquery($1) FROM t
SELECT random(), gen_random_uuid(), pg_catalog.lower('A')
SELECT "pg_catalog"."lower"('A'), "pg_catalog".like_escape('a', 'b')
SELECT "PG_CATALOG"."lower"('A')
SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t
SELECT count(*) FILTER (WHERE x > 1) FROM t
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t
SELECT CAST(x AS varchar(10)), x::numeric(10, 2), y::pg_catalog.varchar(3) FROM t
SELECT * FROM generate_series(1, 3) AS g(i)
SELECT * FROM unnest(ARRAY[1]) u(x)
SELECT * FROM t WHERE id IN (SELECT id FROM u) AND EXISTS (SELECT 1)
WITH a(x) AS (SELECT 1), b(y, z) AS MATERIALIZED (SELECT 2, 3) SELECT * FROM a, b
SELECT * FROM (WITH a(x) AS (SELECT 1) SELECT x FROM a) s
EXPLAIN WITH a(x) AS (SELECT 1) SELECT x FROM a
WITH a AS (SELECT 1) SELECT x FROM a, evil(1)
WITH a AS (SELECT 1) (SELECT 1), evil(1)
SELECT * FROM unnest(a) WITH ORDINALITY AS t(v, n), evil(1)
WITH a AS (SELECT 1) SELECT (SELECT 1), evil(2) FROM a
SELECT IF(a > 1, 'x', 'y'), IFNULL(b, 0), GROUP_CONCAT(c SEPARATOR ',') FROM t
SELECT DATE_FORMAT(NOW(), '%Y'), JSON_EXTRACT(doc, '$.a') FROM t
SELECT * FROM t WHERE MATCH (a) AGAINST ('x' IN BOOLEAN MODE)
SELECT * FROM t USE INDEX (idx) WHERE a = ?
SELECT `lower`('A')
SELECT mydb.myfunc(1)
SELECT datetime('now'), strftime('%Y', d), json_extract(j, '$.a'), iif(a, 1, 2) FROM t
SELECT * FROM json_each('[1]')
SELECT * FROM pragma_table_info('t')
SELECT optimize(t) FROM t
SELECT * FROM pragma_optimize
SELECT * FROM pragma_optimize()
SELECT changes(), total_changes()
slugify
Price_With_Tax
valid names
SELECT slugify(name) FROM t
SELECT SLUGIFY(name) FROM t
SELECT price_with_tax(p) FROM t
SELECT "slugify"(name) FROM t
SELECT "Slugify"(name) FROM t
SELECT app.slugify(name) FROM t
SELECT other(name) FROM t
SELECT slugify(name) FROM t FOR UPDATE
SELECT ('x'::text).slugify
other
valid
SELECT other(slugify(x))
a b
1abc
s.f
f()
pg_advisory_lock
lo_import
dblink_exec
SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10
SELECT sql_calc_found_rows id FROM t
SELECT @@identity
SELECT @@IDENTITY
SELECT @@insert_id
SELECT @@last_insert_id
SELECT @@warning_count
SELECT @@error_count
SELECT @@session.warning_count
SELECT @@SESSION.insert_id
SELECT @@`identity`
SELECT @@session.`warning_count`
SELECT @ @identity
SHOW WARNINGS
SHOW ERRORS
SHOW COUNT(*) WARNINGS
SHOW WARNINGS LIMIT 10
SHOW PROFILE
SHOW PROFILES
SELECT @@version, @@session.time_zone, @a
SHOW TABLES
SELECT identity, warning_count FROM t
EXPLAIN ("analyze") SELECT * FROM t
EXPLAIN ("ANALYZE" true, "buffers") SELECT 1
EXPLAIN (FORMAT JSON, "analyse") SELECT 1
EXPLAIN (`analyze`) SELECT 1
EXPLAIN ("costs" false) SELECT 1
SELECT (data #>> '{a,b}') FROM t WHERE id = $1 AND (x # 4) = 0
SELECT "id" FROM "items" WHERE ("x" # 1) = 0 ORDER BY "embedding" <#> $1 LIMIT 5
SELECT $q$ ; DROP TABLE t $q$ AS x
SELECT 1 /* /* nested */ still comment; DELETE */
SELECT $$x$$ FOR UPDATE
SELECT 1 # DELETE FROM t\n
SELECT [delete] FROM [update]
SELECT 'a\\' ; DELETE FROM t; SELECT ''
SELECT 'a\\' FROM t
SELECT 'a\0'
SELECT 1 -- \0
SELECT "a\0"
SELECT $$\0$$
COMMON
POSTGRES
MYSQL
SQLITE
lower
count
evil
identity
$a$
-- c\n
E'\\''
SELECT * FROM main.pragma_optimize
SELECT * FROM "pragma_optimize"
pg_catalog
SELECT "pg_catalog"."like_escape"('a', 'b')
SELECT "pg_catalog"."nextval"('s')
SELECT "Pg_Catalog"."lower"('a')
SELECT "c" FROM "t" WHERE "c" LIKE $1 ESCAPE E'\\\\'
SELECT iif(a, 1, 2), ifnull(b, 0) FROM t
SELECT IFNULL(a, 0) FROM t
SELECT * FROM [pragma_optimize]
SELECT * FROM `pragma_optimize`
SELECT * FROM "pragma_table_info"('t')
