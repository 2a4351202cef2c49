-- SQL from the SeaQL test suites (sea-query 1.0.2 tests/postgres, sea-orm 2.0.4 src and tests),
-- one statement a line, with \n \r \t \\ escaped. Regenerate with tests/data/extract_seaql.py.
EXPLAIN (ANALYZE, VERBOSE 0, COSTS, SETTINGS 0, GENERIC_PLAN, BUFFERS, SERIALIZE TEXT, WAL, TIMING 0, SUMMARY, MEMORY, FORMAT JSON) SELECT "character" FROM "character"
EXPLAIN (SERIALIZE TEXT) SELECT "character" FROM "character"
EXPLAIN (SERIALIZE BINARY) SELECT "character" FROM "character"
EXPLAIN (SERIALIZE NONE) SELECT "character" FROM "character"
SELECT "*" FROM JSON_TABLE('[{"name": "John", "age": 30}, {"name": "Jane", "age": 25}]', '$[*]' COLUMNS (row_number FOR ORDINALITY, name "text" PATH '$.name', age "int" PATH '$.age')) AS "people"
SELECT "*" FROM JSON_TABLE('{"users": [{"id": 1, "name": "John"}, {"id": 2, "name": "Jane"}]}', '$.users[*] ? (@.id > $min_id)' PASSING 0 AS min_id COLUMNS (user_id "int" PATH '$.id' NULL ON ERROR, user_name "text" PATH '$.name' DEFAULT 'Unknown' ON EMPTY) ERROR ON ERROR) AS "filtered_users"
SELECT "*" FROM JSON_TABLE('{"users": [{"name": "John", "phones": ["123", "456"]}, {"name": "Jane", "phones": ["789"]}]}', '$.users[*]' COLUMNS (user_name "text" PATH '$.name', NESTED PATH '$.phones[*]' COLUMNS (phone "text" PATH '$'))) AS "user_phones"
SELECT "*" FROM JSON_TABLE('{"favorites":[{"movies":[{"name":"One","director":"John Doe"}],"books":[{"name":"Mystery","authors":[{"name":"Brown Dan"}]}]}]}'::json, '$.favorites[*]' COLUMNS (user_id FOR ORDINALITY, NESTED PATH '$.movies[*]' COLUMNS (movie_id FOR ORDINALITY, mname "text" PATH '$.name', director "text"), NESTED PATH '$.books[*]' COLUMNS (book_id FOR ORDINALITY, bname "text" PATH '$.name', NESTED PATH '$.authors[*]' COLUMNS (author_id FOR ORDINALITY, author_name "text" PATH '$.name')))) AS "jt"
SELECT "character", "size_w", "size_h" FROM "character" LIMIT 10 OFFSET 100
SELECT "character", "size_w", "size_h" FROM "character" WHERE "size_w" = 3
SELECT "character", "size_w", "size_h" FROM "character" WHERE "size_w" = 3 AND "size_h" = 4
SELECT "aspect" FROM (SELECT "image", "aspect" FROM "glyph") AS "subglyph"
SELECT "glyph"."image" FROM "glyph" WHERE "glyph"."aspect" IN (3, 4)
SELECT "aspect", MAX("image") FROM "glyph" GROUP BY "aspect" HAVING "aspect" > 2
SELECT "aspect" FROM "glyph" WHERE COALESCE("aspect", 0) > 2
SELECT "character" FROM "character" LEFT JOIN "font" ON "character"."font_id" = "font"."id"
SELECT "character" FROM "character" LEFT JOIN "font" ON "character"."font_id" = "font"."id" INNER JOIN "glyph" ON "character"."character" = "glyph"."image"
SELECT "character" FROM "character" LEFT JOIN "font" ON "character"."font_id" = "font"."id" AND "character"."font_id" = "font"."id"
SELECT "aspect" FROM "glyph" WHERE COALESCE("aspect", 0) > 2 ORDER BY "image" DESC, "glyph"."aspect" ASC
SELECT "aspect" FROM "glyph" WHERE COALESCE("aspect", 0) > 2 ORDER BY "id" ASC, "aspect" DESC
SELECT "aspect" FROM "glyph" WHERE COALESCE("aspect", 0) > 2 ORDER BY "glyph"."id" ASC, "glyph"."aspect" DESC
SELECT "id", "aspect", MAX("image") FROM "glyph" GROUP BY "glyph"."id", "glyph"."aspect" HAVING "aspect" > 2
SELECT "character" FROM "character" WHERE "font_id" IS NULL
SELECT "character" FROM "character" WHERE "font_id" IS NULL AND "character" IS NOT NULL
SELECT "glyph"."image" FROM "glyph" WHERE "glyph"."aspect" BETWEEN 3 AND 5
SELECT "aspect" FROM "glyph" WHERE ("aspect" BETWEEN 3 AND 5) AND ("aspect" NOT BETWEEN 8 AND 10)
SELECT "character" FROM "character" WHERE "character" = 'A'
SELECT "character" FROM "character" WHERE "character" LIKE 'A'
SELECT "character" FROM "character" WHERE "character" LIKE 'A%' OR "character" LIKE '%B' OR "character" LIKE '%C%'
SELECT "character" FROM "character" WHERE ("character" LIKE 'C' OR ("character" LIKE 'D' AND "character" LIKE 'E')) AND ("character" LIKE 'F' OR "character" LIKE 'G')
SELECT "character" FROM "character"
SELECT "character" FROM "character" WHERE "font_id" = 5
SELECT "character" FROM "character" WHERE "size_w" * 2 = "size_h" / 2
SELECT "character" FROM "character" WHERE ("size_w" + 1) * 2 = ("size_h" / 2) - 1
SELECT "character", "size_w", "size_h" FROM "character" WHERE "size_w" = 3 AND "size_h" = 4 AND "size_h" = 5
SELECT "character", "size_w", "size_h" FROM "character" WHERE "size_w" = 3 OR "size_h" = 4 OR "size_h" = 5
SELECT "character", "size_w", "size_h" FROM "character" WHERE ("size_w" * 2) + ("size_h" / 3) = 4
SELECT 0 + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9
SELECT "character" AS "C" FROM "character"
SELECT "image" FROM "glyph" WHERE "aspect" IN (SELECT 3 + 2 * 2)
SELECT "image" FROM "glyph" WHERE "aspect" IN (SELECT "variant" FROM "font")
SELECT "aspect", MAX("image") FROM "glyph" GROUP BY "aspect"
SELECT "id" FROM "glyph" WHERE "aspect" IS NULL
SELECT "id" FROM "glyph" WHERE TRUE OR FALSE
SELECT "id" FROM "glyph" WHERE NOT ((NOT TRUE) AND (NOT FALSE))
SELECT "id" FROM "glyph" WHERE "aspect" IS NULL OR "aspect" IS NOT NULL
SELECT "id" FROM "glyph" WHERE "aspect" IS NULL AND "aspect" IS NOT NULL
SELECT "id" FROM "glyph" WHERE "aspect" IS NULL OR ("aspect" IS NOT NULL AND "aspect" < 8)
SELECT "id" FROM "glyph" WHERE "aspect" < 8 AND "aspect" IS NOT NULL
SELECT "id" FROM "glyph" WHERE TRUE
SELECT "id" FROM "glyph" WHERE NOT "aspect" < 8
SELECT "id" FROM "glyph" WHERE NOT ("aspect" < 8 OR "aspect" IS NOT NULL)
SELECT "id" FROM "glyph" WHERE NOT ("aspect" < 8 AND "aspect" IS NOT NULL)
SELECT "id" FROM "glyph" WHERE ("aspect", 100) < (8, 100)
SELECT "id" FROM "glyph" WHERE ("aspect", '100') IN ((8, '100'))
SELECT * FROM "character"
SELECT "character".*, "font"."name" FROM "character" INNER JOIN "font" ON "character"."font_id" = "font"."id"
SELECT "aspect"
SELECT DISTINCT ON ("aspect") "aspect"
SELECT * FROM "character", "font" WHERE "font"."id" = "character"."font_id"
WITH "cte" AS
(SELECT "id", "image", "aspect"
SELECT "id", "image", "aspect" FROM "cte"
SELECT (CASE WHEN ("glyph"."aspect" > 0) THEN 'positive' WHEN ("glyph"."aspect" < 0) THEN 'negative' ELSE 'zero' END) AS "polarity" FROM "glyph"
SELECT "id" FROM "character" WHERE "font_size" = $1 LIMIT $2
SELECT "character" FROM "character" WHERE "character" LIKE $1 ESCAPE E'\\\\'
SELECT "character" FROM "character" WHERE "font_size" = $1 AND ((\n                "character" ILIKE '%' || $2 || '%' ESCAPE '\\'\n                OR "ascii" ILIKE '%' || $3 || '%' ESCAPE '\\'\n            ))
(SELECT * FROM (VALUES (1, 'hello'), (2, 'world')) AS "x")
SELECT "column1", "column2"
WITH "cte" ("id", "image", "aspect") AS
(VALUES (1, 'glyph1.jpg', 'l'), (2, 'glyph2.jpg', 'p'))
SELECT "id", "name" INTO TEMPORARY TABLE "font_copy" FROM "font"
SELECT MAX("character") OVER ( PARTITION BY "font_size" ) AS "C" FROM "character"
SELECT MAX("character") OVER "w" FROM "character" WINDOW "w" AS (PARTITION BY "font_size")
INSERT INTO "glyph" ("image", "aspect") VALUES ('04108048005887010020060000204E0180400400', 3.141592653589793)
INSERT INTO "glyph" ("image", "aspect") VALUES ('04108048005887010020060000204E0180400400', 3.141592653589793), (NULL, 2.1345)
INSERT INTO "character" ("font_size") VALUES ('large'::"FontSizeEnum")
INSERT INTO "character" ("font_size") VALUES ($1::"FontSizeEnum"[])
with-chrono
INSERT INTO "glyph" ("image") VALUES ('1970-01-01 00:00:00.000000')
with-time
with-uuid
INSERT INTO "glyph" ("image") VALUES ('00000000-0000-0000-0000-000000000000')
INSERT INTO "glyph" ("aspect", "image") SELECT "aspect", "image" FROM "font" WHERE "image" LIKE '%'
WITH "cte" ("id", "image", "aspect") AS (SELECT "id", "image", "aspect" FROM "glyph")
INSERT INTO "glyph" ("id", "image", "aspect") SELECT "id", "image", "aspect" FROM "cte"
INSERT INTO "glyph" VALUES (DEFAULT)
INSERT INTO "glyph" VALUES (DEFAULT) RETURNING "id"
INSERT INTO "glyph" ("aspect", "tokens") VALUES (3.141592653589793, ARRAY ['Token1','Token2','Token3'])
INSERT INTO "glyph" ("aspect", "image")
VALUES ('04108048005887010020060000204E0180400400', 3.1415)
INSERT INTO "font" ("id", "name")
VALUES (15, 'CyberFont Sans Serif')
VALUES (20, 'Monospaced terminal')
VALUES ('abcd', 3.1415)
INSERT INTO "glyph" ("image", "aspect") VALUES ('04108048005887010020060000204E0180400400', 3.1415) RETURNING *
INSERT INTO "glyph" ("image", "aspect") VALUES ('04108048005887010020060000204E0180400400', 3.1415) RETURNING "id", "image"
UPDATE "glyph" SET "aspect" = 2.1345, "image" = '24B0E11951B03B07F8300FD003983F03F0780060' WHERE "id" = 1
UPDATE "glyph" SET "aspect" = 60 * 24 * 24, "image" = '24B0E11951B03B07F8300FD003983F03F0780060' WHERE "id" = 1
UPDATE "glyph" SET "aspect" = "aspect" + 1, "image" = '24B0E11951B03B07F8300FD003983F03F0780060' WHERE "id" = 1 ORDER BY "id" ASC LIMIT 1
UPDATE "glyph" SET "aspect" = 60 * 24 * 24, "image" = '24B0E11951B03B07F8300FD003983F03F0780060' WHERE "id" = 1 RETURNING *
UPDATE "glyph" SET "aspect" = 60 * 24 * 24, "image" = '24B0E11951B03B07F8300FD003983F03F0780060' WHERE "id" = 1 RETURNING "id", "image"
DELETE FROM "glyph" WHERE "id" = 1
DELETE FROM "glyph" WHERE "id" = 1 RETURNING *
DELETE FROM "glyph" WHERE "id" = 1 RETURNING "id", "image"
SELECT "name" % 'serif' FROM "font"
SELECT "name" <% 'serif' FROM "font"
SELECT "name" <<% 'serif' FROM "font"
SELECT "name" <-> 'serif' FROM "font"
SELECT "name" <<-> 'serif' FROM "font"
SELECT "name" <<<-> 'serif' FROM "font"
SELECT "name" ~* 'serif' FROM "font"
SELECT "name" ~ 'serif' FROM "font"
SELECT "character" FROM "character" UNION (SELECT "character" FROM "character"
SELECT ARRAY((SELECT * FROM "character"))
SELECT MD5('test')
SELECT "character" FROM "character" WHERE "character" @> $1
SELECT "character" FROM "character" WHERE "character" <@ $1
SELECT "character" FROM "character" WHERE "character" && $1
SELECT "character" FROM "character" WHERE "character" -> $1
SELECT "character" FROM "character" WHERE "character" ->> $1
SELECT "character" FROM "character" WHERE "character" ~ $1
SELECT "character" FROM "character" WHERE "character" ~* $1
SELECT "character" FROM "character" WHERE (TRUE OR TRUE OR FALSE) AND TRUE
SELECT "character" FROM "character" WHERE (100 < 0) < 1
SELECT "character" FROM "character" WHERE NOT (FALSE AND TRUE)
SELECT "character" FROM "character" WHERE TRUE AND (TRUE AND TRUE AND TRUE)
SELECT "character" FROM "character" WHERE "character" = '[1,2]'
SELECT "cake"."id", "cake"."name" FROM "cake" LIMIT $1
SELECT "fruit"."id", "fruit"."name", "fruit"."cake_id" FROM "fruit"
SELECT "cake"."id", "cake"."name" FROM "cake"
SELECT "cake"."id" AS "A_id", "cake"."name" AS "A_name", "fruit"."id" AS "B_id", "fruit"."name" AS "B_name", "fruit"."cake_id" AS "B_cake_id" FROM "cake" LEFT JOIN "fruit" ON "cake"."id" = "fruit"."cake_id"
SELECT "collection"."id", "collection"."integers", "collection"."integers_opt" FROM "collection"
SELECT "fruit"."id" FROM "fruit"
SELECT "fruit"."id" FROM "fruit" WHERE "fruit"."id" > 1 ORDER BY "fruit"."id" DESC LIMIT 5 OFFSET 2
UPDATE "cake" SET "name" = $1 WHERE "cake"."id" = $2 RETURNING "id", "name"
UPDATE "cake" SET "name" = $1 WHERE "cake"."id" = $2
SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."id" = $1 LIMIT $2
INSERT INTO "posts" ("id", "title", "text") VALUES (CAST($1 AS TEXT), $2, $3) RETURNING CAST("id" AS INTEGER)
INSERT INTO "posts" ("id_primary", "id_secondary", "title", "text") VALUES (CAST($1 AS TEXT), CAST($2 AS TEXT), $3, $4) RETURNING CAST("id_primary" AS INTEGER), CAST("id_secondary" AS INTEGER)
INSERT INTO "fruit" ("name") VALUES ($1) RETURNING "id", "name", "cake_id"
UPDATE "fruit" SET "name" = $1, "cake_id" = $2 WHERE "fruit"."id" = $3 RETURNING "id", "name", "cake_id"
SELECT "fruit"."id", "fruit"."name", "fruit"."cake_id" FROM "fruit" WHERE "fruit"."id" = $1 LIMIT $2
SELECT ARRAY[1, 2, 3]::int4[] AS ids
