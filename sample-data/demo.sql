-- hiveql demo: the main job of a Hive user, end to end, on the embedded default.
-- Run from the repository root:  hiveql -f sample-data/demo.sql
-- (relative paths below are taken from the current directory)

CREATE DATABASE IF NOT EXISTS demo COMMENT 'hiveql sample';
USE demo;

-- 1. An external table over raw files: schema on read, nothing is copied.
DROP TABLE IF EXISTS page_views;
CREATE EXTERNAL TABLE page_views (
  view_time   TIMESTAMP,
  user_id     BIGINT,
  page_url    STRING,
  referrer    STRING,
  country     STRING,
  duration_ms INT COMMENT '"-" when unknown: reads as NULL'
)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\t'
STORED AS TEXTFILE
LOCATION 'sample-data/page_views'
TBLPROPERTIES ('skip.header.line.count'='1');

-- 2. A managed table in Hive's default format (\001 fields, nested types), loaded from a file.
DROP TABLE IF EXISTS users;
CREATE TABLE users (
  user_id   BIGINT,
  name      STRING,
  email     STRING,
  signup    DATE,
  interests ARRAY<STRING>,
  attrs     MAP<STRING,STRING>
);
LOAD DATA LOCAL INPATH 'sample-data/users/users.txt' OVERWRITE INTO TABLE users;

-- 3. Insert-select into a Parquet table.
DROP TABLE IF EXISTS daily_country;
CREATE TABLE daily_country (day DATE, country STRING, views BIGINT, avg_duration_ms DOUBLE) STORED AS PARQUET;
INSERT OVERWRITE TABLE daily_country
SELECT to_date(view_time), country, count(*), avg(duration_ms)
FROM page_views
GROUP BY to_date(view_time), country;

-- 4. Aggregates and a join.
SELECT country, sum(views) AS views, round(avg(avg_duration_ms), 1) AS avg_ms
FROM daily_country GROUP BY country ORDER BY views DESC LIMIT 5;

SELECT attrs['plan'] AS plan, count(DISTINCT u.user_id) AS users, count(*) AS views
FROM page_views v JOIN users u ON v.user_id = u.user_id
GROUP BY attrs['plan'] ORDER BY views DESC;

SELECT name, interests, size(interests) AS n FROM users WHERE array_contains(interests, 'rust') ORDER BY name LIMIT 3;

-- 5. Write a result directory (files 000000_0, ... as Hive writes them).
INSERT OVERWRITE LOCAL DIRECTORY '/tmp/hiveql-demo/top_pages'
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
SELECT page_url, count(*) AS views FROM page_views GROUP BY page_url ORDER BY views DESC LIMIT 10;
