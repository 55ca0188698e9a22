//! SQL cursors: `DECLARE name CURSOR FOR query`, `FETCH [FORWARD] n FROM
//! name`, `MOVE`, `CLOSE name`, as psycopg's server-side cursors and JDBC
//! tools use them. A cursor holds its query's running stream and reads
//! only as many rows as each FETCH asks for, so a result far larger than
//! memory can be walked through.

use std::collections::HashMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;

use crate::route::words;

/// A cursor statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorOp {
    Declare {
        name: String,
        query: String,
    },
    /// `FETCH` (rows returned) or `MOVE` (rows skipped); `None`: all.
    Fetch {
        name: String,
        count: Option<usize>,
        skip: bool,
    },
    Close {
        name: Option<String>,
    },
}

/// Read a cursor statement, if `sql` is one.
pub fn parse(sql: &str) -> Option<CursorOp> {
    let w = words(sql);
    let w: Vec<&str> = w.iter().map(String::as_str).filter(|s| *s != ";").collect();
    match w.first().copied()? {
        "declare" => {
            let name = w.get(1)?.to_string();
            // the query is the text after the first FOR following CURSOR
            let lower = sql.to_ascii_lowercase();
            let cursor = lower.find("cursor")?;
            let rel = find_word(&lower[cursor..], "for")?;
            let query = sql[cursor + rel + 3..].trim().trim_end_matches(';').trim().to_string();
            Some(CursorOp::Declare { name, query })
        }
        first @ ("fetch" | "move") => {
            let skip = first == "move";
            let mut rest = &w[1..];
            let mut count = Some(1);
            match rest.first().copied() {
                Some("next") => rest = &rest[1..],
                Some("all") => {
                    count = None;
                    rest = &rest[1..];
                }
                Some("forward") => {
                    rest = &rest[1..];
                    match rest.first().copied() {
                        Some("all") => {
                            count = None;
                            rest = &rest[1..];
                        }
                        Some(n) if n.parse::<usize>().is_ok() => {
                            count = n.parse().ok();
                            rest = &rest[1..];
                        }
                        _ => {}
                    }
                }
                Some(n) if n.parse::<usize>().is_ok() => {
                    count = n.parse().ok();
                    rest = &rest[1..];
                }
                _ => {}
            }
            if matches!(rest.first(), Some(&"from") | Some(&"in")) {
                rest = &rest[1..];
            }
            Some(CursorOp::Fetch { name: rest.first()?.to_string(), count, skip })
        }
        "close" => {
            let name = w.get(1)?;
            Some(CursorOp::Close { name: (*name != "all").then(|| name.to_string()) })
        }
        _ => None,
    }
}

/// The byte offset of `word` standing alone in `text`.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let before = at == 0 || !b[at - 1].is_ascii_alphanumeric();
        let after = b.get(at + word.len()).is_none_or(|c| !c.is_ascii_alphanumeric());
        if before && after {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// An open cursor.
pub struct Cursor {
    stream: SendableRecordBatchStream,
    /// Rows read from the stream but not fetched yet.
    held: Option<RecordBatch>,
}

impl Cursor {
    pub fn new(stream: SendableRecordBatchStream) -> Cursor {
        Cursor { stream, held: None }
    }

    pub fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        self.stream.schema()
    }

    /// The next `count` rows (all when `None`), as one batch.
    pub async fn fetch(&mut self, count: Option<usize>) -> datafusion::error::Result<RecordBatch> {
        let mut want = count.unwrap_or(usize::MAX);
        let mut got = Vec::new();
        while want > 0 {
            let batch = match self.held.take() {
                Some(b) => b,
                None => match self.stream.next().await {
                    Some(b) => b?,
                    None => break,
                },
            };
            if batch.num_rows() > want {
                got.push(batch.slice(0, want));
                self.held = Some(batch.slice(want, batch.num_rows() - want));
                want = 0;
            } else {
                want -= batch.num_rows();
                got.push(batch);
            }
        }
        Ok(concat_batches(&self.stream.schema(), &got)?)
    }
}

/// A connection's open cursors.
#[derive(Default)]
pub struct Cursors {
    open: HashMap<String, Cursor>,
}

impl Cursors {
    pub fn declare(&mut self, name: String, cursor: Cursor) {
        self.open.insert(name, cursor);
    }

    pub fn get(&mut self, name: &str) -> Option<&mut Cursor> {
        self.open.get_mut(name)
    }

    /// Close one cursor (`Some`) or all; false if the named one is not open.
    pub fn close(&mut self, name: Option<&str>) -> bool {
        match name {
            Some(n) => self.open.remove(n).is_some(),
            None => {
                self.open.clear();
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psycopg_cursor_statements() {
        assert_eq!(
            parse(r#"DECLARE "big" CURSOR FOR SELECT a FROM t WHERE f = 'for'"#),
            Some(CursorOp::Declare { name: "big".into(), query: "SELECT a FROM t WHERE f = 'for'".into() })
        );
        assert_eq!(
            parse("DECLARE c NO SCROLL CURSOR WITHOUT HOLD FOR\nSELECT 1"),
            Some(CursorOp::Declare { name: "c".into(), query: "SELECT 1".into() })
        );
        assert_eq!(
            parse(r#"FETCH FORWARD 5000 FROM "big""#),
            Some(CursorOp::Fetch { name: "big".into(), count: Some(5000), skip: false })
        );
        assert_eq!(parse("FETCH ALL IN c"), Some(CursorOp::Fetch { name: "c".into(), count: None, skip: false }));
        assert_eq!(parse("FETCH NEXT FROM c"), Some(CursorOp::Fetch { name: "c".into(), count: Some(1), skip: false }));
        assert_eq!(parse("MOVE 10 IN c"), Some(CursorOp::Fetch { name: "c".into(), count: Some(10), skip: true }));
        assert_eq!(parse(r#"CLOSE "big""#), Some(CursorOp::Close { name: Some("big".into()) }));
        assert_eq!(parse("CLOSE ALL"), Some(CursorOp::Close { name: None }));
        assert_eq!(parse("SELECT 1"), None);
    }
}
