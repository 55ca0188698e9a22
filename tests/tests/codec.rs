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

/// Two tables bucketed alike: their join runs bucket by bucket over
/// `BucketAlignedExec` inputs, which must reach a worker intact.
async fn bucket_join_session(home: &std::path::Path) -> Session {
    let mut s = Session::open(SessionOptions { home: home.into(), ..Default::default() }).unwrap();
    for t in ["hv_a", "hv_b"] {
        s.execute(&format!(
            "CREATE EXTERNAL TABLE {t} (id INT, name STRING) CLUSTERED BY (id) INTO 4 BUCKETS \
             LOCATION '{}' TBLPROPERTIES ('bucketing_version'='2')",
            data_dir().join("hive_bucketed_v2").display()
        ))
        .await
        .unwrap();
    }
    s
}

const BUCKET_JOIN: &str = "SELECT a.id, b.name FROM hive.default.hv_a a JOIN hive.default.hv_b b ON a.id = b.id";

#[tokio::test]
async fn bucket_aligned_inputs_round_trip_through_the_codec() {
    let home = tempfile::tempdir().unwrap();
    let s = bucket_join_session(home.path()).await;
    let plan = s.context().sql(BUCKET_JOIN).await.unwrap().create_physical_plan().await.unwrap();
    let shown = displayable(plan.as_ref()).indent(true).to_string();
    assert!(shown.contains("BucketAlignedExec: table="), "{shown}");
    let codec = HiveCodec::default();
    let bytes = physical_plan_to_bytes_with_extension_codec(plan.clone(), &codec).unwrap();
    let back = physical_plan_from_bytes_with_extension_codec(&bytes, &s.context().task_ctx(), &codec).unwrap();
    assert_eq!(displayable(back.as_ref()).indent(true).to_string(), shown);
    let expected = rows(plan, &s).await;
    assert_eq!(expected.len(), 45);
    assert_eq!(rows(back, &s).await, expected);
}

#[tokio::test]
async fn write_tasks_round_trip_through_the_codec_and_write_their_files() {
    use hiveql_engine::location::Location;
    use hiveql_engine::serde::TableFormat;
    use hiveql_engine::table::write_task::WriteTaskExec;
    let home = tempfile::tempdir().unwrap();
    let s = bucket_join_session(home.path()).await;
    let plan = s.context().sql("SELECT * FROM hive.default.hv_a").await.unwrap().create_physical_plan().await.unwrap();
    let staging = home.path().join("staging");
    for format in [
        TableFormat::Parquet,
        TableFormat::Text(
            hiveql_engine::serde::TextFormat::from_spec(hiveql_engine::serde::SerdeSpec {
                serde: String::new(),
                serde_properties: Default::default(),
                table_properties: Default::default(),
            })
            .unwrap(),
        ),
    ] {
        let _ = std::fs::remove_dir_all(&staging);
        let write: Arc<dyn ExecutionPlan> = Arc::new(WriteTaskExec::new(
            plan.clone(),
            Location::parse(&staging.display().to_string()).unwrap(),
            format,
        ));
        let codec = HiveCodec::default();
        let bytes = physical_plan_to_bytes_with_extension_codec(write.clone(), &codec).unwrap();
        let back = physical_plan_from_bytes_with_extension_codec(&bytes, &s.context().task_ctx(), &codec).unwrap();
        let shown = displayable(write.as_ref()).indent(true).to_string();
        assert_eq!(displayable(back.as_ref()).indent(true).to_string(), shown);
        let batches = collect(back, s.context().task_ctx()).await.unwrap();
        let written = WriteTaskExec::read_results(&batches).unwrap();
        assert_eq!(written.iter().map(|(.., rows)| rows).sum::<u64>(), 45, "{shown}");
        for (part, file, _) in &written {
            assert!(file.as_ref().ends_with(&format!("{part:06}_0")), "{file}");
        }
    }
}

/// A worker or scheduler decodes what arrives; a damaged plan must be an
/// error, never a crash: every truncation and many byte flips of real plans.
#[tokio::test]
async fn damaged_plans_are_refused_not_crashed_on() {
    let home = tempfile::tempdir().unwrap();
    let s = bucket_join_session(home.path()).await;
    let codec = HiveCodec::default();
    let ctx = s.context().task_ctx();
    for q in [BUCKET_JOIN, "SELECT name, count(*) FROM hive.default.hv_a WHERE id > 3 GROUP BY name"] {
        let plan = s.context().sql(q).await.unwrap().create_physical_plan().await.unwrap();
        let bytes = physical_plan_to_bytes_with_extension_codec(plan, &codec).unwrap();
        let (mut refused, mut decoded) = (0, 0);
        let mut try_decode = |b: &[u8]| {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                physical_plan_from_bytes_with_extension_codec(b, &ctx, &codec).is_ok()
            }));
            match outcome {
                Ok(true) => decoded += 1,
                Ok(false) => refused += 1,
                Err(_) => panic!("decoding {} damaged bytes panicked", b.len()),
            }
        };
        for cut in 0..bytes.len() {
            try_decode(&bytes[..cut]);
        }
        let step = (bytes.len() / 400).max(1);
        for i in (0..bytes.len()).step_by(step) {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut b = bytes.to_vec();
                b[i] ^= flip;
                try_decode(&b);
            }
        }
        assert!(refused > bytes.len() / 2, "{q}: only {refused} of the damaged plans refused ({decoded} decoded)");
    }
}
