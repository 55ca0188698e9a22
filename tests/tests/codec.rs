//! Every text SerDe scan survives the physical plan codec: the plan decoded
//! from bytes (as a worker would get it) prints the same and returns the
//! same rows as the original.

use std::sync::Arc;

use datafusion::physical_plan::{ExecutionPlan, collect, displayable};
use datafusion_proto::bytes::{
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use hiveql_engine::dist::codec::HiveCodec;
use hiveql_engine::{Session, SessionOptions};
use hiveql_tests::{data_dir, format_rows, repo_dir};

async fn rows(plan: Arc<dyn ExecutionPlan>, s: &Session) -> Vec<String> {
    let batches = collect(plan, s.context().task_ctx()).await.unwrap();
    let mut out = format_rows(&batches, "|");
    out.sort();
    out
}

#[tokio::test]
async fn text_serde_scans_round_trip_through_the_codec() {
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::open(SessionOptions { home: home.path().into(), ..Default::default() }).unwrap();
    let data = data_dir();
    let samples = repo_dir().join("sample-data");
    let ddl = [
        format!(
            "CREATE EXTERNAL TABLE cf (DateObject DATE, Time STRING, Location STRING, Bytes INT, RequestIP STRING, \
             Method STRING, Host STRING, Uri STRING, Status INT, Referrer STRING, OS STRING, Browser STRING, \
             BrowserVersion STRING) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe' \
             WITH SERDEPROPERTIES (\"input.regex\" = \"^(?!#)([^ ]+)\\\\s+([^ ]+)\\\\s+([^ ]+)\\\\s+([^ ]+)\\\\s+([^ ]+)\\\\s+([^ ]+)\\\\s+([^ ]+)\\\\s+([^ ]+)\\\\s+([^ ]+)\\\\s+([^ ]+)\\\\s+[^\\(]+[\\(]([^\\;]+).*\\%20([^\\/]+)[\\/](.*)$\") \
             LOCATION '{}' TBLPROPERTIES ('skip.header.line.count'='2')",
            data.join("cloudfront").display()
        ),
        format!(
            "CREATE EXTERNAL TABLE rydes (name STRING, statustime TIMESTAMP, distance DOUBLE, healthpoints INT) \
             ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe' LOCATION '{}'",
            samples.join("wildrydes/data").display()
        ),
        format!(
            "CREATE EXTERNAL TABLE ev (ts TIMESTAMP, level STRING) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' \
             WITH SERDEPROPERTIES ('ignore.malformed.json'='true', 'mapping.ts'='@timestamp') LOCATION '{}'",
            data.join("json_openx").display()
        ),
        format!(
            "CREATE EXTERNAL TABLE csv (id INT, name STRING, note STRING, amount DOUBLE) \
             ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION '{}' \
             TBLPROPERTIES ('skip.header.line.count'='1')",
            data.join("opencsv").display()
        ),
        format!(
            "CREATE EXTERNAL TABLE people (id INT, name STRING, age INT, tags ARRAY<STRING>, props MAP<STRING,INT>, \
             addr STRUCT<city:STRING, zip:INT>) LOCATION '{}'",
            data.join("people").display()
        ),
    ];
    for d in &ddl {
        s.execute(d).await.unwrap();
    }
    // Small splits so that byte ranges travel too.
    s.execute("SET datafusion.optimizer.repartition_file_min_size=1").await.unwrap();
    s.execute("SET datafusion.execution.target_partitions=3").await.unwrap();
    let queries = [
        "SELECT os, count(*) FROM hive.default.cf WHERE dateobject BETWEEN '2014-07-05' AND '2014-08-05' GROUP BY os",
        "SELECT name, count(*), max(healthpoints) FROM hive.default.rydes WHERE distance > 50 GROUP BY name",
        "SELECT level, ts FROM hive.default.ev",
        "SELECT id, note FROM hive.default.csv WHERE amount IS NULL",
        "SELECT name, tags, props, addr FROM hive.default.people WHERE id < 4",
    ];
    let codec = HiveCodec::default();
    for q in queries {
        let plan = s.context().sql(q).await.unwrap().create_physical_plan().await.unwrap();
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        assert!(shown.contains("hive-text") || shown.contains("serde="), "{q}: {shown}");
        let bytes = physical_plan_to_bytes_with_extension_codec(plan.clone(), &codec).unwrap();
        let back = physical_plan_from_bytes_with_extension_codec(&bytes, &s.context().task_ctx(), &codec).unwrap();
        assert_eq!(displayable(back.as_ref()).indent(true).to_string(), shown, "{q}");
        let expected = rows(plan, &s).await;
        assert!(!expected.is_empty(), "{q}");
        assert_eq!(rows(back, &s).await, expected, "{q}");
    }
}
