//! The embedded metastore: one SQLite file (`$HIVEQL_HOME/metastore.db`).
//!
//! The schema is versioned (`PRAGMA user_version`) and migrated forward on
//! open. The file is in WAL mode with a busy timeout, and every write runs in
//! an `IMMEDIATE` transaction, so several `hiveql` processes can share one
//! home at the same time without losing changes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::error::{MetastoreError, Result};
use crate::filter::PartitionFilter;
use crate::model::{Column, Database, Partition, StorageDescriptor, Table};
use crate::store::Metastore;

/// Schema migrations, applied in order; entry `i` takes the file from
/// version `i` to `i + 1`. Never edit an entry once released: append.
const MIGRATIONS: &[&str] = &[
    // 1: databases, tables, columns, partitions.
    r#"
    CREATE TABLE dbs (
        name        TEXT PRIMARY KEY,
        location    TEXT NOT NULL,
        comment     TEXT,
        owner       TEXT,
        params      TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE tbls (
        db          TEXT NOT NULL REFERENCES dbs(name) ON DELETE CASCADE ON UPDATE CASCADE,
        name        TEXT NOT NULL,
        table_type  TEXT NOT NULL,
        owner       TEXT,
        create_time INTEGER NOT NULL,
        sd          TEXT NOT NULL,
        params      TEXT NOT NULL DEFAULT '{}',
        view_text   TEXT,
        PRIMARY KEY (db, name)
    );
    CREATE TABLE columns (
        db          TEXT NOT NULL,
        tbl         TEXT NOT NULL,
        is_part_key INTEGER NOT NULL,
        idx         INTEGER NOT NULL,
        name        TEXT NOT NULL,
        type        TEXT NOT NULL,
        comment     TEXT,
        PRIMARY KEY (db, tbl, is_part_key, idx),
        FOREIGN KEY (db, tbl) REFERENCES tbls(db, name) ON DELETE CASCADE ON UPDATE CASCADE
    );
    CREATE TABLE partitions (
        db          TEXT NOT NULL,
        tbl         TEXT NOT NULL,
        vals        TEXT NOT NULL,
        create_time INTEGER NOT NULL,
        sd          TEXT NOT NULL,
        params      TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (db, tbl, vals),
        FOREIGN KEY (db, tbl) REFERENCES tbls(db, name) ON DELETE CASCADE ON UPDATE CASCADE
    );
    "#,
    // 2: one row per partition key value, indexed, so a query's partitions
    // are chosen by SQL (Hive's PARTITION_KEY_VALS).
    r#"
    CREATE TABLE partition_key_vals (
        db          TEXT NOT NULL,
        tbl         TEXT NOT NULL,
        vals        TEXT NOT NULL,
        idx         INTEGER NOT NULL,
        value       TEXT,
        PRIMARY KEY (db, tbl, vals, idx),
        FOREIGN KEY (db, tbl, vals) REFERENCES partitions(db, tbl, vals) ON DELETE CASCADE ON UPDATE CASCADE
    );
    CREATE INDEX partition_key_vals_by_value ON partition_key_vals (db, tbl, idx, value);
    INSERT INTO partition_key_vals (db, tbl, vals, idx, value)
        SELECT p.db, p.tbl, p.vals, CAST(j.key AS INTEGER), j.value FROM partitions p, json_each(p.vals) j;
    "#,
];

/// The metastore in a SQLite file.
#[derive(Debug)]
pub struct SqliteMetastore {
    conn: Mutex<Connection>,
}

impl SqliteMetastore {
    /// Open (creating and migrating if needed) the metastore at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// A metastore that lives in memory only (for tests).
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.busy_timeout(Duration::from_secs(30))?;
        // WAL lets readers and one writer work at once across processes.
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
        conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")?;
        Self::migrate(&mut conn)?;
        Ok(SqliteMetastore { conn: Mutex::new(conn) })
    }

    fn migrate(conn: &mut Connection) -> Result<()> {
        let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let latest = MIGRATIONS.len() as i64;
        if current > latest {
            return Err(MetastoreError::TooNew { found: current, supported: latest });
        }
        if current == latest {
            return Ok(());
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn().query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The connection. A panic in another thread while it held the lock
    /// cannot have left a half-done change behind (a `Transaction` rolls
    /// back when it is dropped, unwinding included), so a poisoned lock is
    /// taken over rather than turned into a panic for every later caller.
    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.conn();
        f(&conn)
    }
}

fn lc(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("model values serialize")
}

fn load_table(conn: &Connection, db: &str, name: &str) -> Result<Option<Table>> {
    let row = conn
        .query_row(
            "SELECT name, table_type, owner, create_time, sd, params, view_text FROM tbls WHERE db = ?1 AND name = ?2",
            params![db, name],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((name, ttype, owner, create_time, sd, params, view_text)) = row else { return Ok(None) };
    let mut stmt = conn.prepare_cached(
        "SELECT is_part_key, name, type, comment FROM columns WHERE db = ?1 AND tbl = ?2 ORDER BY is_part_key, idx",
    )?;
    let mut columns = Vec::new();
    let mut partition_keys = Vec::new();
    let rows = stmt.query_map(params![db, name], |r| {
        Ok((r.get::<_, bool>(0)?, Column { name: r.get(1)?, data_type: r.get(2)?, comment: r.get(3)? }))
    })?;
    for row in rows {
        let (is_part, col) = row?;
        if is_part { partition_keys.push(col) } else { columns.push(col) }
    }
    Ok(Some(Table {
        database: db.to_string(),
        name,
        table_type: ttype.parse().map_err(MetastoreError::Corrupt)?,
        owner,
        create_time,
        columns,
        partition_keys,
        storage: serde_json::from_str(&sd)?,
        properties: serde_json::from_str(&params)?,
        view_text,
    }))
}

fn insert_table(tx: &Transaction, t: &Table) -> Result<()> {
    let (db, name) = (lc(&t.database), lc(&t.name));
    if name.is_empty() {
        return Err(MetastoreError::Invalid("table name must not be empty".into()));
    }
    let exists: bool = tx.query_row("SELECT EXISTS(SELECT 1 FROM dbs WHERE name = ?1)", [&db], |r| r.get(0))?;
    if !exists {
        return Err(MetastoreError::NotFound { kind: "database", name: db });
    }
    let taken: bool =
        tx.query_row("SELECT EXISTS(SELECT 1 FROM tbls WHERE db = ?1 AND name = ?2)", [&db, &name], |r| r.get(0))?;
    if taken {
        return Err(MetastoreError::AlreadyExists { kind: "table", name: format!("{db}.{name}") });
    }
    tx.execute(
        "INSERT INTO tbls (db, name, table_type, owner, create_time, sd, params, view_text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![db, name, t.table_type.hive_name(), t.owner, t.create_time, json(&t.storage), json(&t.properties), t.view_text],
    )?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO columns (db, tbl, is_part_key, idx, name, type, comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut seen = std::collections::HashSet::new();
    for (is_part, cols) in [(false, &t.columns), (true, &t.partition_keys)] {
        for (i, c) in cols.iter().enumerate() {
            let cname = lc(&c.name);
            if !seen.insert(cname.clone()) {
                return Err(MetastoreError::Invalid(format!("duplicate column name '{cname}' in table {db}.{name}")));
            }
            stmt.execute(params![db, name, is_part, i as i64, cname, c.data_type, c.comment])?;
        }
    }
    Ok(())
}

fn partition_key(values: &[Option<String>]) -> String {
    json(&values)
}

fn table_must_exist(tx: &Connection, db: &str, table: &str) -> Result<Table> {
    load_table(tx, db, table)?.ok_or_else(|| MetastoreError::NotFound { kind: "table", name: format!("{db}.{table}") })
}

fn describe_values(values: &[Option<String>]) -> String {
    let parts: Vec<&str> = values.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect();
    format!("[{}]", parts.join(", "))
}

/// Insert one partition with its key values; false when it exists.
fn insert_partition(tx: &Transaction, db: &str, t: &Table, p: &Partition) -> Result<bool> {
    if p.values.len() != t.partition_keys.len() {
        return Err(MetastoreError::Invalid(format!(
            "table {db}.{} has {} partition keys, got {} values",
            t.name,
            t.partition_keys.len(),
            p.values.len()
        )));
    }
    let key = partition_key(&p.values);
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO partitions (db, tbl, vals, create_time, sd, params) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    if stmt.execute(params![db, t.name, key, p.create_time, json(&p.storage), json(&p.properties)])? == 0 {
        return Ok(false);
    }
    let mut stmt =
        tx.prepare_cached("INSERT INTO partition_key_vals (db, tbl, vals, idx, value) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for (i, v) in p.values.iter().enumerate() {
        stmt.execute(params![db, t.name, key, i as i64, v])?;
    }
    Ok(true)
}

/// Delete one partition; false when it does not exist.
fn delete_partition(tx: &Transaction, db: &str, table: &str, values: &[Option<String>]) -> Result<bool> {
    let n = tx.execute(
        "DELETE FROM partitions WHERE db = ?1 AND tbl = ?2 AND vals = ?3",
        params![db, table, partition_key(values)],
    )?;
    Ok(n > 0)
}

fn partition_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

/// A `partitions` row as a partition; a record that does not decode is
/// `Corrupt`, naming the table and the partition.
fn decode_partition(row: (String, i64, String, String), db: &str, table: &str) -> Result<Partition> {
    let (vals, create_time, sd, params) = row;
    let corrupt = |what: &str, e: serde_json::Error| {
        MetastoreError::Corrupt(format!("partition {vals} of {db}.{table}: its {what} does not decode: {e}"))
    };
    Ok(Partition {
        values: serde_json::from_str(&vals).map_err(|e| corrupt("values", e))?,
        storage: serde_json::from_str::<StorageDescriptor>(&sd).map_err(|e| corrupt("storage descriptor", e))?,
        create_time,
        properties: serde_json::from_str::<BTreeMap<String, String>>(&params).map_err(|e| corrupt("parameters", e))?,
    })
}

/// Partitions sort by their values, as `SHOW PARTITIONS` lists them.
fn sort_partitions(parts: &mut [Partition]) {
    parts.sort_by(|a, b| a.values.cmp(&b.values));
}

impl Metastore for SqliteMetastore {
    fn create_database(&self, d: &Database) -> Result<()> {
        let name = lc(&d.name);
        self.write(|tx| {
            let n = tx.execute(
                "INSERT OR IGNORE INTO dbs (name, location, comment, owner, params) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, d.location, d.comment, d.owner, json(&d.properties)],
            )?;
            if n == 0 {
                return Err(MetastoreError::AlreadyExists { kind: "database", name: name.clone() });
            }
            Ok(())
        })
    }

    fn get_database(&self, name: &str) -> Result<Option<Database>> {
        self.read(|c| {
            let row = c
                .query_row("SELECT name, location, comment, owner, params FROM dbs WHERE name = ?1", [lc(name)], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })
                .optional()?;
            row.map(|(name, location, comment, owner, params)| {
                Ok(Database { name, location, comment, owner, properties: serde_json::from_str(&params)? })
            })
            .transpose()
        })
    }

    fn list_databases(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT name FROM dbs ORDER BY name")?;
            let names = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
            Ok(names)
        })
    }

    fn drop_database(&self, name: &str, cascade: bool) -> Result<Vec<Table>> {
        let name = lc(name);
        self.write(|tx| {
            let exists: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM dbs WHERE name = ?1)", [&name], |r| r.get(0))?;
            if !exists {
                return Err(MetastoreError::NotFound { kind: "database", name: name.clone() });
            }
            let names: Vec<String> = {
                let mut stmt = tx.prepare_cached("SELECT name FROM tbls WHERE db = ?1 ORDER BY name")?;
                stmt.query_map([&name], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            if !names.is_empty() && !cascade {
                return Err(MetastoreError::DatabaseNotEmpty(name.clone()));
            }
            let mut dropped = Vec::new();
            for t in &names {
                if let Some(t) = load_table(tx, &name, t)? {
                    dropped.push(t);
                }
            }
            tx.execute("DELETE FROM dbs WHERE name = ?1", [&name])?;
            Ok(dropped)
        })
    }

    fn create_table(&self, table: &Table) -> Result<()> {
        self.write(|tx| insert_table(tx, table))
    }

    fn get_table(&self, db: &str, name: &str) -> Result<Option<Table>> {
        self.read(|c| load_table(c, &lc(db), &lc(name)))
    }

    fn list_tables(&self, db: &str) -> Result<Vec<String>> {
        let db = lc(db);
        self.read(|c| {
            let exists: bool = c.query_row("SELECT EXISTS(SELECT 1 FROM dbs WHERE name = ?1)", [&db], |r| r.get(0))?;
            if !exists {
                return Err(MetastoreError::NotFound { kind: "database", name: db.clone() });
            }
            let mut stmt = c.prepare_cached("SELECT name FROM tbls WHERE db = ?1 ORDER BY name")?;
            let names = stmt.query_map([&db], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
            Ok(names)
        })
    }

    fn alter_table(&self, db: &str, name: &str, table: &Table) -> Result<()> {
        let (db, name) = (lc(db), lc(name));
        self.write(|tx| {
            if load_table(tx, &db, &name)?.is_none() {
                return Err(MetastoreError::NotFound { kind: "table", name: format!("{db}.{name}") });
            }
            let (new_db, new_name) = (lc(&table.database), lc(&table.name));
            let renamed = (new_db.as_str(), new_name.as_str()) != (db.as_str(), name.as_str());
            if renamed {
                let taken: bool = tx.query_row(
                    "SELECT EXISTS(SELECT 1 FROM tbls WHERE db = ?1 AND name = ?2)",
                    [&new_db, &new_name],
                    |r| r.get(0),
                )?;
                if taken {
                    return Err(MetastoreError::AlreadyExists { kind: "table", name: format!("{new_db}.{new_name}") });
                }
            }
            // Keep partitions across the change: move them aside, replace the table, put them back.
            let parts: Vec<(String, i64, String, String)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT vals, create_time, sd, params FROM partitions WHERE db = ?1 AND tbl = ?2",
                )?;
                stmt.query_map([&db, &name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<Result<_, _>>()?
            };
            tx.execute("DELETE FROM tbls WHERE db = ?1 AND name = ?2", [&db, &name])?;
            insert_table(tx, table)?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO partitions (db, tbl, vals, create_time, sd, params) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (vals, ct, sd, params) in parts {
                stmt.execute(params![new_db, new_name, vals, ct, sd, params])?;
            }
            tx.execute(
                "INSERT INTO partition_key_vals (db, tbl, vals, idx, value)
                 SELECT p.db, p.tbl, p.vals, CAST(j.key AS INTEGER), j.value FROM partitions p, json_each(p.vals) j
                 WHERE p.db = ?1 AND p.tbl = ?2",
                [&new_db, &new_name],
            )?;
            Ok(())
        })
    }

    fn drop_table(&self, db: &str, name: &str) -> Result<Table> {
        let (db, name) = (lc(db), lc(name));
        self.write(|tx| {
            let Some(t) = load_table(tx, &db, &name)? else {
                return Err(MetastoreError::NotFound { kind: "table", name: format!("{db}.{name}") });
            };
            tx.execute("DELETE FROM tbls WHERE db = ?1 AND name = ?2", [&db, &name])?;
            Ok(t)
        })
    }

    fn add_partitions(&self, db: &str, table: &str, parts: &[Partition], if_not_exists: bool) -> Result<()> {
        self.change_partitions(db, table, parts, if_not_exists, &[], false).map(|_| ())
    }

    fn get_partition(&self, db: &str, table: &str, values: &[Option<String>]) -> Result<Option<Partition>> {
        let (db, table) = (lc(db), lc(table));
        self.read(|c| {
            let row = c
                .query_row(
                    "SELECT vals, create_time, sd, params FROM partitions WHERE db = ?1 AND tbl = ?2 AND vals = ?3",
                    params![db, table, partition_key(values)],
                    partition_from_row,
                )
                .optional()?;
            row.map(|r| decode_partition(r, &db, &table)).transpose()
        })
    }

    fn list_partitions(&self, db: &str, table: &str) -> Result<Vec<Partition>> {
        self.list_partitions_by_filter(db, table, &PartitionFilter::All)
    }

    fn list_partitions_by_filter(&self, db: &str, table: &str, filter: &PartitionFilter) -> Result<Vec<Partition>> {
        let (db, table) = (lc(db), lc(table));
        let mut args: Vec<rusqlite::types::Value> = vec![db.clone().into(), table.clone().into()];
        let cond = filter.to_sql(&mut args);
        let sql = format!(
            "SELECT p.vals, p.create_time, p.sd, p.params FROM partitions p WHERE p.db = ?1 AND p.tbl = ?2 AND ({cond})"
        );
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args), partition_from_row)?;
            let mut parts = Vec::new();
            for row in rows {
                parts.push(decode_partition(row?, &db, &table)?);
            }
            sort_partitions(&mut parts);
            Ok(parts)
        })
    }

    fn list_partition_values(
        &self,
        db: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<Vec<Option<String>>>> {
        let (db, table) = (lc(db), lc(table));
        let mut args: Vec<rusqlite::types::Value> = vec![db.into(), table.into()];
        let cond = filter.to_sql(&mut args);
        let sql = format!("SELECT p.vals FROM partitions p WHERE p.db = ?1 AND p.tbl = ?2 AND ({cond})");
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let mut out = Vec::new();
            for vals in stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0))? {
                out.push(serde_json::from_str::<Vec<Option<String>>>(&vals?)?);
            }
            out.sort();
            Ok(out)
        })
    }

    fn get_partitions(&self, db: &str, table: &str, values: &[Vec<Option<String>>]) -> Result<Vec<Partition>> {
        let (db, table) = (lc(db), lc(table));
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT vals, create_time, sd, params FROM partitions WHERE db = ?1 AND tbl = ?2 AND vals = ?3",
            )?;
            let mut out = Vec::new();
            for v in values {
                if let Some(row) =
                    stmt.query_row(params![db, table, partition_key(v)], partition_from_row).optional()?
                {
                    out.push(decode_partition(row, &db, &table)?);
                }
            }
            Ok(out)
        })
    }

    fn count_partitions(&self, db: &str, table: &str) -> Result<usize> {
        let (db, table) = (lc(db), lc(table));
        self.read(|c| {
            let n: i64 =
                c.query_row("SELECT count(*) FROM partitions WHERE db = ?1 AND tbl = ?2", [&db, &table], |r| r.get(0))?;
            Ok(n as usize)
        })
    }

    fn drop_partitions(
        &self,
        db: &str,
        table: &str,
        values: &[Vec<Option<String>>],
        if_exists: bool,
    ) -> Result<Vec<Partition>> {
        self.change_partitions(db, table, &[], false, values, if_exists)
    }

    fn alter_partition(&self, db: &str, table: &str, values: &[Option<String>], new: &Partition) -> Result<()> {
        let (db, table) = (lc(db), lc(table));
        self.write(|tx| {
            let t = table_must_exist(tx, &db, &table)?;
            if !delete_partition(tx, &db, &table, values)? {
                return Err(MetastoreError::NotFound {
                    kind: "partition",
                    name: format!("{db}.{table} {}", describe_values(values)),
                });
            }
            if !insert_partition(tx, &db, &t, new)? {
                return Err(MetastoreError::AlreadyExists {
                    kind: "partition",
                    name: format!("{db}.{table} {}", describe_values(&new.values)),
                });
            }
            Ok(())
        })
    }

    fn change_partitions(
        &self,
        db: &str,
        table: &str,
        add: &[Partition],
        if_not_exists: bool,
        drop: &[Vec<Option<String>>],
        if_exists: bool,
    ) -> Result<Vec<Partition>> {
        let (db, table) = (lc(db), lc(table));
        self.write(|tx| {
            let t = table_must_exist(tx, &db, &table)?;
            let mut dropped = Vec::new();
            for v in drop {
                let old = tx
                    .query_row(
                        "SELECT vals, create_time, sd, params FROM partitions WHERE db = ?1 AND tbl = ?2 AND vals = ?3",
                        params![db, table, partition_key(v)],
                        partition_from_row,
                    )
                    .optional()?;
                match old {
                    Some(row) => {
                        delete_partition(tx, &db, &table, v)?;
                        dropped.push(decode_partition(row, &db, &table)?);
                    }
                    None if if_exists => {}
                    None => {
                        return Err(MetastoreError::NotFound {
                            kind: "partition",
                            name: format!("{db}.{table} {}", describe_values(v)),
                        });
                    }
                }
            }
            for p in add {
                if !insert_partition(tx, &db, &t, p)? && !if_not_exists {
                    return Err(MetastoreError::AlreadyExists {
                        kind: "partition",
                        name: format!("{db}.{table} {}", describe_values(&p.values)),
                    });
                }
            }
            Ok(dropped)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TableType;

    fn db(name: &str) -> Database {
        Database {
            name: name.into(),
            location: format!("/wh/{name}.db"),
            comment: None,
            owner: None,
            properties: BTreeMap::new(),
        }
    }

    fn table(db: &str, name: &str) -> Table {
        Table {
            database: db.into(),
            name: name.into(),
            table_type: TableType::Managed,
            owner: None,
            create_time: 0,
            columns: vec![Column::new("a", "int"), Column::new("b", "array<string>")],
            partition_keys: vec![Column::new("dt", "string")],
            storage: StorageDescriptor::text("/wh/t"),
            properties: BTreeMap::from([("comment".to_string(), "c".to_string())]),
            view_text: None,
        }
    }

    #[test]
    fn databases_and_tables_round_trip() {
        let m = SqliteMetastore::in_memory().unwrap();
        m.create_database(&db("default")).unwrap();
        assert!(matches!(m.create_database(&db("DEFAULT")), Err(MetastoreError::AlreadyExists { .. })));
        m.create_table(&table("default", "T1")).unwrap();
        let t = m.get_table("Default", "t1").unwrap().unwrap();
        assert_eq!(t.name, "t1");
        assert_eq!(t.columns[1].data_type, "array<string>");
        assert_eq!(t.partition_keys[0].name, "dt");
        assert_eq!(t.comment(), Some("c"));
        assert_eq!(m.list_tables("default").unwrap(), vec!["t1"]);
        assert!(matches!(m.create_table(&table("default", "t1")), Err(MetastoreError::AlreadyExists { .. })));
        assert!(matches!(m.create_table(&table("nodb", "t1")), Err(MetastoreError::NotFound { .. })));
    }

    #[test]
    fn rename_keeps_partitions_and_drop_database_needs_cascade() {
        let m = SqliteMetastore::in_memory().unwrap();
        m.create_database(&db("d")).unwrap();
        m.create_table(&table("d", "t")).unwrap();
        let p = Partition {
            values: vec![Some("2024".into())],
            storage: StorageDescriptor::text("/x"),
            create_time: 1,
            properties: BTreeMap::new(),
        };
        m.add_partitions("d", "t", std::slice::from_ref(&p), false).unwrap();
        assert!(m.add_partitions("d", "t", std::slice::from_ref(&p), false).is_err());
        m.add_partitions("d", "t", std::slice::from_ref(&p), true).unwrap();
        let mut t = m.get_table("d", "t").unwrap().unwrap();
        t.name = "u".into();
        m.alter_table("d", "t", &t).unwrap();
        assert!(m.get_table("d", "t").unwrap().is_none());
        assert_eq!(m.list_partitions("d", "u").unwrap(), vec![p]);
        assert!(matches!(m.drop_database("d", false), Err(MetastoreError::DatabaseNotEmpty(_))));
        let dropped = m.drop_database("d", true).unwrap();
        assert_eq!(dropped.len(), 1);
        assert!(m.get_database("d").unwrap().is_none());
    }

    #[test]
    fn failed_write_changes_nothing() {
        let m = SqliteMetastore::in_memory().unwrap();
        m.create_database(&db("d")).unwrap();
        let mut t = table("d", "t");
        t.columns.push(Column::new("A", "int"));
        assert!(matches!(m.create_table(&t), Err(MetastoreError::Invalid(_))));
        assert!(m.get_table("d", "t").unwrap().is_none());
    }

    #[test]
    fn two_connections_share_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metastore.db");
        let a = SqliteMetastore::open(&path).unwrap();
        let b = SqliteMetastore::open(&path).unwrap();
        assert_eq!(a.schema_version().unwrap(), MIGRATIONS.len() as i64);
        a.create_database(&db("d")).unwrap();
        b.create_table(&table("d", "t")).unwrap();
        assert!(a.get_table("d", "t").unwrap().is_some());
    }

    /// A panic inside a metastore call (another thread's) neither poisons
    /// later calls nor leaves its half-done change behind.
    #[test]
    fn a_panic_while_holding_the_connection_does_not_reach_later_callers() {
        let m = std::sync::Arc::new(SqliteMetastore::in_memory().unwrap());
        let m2 = m.clone();
        let joined = std::thread::spawn(move || {
            m2.write(|tx| -> Result<()> {
                tx.execute("INSERT INTO dbs (name, location) VALUES ('half', '/tmp/half')", []).unwrap();
                panic!("boom");
            })
        })
        .join();
        assert!(joined.is_err());
        m.create_database(&db("after")).unwrap();
        assert!(m.get_database("half").unwrap().is_none(), "the panicked change was rolled back");
        assert!(m.get_database("after").unwrap().is_some());
    }

    fn part(values: &[Option<&str>]) -> Partition {
        Partition {
            values: values.iter().map(|v| v.map(str::to_string)).collect(),
            storage: StorageDescriptor::text(format!("/wh/t/{values:?}")),
            create_time: 0,
            properties: BTreeMap::new(),
        }
    }

    fn two_key_table(m: &SqliteMetastore) {
        m.create_database(&db("d")).unwrap();
        let mut t = table("d", "t");
        t.partition_keys = vec![Column::new("dt", "string"), Column::new("h", "int")];
        m.create_table(&t).unwrap();
        let mut parts = Vec::new();
        for d in ["2024-01-01", "2024-01-02", "2024-02-01"] {
            for h in ["1", "2", "10"] {
                parts.push(part(&[Some(d), Some(h)]));
            }
        }
        parts.push(part(&[None, Some("3")]));
        m.add_partitions("d", "t", &parts, false).unwrap();
    }

    fn selected(m: &SqliteMetastore, f: PartitionFilter) -> Vec<Vec<Option<String>>> {
        m.list_partitions_by_filter("d", "t", &f).unwrap().into_iter().map(|p| p.values).collect()
    }

    #[test]
    fn filters_select_partitions_in_sql() {
        use crate::filter::{CompareOp::*, FilterValue::*};
        let m = SqliteMetastore::in_memory().unwrap();
        two_key_table(&m);
        assert_eq!(m.count_partitions("d", "t").unwrap(), 10);
        let eq = |key, op, value| PartitionFilter::Compare { key, op, value };
        // h compares as a number: 10 > 2.
        let got = selected(&m, PartitionFilter::And(vec![eq(0, Eq, Text("2024-01-01".into())), eq(1, Gt, Int(2))]));
        assert_eq!(got, vec![vec![Some("2024-01-01".to_string()), Some("10".to_string())]]);
        let got = selected(&m, PartitionFilter::In { key: 1, values: vec![Int(1), Int(3)] });
        assert_eq!(got.len(), 4);
        let got = selected(&m, PartitionFilter::IsNull { key: 0 });
        assert_eq!(got, vec![vec![None, Some("3".to_string())]]);
        let got = selected(&m, PartitionFilter::Like { key: 0, pattern: "2024-01%".into() });
        assert_eq!(got.len(), 6);
        // NOT (dt = x) keeps the NULL partition (a superset is allowed), never loses one.
        let got = selected(&m, PartitionFilter::Not(Box::new(eq(0, Eq, Text("2024-01-01".into())))));
        assert_eq!(got.len(), 7);
        // NOT of what the store cannot judge exactly selects everything.
        let got = selected(&m, PartitionFilter::Not(Box::new(PartitionFilter::Like { key: 0, pattern: "x".into() })));
        assert_eq!(got.len(), 10);
        let got = selected(
            &m,
            PartitionFilter::Or(vec![eq(0, Eq, Text("2024-02-01".into())), eq(0, Lt, Text("2024-01-02".into()))]),
        );
        assert_eq!(got.len(), 6);
        assert_eq!(m.list_partition_values("d", "t", &PartitionFilter::All).unwrap().len(), 10);
        let both = m.list_partition_values("d", "t", &PartitionFilter::IsNull { key: 0 }).unwrap();
        assert_eq!(m.get_partitions("d", "t", &both).unwrap().len(), 1);
    }

    #[test]
    fn partition_changes_are_all_or_nothing() {
        let m = SqliteMetastore::in_memory().unwrap();
        two_key_table(&m);
        let gone = vec![Some("2024-01-01".to_string()), Some("1".to_string())];
        let missing = vec![Some("1999-01-01".to_string()), Some("1".to_string())];
        let e = m.drop_partitions("d", "t", &[gone.clone(), missing.clone()], false).unwrap_err();
        assert!(matches!(e, MetastoreError::NotFound { kind: "partition", .. }), "{e}");
        assert_eq!(m.count_partitions("d", "t").unwrap(), 10);
        let dropped = m.drop_partitions("d", "t", &[gone.clone(), missing], true).unwrap();
        assert_eq!(dropped.len(), 1);
        assert!(m.get_partition("d", "t", &gone).unwrap().is_none());
        // A rename onto an existing partition changes nothing.
        let from = vec![Some("2024-01-01".to_string()), Some("2".to_string())];
        let mut onto = m.get_partition("d", "t", &from).unwrap().unwrap();
        onto.values = vec![Some("2024-02-01".to_string()), Some("2".to_string())];
        assert!(m.alter_partition("d", "t", &from, &onto).is_err());
        assert!(m.get_partition("d", "t", &from).unwrap().is_some());
        onto.values = gone.clone();
        m.alter_partition("d", "t", &from, &onto).unwrap();
        let f = PartitionFilter::Compare { key: 1, op: crate::CompareOp::Eq, value: crate::FilterValue::Int(1) };
        assert_eq!(selected(&m, f).len(), 3, "the renamed partition's key values moved with it");
    }

    #[test]
    fn key_values_survive_a_table_rename() {
        let m = SqliteMetastore::in_memory().unwrap();
        two_key_table(&m);
        let mut t = m.get_table("d", "t").unwrap().unwrap();
        t.name = "u".into();
        m.alter_table("d", "t", &t).unwrap();
        let f = PartitionFilter::IsNull { key: 0 };
        assert_eq!(m.list_partitions_by_filter("d", "u", &f).unwrap().len(), 1);
    }

    /// A metastore file of schema version 1 gets its partitions' key values
    /// indexed when a newer hiveql opens it.
    #[test]
    fn version_1_files_are_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metastore.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch("PRAGMA user_version = 1").unwrap();
            conn.execute_batch(
                r#"INSERT INTO dbs (name, location) VALUES ('d', '/wh');
                   INSERT INTO tbls (db, name, table_type, create_time, sd) VALUES ('d', 't', 'MANAGED_TABLE', 0, '{"location":"/wh/t","input_format":"","output_format":"","serde":{"serialization_lib":"","parameters":{}},"bucket_columns":[],"num_buckets":0,"sort_columns":[]}');
                   INSERT INTO columns VALUES ('d', 't', 1, 0, 'dt', 'string', NULL);
                   INSERT INTO partitions (db, tbl, vals, create_time, sd) VALUES ('d', 't', '["a"]', 0, '{"location":"/wh/t/dt=a","input_format":"","output_format":"","serde":{"serialization_lib":"","parameters":{}},"bucket_columns":[],"num_buckets":0,"sort_columns":[]}');
                   INSERT INTO partitions (db, tbl, vals, create_time, sd) VALUES ('d', 't', '[null]', 0, '{"location":"/wh/t/dt=b","input_format":"","output_format":"","serde":{"serialization_lib":"","parameters":{}},"bucket_columns":[],"num_buckets":0,"sort_columns":[]}');"#,
            )
            .unwrap();
        }
        let m = SqliteMetastore::open(&path).unwrap();
        assert_eq!(m.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let f =
            PartitionFilter::Compare { key: 0, op: crate::CompareOp::Eq, value: crate::FilterValue::Text("a".into()) };
        assert_eq!(m.list_partitions_by_filter("d", "t", &f).unwrap().len(), 1);
        assert_eq!(m.list_partitions_by_filter("d", "t", &PartitionFilter::IsNull { key: 0 }).unwrap().len(), 1);
    }

    /// A partition record altered by hand is an error naming it, and the
    /// other partitions stay readable one by one.
    #[test]
    fn a_corrupt_partition_record_is_named() {
        let m = SqliteMetastore::in_memory().unwrap();
        two_key_table(&m);
        m.conn().execute("UPDATE partitions SET sd = '{broken' WHERE vals = '[\"2024-01-01\",\"1\"]'", []).unwrap();
        let e = m.list_partitions("d", "t").unwrap_err().to_string();
        assert!(e.contains("partition [\"2024-01-01\",\"1\"] of d.t: its storage descriptor does not decode"), "{e}");
        let ok = vec![Some("2024-01-02".to_string()), Some("1".to_string())];
        assert!(m.get_partition("d", "t", &ok).unwrap().is_some());
    }
}
