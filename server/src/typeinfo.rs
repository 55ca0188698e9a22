//! asyncpg's type introspection. For a result column whose type it has no
//! codec of its own for (every array type: `int4[]`, `text[]`, ...), asyncpg
//! prepares one fixed query: a recursive CTE over `pg_type`, `pg_range`
//! and `pg_attribute` with correlated subqueries (`typeinfo_tree`), bound
//! to the type oids it needs, and reads the type, its element type and
//! their names. DataFusion does not plan that query, so it is answered
//! here from the built-in types, which are all hiveql's results use: the
//! same rows PostgreSQL returns for them, in the column types asyncpg
//! decodes (`"char"` kinds, `oid` columns).

use std::sync::Arc;

use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;
use postgres_types::Kind;

/// Whether `words` (see [`crate::route::words`]) are asyncpg's introspection query.
pub fn is_introspection(words: &[&str]) -> bool {
    words.contains(&"typeinfo_tree") && words.contains(&"pg_type")
}

/// The query's columns, in its order.
const COLUMNS: &[(&str, Type)] = &[
    ("oid", Type::OID),
    ("ns", Type::NAME),
    ("name", Type::NAME),
    ("kind", Type::CHAR),
    ("basetype", Type::OID),
    ("elemtype", Type::OID),
    ("elemdelim", Type::CHAR),
    ("range_subtype", Type::OID),
    ("attrtypoids", Type::OID_ARRAY),
    ("attrnames", Type::TEXT_ARRAY),
    ("depth", Type::INT4),
    ("basetype_name", Type::TEXT),
    ("elemtype_name", Type::TEXT),
    ("range_subtype_name", Type::TEXT),
];

/// The RowDescription of the query's result in `format`.
pub fn fields(format: &Format) -> Vec<FieldInfo> {
    COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| FieldInfo::new(name.to_string(), None, None, ty.clone(), format.format_for(i)))
        .collect()
}

/// A type's name as `oid::regtype::text` writes it (SQL's names for the
/// standard types, `pg_type`'s for the rest).
fn regtype_name(ty: &Type) -> String {
    if let Kind::Array(elem) = ty.kind() {
        return format!("{}[]", regtype_name(elem));
    }
    match *ty {
        Type::INT2 => "smallint",
        Type::INT4 => "integer",
        Type::INT8 => "bigint",
        Type::FLOAT4 => "real",
        Type::FLOAT8 => "double precision",
        Type::BOOL => "boolean",
        Type::VARCHAR => "character varying",
        Type::BPCHAR => "character",
        Type::CHAR => "\"char\"",
        Type::TIMESTAMP => "timestamp without time zone",
        Type::TIMESTAMPTZ => "timestamp with time zone",
        Type::TIME => "time without time zone",
        _ => return ty.name().to_string(),
    }
    .to_string()
}

/// One row of the tree: `ty` at `depth`.
struct Node {
    ty: Type,
    depth: i32,
}

/// The rows PostgreSQL answers for `oids`: each type, then (one level
/// deeper) the element type of each array among them; deepest first.
fn tree(oids: &[u32]) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut level: Vec<Type> = oids.iter().filter_map(|o| Type::from_oid(*o)).collect();
    let mut depth = 0;
    while !level.is_empty() {
        let mut next = Vec::new();
        for ty in level {
            if let Kind::Array(elem) = ty.kind() {
                next.push(elem.clone());
            }
            if !nodes.iter().any(|n| n.ty == ty && n.depth == depth) {
                nodes.push(Node { ty, depth });
            }
        }
        level = next;
        depth += 1;
    }
    nodes.sort_by_key(|n| std::cmp::Reverse(n.depth));
    nodes
}

/// A `"char"` value: its byte in binary, the character in text.
fn encode_char(enc: &mut DataRowEncoder, c: Option<char>, format: FieldFormat) -> PgWireResult<()> {
    match format {
        FieldFormat::Binary => {
            enc.encode_field_with_type_and_format(&c.map(|c| c as u8 as i8), &Type::CHAR, format, &Default::default())
        }
        FieldFormat::Text => {
            enc.encode_field_with_type_and_format(&c.map(|c| c.to_string()), &Type::CHAR, format, &Default::default())
        }
    }
}

/// The query's rows for `oids` (the bound `$1`).
pub fn rows(oids: &[u32], format: &Format) -> PgWireResult<Vec<DataRow>> {
    let fields = Arc::new(fields(format));
    let none_oid: Option<u32> = None;
    let none_text: Option<String> = None;
    let mut out = Vec::new();
    for node in tree(oids) {
        let ty = &node.ty;
        let elem = match ty.kind() {
            Kind::Array(e) => Some(e.clone()),
            _ => None,
        };
        let kind = match ty.kind() {
            Kind::Pseudo => 'p',
            Kind::Enum(_) => 'e',
            Kind::Range(_) => 'r',
            Kind::Domain(_) => 'd',
            Kind::Composite(_) => 'c',
            _ => 'b',
        };
        let format_of = |i: usize| fields[i].format();
        let mut enc = DataRowEncoder::new(fields.clone());
        enc.encode_field(&ty.oid())?;
        enc.encode_field(&ty.schema())?;
        enc.encode_field(&ty.name())?;
        encode_char(&mut enc, Some(kind), format_of(3))?;
        enc.encode_field(&none_oid)?;
        // pg_type.typelem: 0 for a type that is not an array
        enc.encode_field(&elem.as_ref().map_or(0, Type::oid))?;
        encode_char(&mut enc, elem.as_ref().map(|_| ','), format_of(6))?;
        enc.encode_field(&none_oid)?;
        enc.encode_field(&None::<Vec<u32>>)?;
        enc.encode_field(&None::<Vec<String>>)?;
        enc.encode_field(&node.depth)?;
        enc.encode_field(&none_text)?;
        // 0::regtype::text is "-"
        enc.encode_field(&Some(elem.as_ref().map_or_else(|| "-".to_string(), regtype_name)))?;
        enc.encode_field(&none_text)?;
        out.push(enc.take_row());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_brings_its_element_first() {
        let nodes = tree(&[Type::INT4_ARRAY.oid(), Type::TEXT_ARRAY.oid(), 999_999]);
        let got: Vec<(String, i32)> = nodes.iter().map(|n| (n.ty.name().to_string(), n.depth)).collect();
        assert_eq!(got, [("int4".into(), 1), ("text".into(), 1), ("_int4".into(), 0), ("_text".into(), 0)]);
        assert_eq!(regtype_name(&Type::TIMESTAMP_ARRAY), "timestamp without time zone[]");
        assert_eq!(rows(&[Type::FLOAT8_ARRAY.oid()], &Format::UnifiedBinary).unwrap().len(), 2);
    }

    #[test]
    fn the_query_is_known_by_its_words() {
        let q =
            "WITH RECURSIVE typeinfo_tree(oid) AS (SELECT t.oid FROM pg_catalog.pg_type t) SELECT * FROM typeinfo_tree";
        let w = crate::route::words(q);
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        assert!(is_introspection(&w));
        assert!(!is_introspection(&["select", "typname", "from", "pg_type"]));
    }
}
