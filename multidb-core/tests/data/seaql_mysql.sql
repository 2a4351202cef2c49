-- SQL from the SeaQL test suites (sea-query 1.0.2 tests/mysql, sea-orm 2.0.4 src and tests),
-- one statement a line, with \n \r \t \\ escaped. Regenerate with tests/data/extract_seaql.py.
EXPLAIN FORMAT = JSON SELECT `character` FROM `character`
EXPLAIN ANALYZE FORMAT = TREE SELECT `character` FROM `character`
EXPLAIN `character` `size_w`
EXPLAIN FOR CONNECTION 123
EXPLAIN FORMAT = JSON INTO @foo FOR CONNECTION 123
EXPLAIN FOR SCHEMA `s1` SELECT `character` FROM `character`
EXPLAIN FOR DATABASE `db1` SELECT `character` FROM `character`
EXPLAIN FORMAT = JSON INTO @plan SELECT `character` FROM `character`
SELECT `character`, `size_w`, `size_h` FROM `character` LIMIT 10 OFFSET 100
SELECT `character`, `size_w`, `size_h` FROM `character` WHERE `size_w` = 3
SELECT `character`, `size_w`, `size_h` FROM `character` WHERE `size_w` = 3 AND `size_h` = 4
SELECT `image` FROM (SELECT `image`, `aspect` FROM `glyph`) AS `subglyph`
SELECT `glyph`.`image` FROM `glyph` WHERE `glyph`.`aspect` IN (3, 4)
SELECT `aspect`, MAX(`image`) FROM `glyph` GROUP BY `aspect` HAVING `aspect` > 2
SELECT `aspect` FROM `glyph` WHERE IFNULL(`aspect`, 0) > 2
SELECT `character` FROM `character` LEFT JOIN `font` ON `character`.`font_id` = `font`.`id`
SELECT `character` FROM `character` LEFT JOIN `font` ON `character`.`font_id` = `font`.`id` INNER JOIN `glyph` ON `character`.`character` = `glyph`.`image`
SELECT `character` FROM `character` LEFT JOIN `font` ON `character`.`font_id` = `font`.`id` AND `character`.`font_id` = `font`.`id`
SELECT `aspect` FROM `glyph` WHERE IFNULL(`aspect`, 0) > 2 ORDER BY `image` DESC, `glyph`.`aspect` ASC
SELECT `aspect` FROM `glyph` WHERE IFNULL(`aspect`, 0) > 2 ORDER BY `id` ASC, `aspect` DESC
SELECT `aspect` FROM `glyph` WHERE IFNULL(`aspect`, 0) > 2 ORDER BY `glyph`.`id` ASC, `glyph`.`aspect` DESC
SELECT `id`, `aspect`, MAX(`image`) FROM `glyph` GROUP BY `glyph`.`id`, `glyph`.`aspect` HAVING `aspect` > 2
SELECT `character` FROM `character` WHERE `font_id` IS NULL
SELECT `character` FROM `character` WHERE `font_id` IS NULL AND `character` IS NOT NULL
SELECT `glyph`.`image` FROM `glyph` WHERE `glyph`.`aspect` BETWEEN 3 AND 5
SELECT `aspect` FROM `glyph` WHERE (`aspect` BETWEEN 3 AND 5) AND (`aspect` NOT BETWEEN 8 AND 10)
SELECT `character` FROM `character` WHERE `character` = 'A'
SELECT `character` FROM `character` WHERE `character` LIKE 'A'
SELECT `character` FROM `character` WHERE `character` LIKE 'A%' OR `character` LIKE '%B' OR `character` LIKE '%C%'
SELECT `character` FROM `character` WHERE (`character` LIKE 'C' OR (`character` LIKE 'D' AND `character` LIKE 'E')) AND (`character` LIKE 'F' OR `character` LIKE 'G')
SELECT `character` FROM `character`
SELECT `character` FROM `character` WHERE `font_id` = 5
SELECT `character` FROM `character` WHERE `size_w` * 2 = `size_h` / 2
SELECT `character` FROM `character` WHERE (`size_w` + 1) * 2 = (`size_h` / 2) - 1
SELECT `character`, `size_w`, `size_h` FROM `character` WHERE `size_w` = 3 AND `size_h` = 4 AND `size_h` = 5
SELECT `character`, `size_w`, `size_h` FROM `character` WHERE `size_w` = 3 OR `size_h` = 4 OR `size_h` = 5
SELECT `character`, `size_w`, `size_h` FROM `character` WHERE (`size_w` * 2) + (`size_h` / 3) = 4
SELECT 0 + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9
SELECT `character` AS `C` FROM `character`
SELECT `image` FROM `glyph` WHERE `aspect` IN (SELECT 3 + 2 * 2)
SELECT `aspect`, MAX(`image`) FROM `glyph` GROUP BY `aspect`
SELECT `id` FROM `glyph` WHERE `aspect` IS NULL
SELECT `id` FROM `glyph` WHERE TRUE OR FALSE
SELECT `id` FROM `glyph` WHERE NOT ((NOT TRUE) AND (NOT FALSE))
SELECT `id` FROM `glyph` WHERE `aspect` IS NULL OR `aspect` IS NOT NULL
SELECT `id` FROM `glyph` WHERE `aspect` IS NULL AND `aspect` IS NOT NULL
SELECT `id` FROM `glyph` WHERE `aspect` IS NULL OR (`aspect` IS NOT NULL AND `aspect` < 8)
SELECT `id` FROM `glyph` WHERE `aspect` < 8 AND `aspect` IS NOT NULL
SELECT `id` FROM `glyph` WHERE TRUE
SELECT `id` FROM `glyph` WHERE NOT `aspect` < 8
SELECT `id` FROM `glyph` WHERE NOT (`aspect` < 8 OR `aspect` IS NOT NULL)
SELECT `id` FROM `glyph` WHERE NOT (`aspect` < 8 AND `aspect` IS NOT NULL)
SELECT `id` FROM `glyph` WHERE (`aspect`, 100) < (8, 100)
SELECT `id` FROM `glyph` WHERE (`aspect`, '100') IN ((8, '100'))
SELECT * FROM `character`
SELECT `character`.*, `font`.`name` FROM `character` INNER JOIN `font` ON `character`.`font_id` = `font`.`id`
SELECT `aspect`
SELECT * FROM `character`, `font` WHERE `font`.`id` = `character`.`font_id`
SELECT (CASE WHEN (`glyph`.`aspect` > 0) THEN 'positive' WHEN (`glyph`.`aspect` < 0) THEN 'negative' ELSE 'zero' END) AS `polarity` FROM `glyph`
SELECT `character` FROM `character` WHERE `character` LIKE ? ESCAPE '\\'
SELECT `character` FROM `character` WHERE 'a\\'?b' = 'a\\'?b' AND `character` = ?
SELECT `character` FROM `character` WHERE 'a\\'?b' = 'a\\'?b' AND `character` = 'needle'
SELECT `character`, `size_w`, `size_h` FROM `character` IGNORE INDEX (`IDX_123456`) LIMIT 10 OFFSET 100
SELECT `character`, `size_w`, `size_h` FROM `character` IGNORE INDEX (`IDX_123456`) IGNORE INDEX (`IDX_789ABC`) LIMIT 10 OFFSET 100
SELECT `character`, `size_w`, `size_h`
SELECT MAX(`character`) OVER ( PARTITION BY `font_size` ) AS `C` FROM `character`
SELECT MAX(`character`) OVER `w` FROM `character` WINDOW `w` AS (PARTITION BY `font_size`)
SELECT MD5('test')
INSERT INTO `glyph` (`image`, `aspect`) VALUES ('04108048005887010020060000204E0180400400', 3.1415)
INSERT INTO `glyph` (`image`, `aspect`) VALUES ('04108048005887010020060000204E0180400400', 3.1415), (NULL, 2.1345)
with-chrono
INSERT INTO `glyph` (`image`) VALUES ('1970-01-01 00:00:00.000000')
with-time
with-uuid
INSERT INTO `glyph` (`image`) VALUES ('00000000-0000-0000-0000-000000000000')
INSERT INTO `glyph` VALUES ()
INSERT INTO `glyph` (`aspect`, `image`) SELECT `aspect`, `image` FROM `glyph` WHERE `image` LIKE '%'
INSERT INTO `glyph` (`aspect`, `image`)
VALUES ('04108048005887010020060000204E0180400400', 3.1415)
VALUES ('abcd', 3.1415)
UPDATE `glyph` SET `aspect` = 2.1345, `image` = '24B0E11951B03B07F8300FD003983F03F0780060' WHERE `id` = 1 ORDER BY `id` ASC LIMIT 1
UPDATE `glyph` SET `aspect` = 60 * 24 * 24, `image` = '24B0E11951B03B07F8300FD003983F03F0780060' WHERE `id` = 1 ORDER BY `id` ASC LIMIT 1
UPDATE `glyph` SET `aspect` = `aspect` + 1, `image` = '24B0E11951B03B07F8300FD003983F03F0780060' WHERE `id` = 1 ORDER BY `id` ASC LIMIT 1
DELETE FROM `glyph` WHERE `id` = 1 ORDER BY `id` ASC LIMIT 1
SELECT `character` FROM `character` UNION (SELECT `character` FROM `character`
SELECT ARRAY((SELECT * FROM `character`))
