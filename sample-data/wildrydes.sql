-- The Wild Rydes table of the Amazon Athena / Kinesis Data Firehose tutorial: JSON lines read with
-- the Hive (HCatalog) JsonSerDe. The tutorial's LOCATION is 's3://wildrydes-data/'; here it is local.
-- Run from the repository root:
--   hiveql -d INPUT=sample-data -f sample-data/wildrydes.sql

CREATE EXTERNAL TABLE IF NOT EXISTS wildrydes (
  Name string,
  StatusTime timestamp,
  Latitude float,
  Longitude float,
  Distance float,
  HealthPoints int,
  MagicPoints int
)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
LOCATION '${INPUT}/wildrydes/data';

SELECT name, count(*) AS rides, round(avg(distance), 1) AS avg_distance, max(healthpoints) AS max_hp
FROM wildrydes
GROUP BY name
ORDER BY name;
