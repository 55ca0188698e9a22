-- The Amazon EMR Hive sample (Hive_CloudFront.q): CloudFront access logs read with RegexSerDe.
-- Run from the repository root:
--   hiveql -d INPUT=sample-data -f sample-data/cloudfront.sql
-- The logs are gzipped and start with '#Version' / '#Fields' lines; the regex's leading
-- negative look-ahead (?!#) turns those into rows of NULLs, which the WHERE clause drops.

CREATE EXTERNAL TABLE IF NOT EXISTS cloudfront_logs (
  DateObject Date,
  Time STRING,
  Location STRING,
  Bytes INT,
  RequestIP STRING,
  Method STRING,
  Host STRING,
  Uri STRING,
  Status INT,
  Referrer STRING,
  OS String,
  Browser String,
  BrowserVersion String
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
WITH SERDEPROPERTIES (
  "input.regex" = "^(?!#)([^ ]+)\\s+([^ ]+)\\s+([^ ]+)\\s+([^ ]+)\\s+([^ ]+)\\s+([^ ]+)\\s+([^ ]+)\\s+([^ ]+)\\s+([^ ]+)\\s+([^ ]+)\\s+[^\(]+[\(]([^\;]+).*\%20([^\/]+)[\/](.*)$"
)
LOCATION '${INPUT}/cloudfront/data';

-- The EMR sample query: requests per operating system over one month.
SELECT os, COUNT(*) count FROM cloudfront_logs WHERE dateobject BETWEEN '2014-07-05' AND '2014-08-05' GROUP BY os;
