//! Hive column types: parsing the type strings the metastore stores
//! (`array<struct<a:int,b:string>>`, `decimal(10,2)`, ...) and printing them
//! back in Hive's canonical lower-case form.

use std::fmt;

use crate::error::{MetastoreError, Result};

/// A Hive column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HiveType {
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    /// `DECIMAL(precision, scale)`; a bare `DECIMAL` is `DECIMAL(10,0)` as in Hive.
    Decimal(u8, i8),
    String,
    Varchar(u32),
    Char(u32),
    Date,
    Timestamp,
    Binary,
    Array(Box<HiveType>),
    Map(Box<HiveType>, Box<HiveType>),
    Struct(Vec<(String, HiveType)>),
}

impl HiveType {
    /// Parse a Hive type string, case-insensitively.
    pub fn parse(text: &str) -> Result<HiveType> {
        let mut p = TypeParser { s: text.as_bytes(), pos: 0, text, depth: 0 };
        let t = p.parse_type()?;
        p.skip_ws();
        if p.pos != p.s.len() {
            return Err(p.err("unexpected text after the type"));
        }
        Ok(t)
    }

    /// True for the primitive (non-nested) types.
    pub fn is_primitive(&self) -> bool {
        !matches!(self, HiveType::Array(_) | HiveType::Map(..) | HiveType::Struct(_))
    }

    /// How many delimiter levels a value of this type uses inside one field of
    /// a delimited text row (0 for primitives).
    pub fn nesting_depth(&self) -> usize {
        match self {
            HiveType::Array(e) => 1 + e.nesting_depth(),
            HiveType::Map(k, v) => 2 + k.nesting_depth().max(v.nesting_depth()),
            HiveType::Struct(fs) => 1 + fs.iter().map(|(_, t)| t.nesting_depth()).max().unwrap_or(0),
            _ => 0,
        }
    }
}

impl fmt::Display for HiveType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HiveType::Boolean => f.write_str("boolean"),
            HiveType::TinyInt => f.write_str("tinyint"),
            HiveType::SmallInt => f.write_str("smallint"),
            HiveType::Int => f.write_str("int"),
            HiveType::BigInt => f.write_str("bigint"),
            HiveType::Float => f.write_str("float"),
            HiveType::Double => f.write_str("double"),
            HiveType::Decimal(p, s) => write!(f, "decimal({p},{s})"),
            HiveType::String => f.write_str("string"),
            HiveType::Varchar(n) => write!(f, "varchar({n})"),
            HiveType::Char(n) => write!(f, "char({n})"),
            HiveType::Date => f.write_str("date"),
            HiveType::Timestamp => f.write_str("timestamp"),
            HiveType::Binary => f.write_str("binary"),
            HiveType::Array(e) => write!(f, "array<{e}>"),
            HiveType::Map(k, v) => write!(f, "map<{k},{v}>"),
            HiveType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, (n, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{n}:{t}")?;
                }
                f.write_str(">")
            }
        }
    }
}

struct TypeParser<'a> {
    s: &'a [u8],
    pos: usize,
    text: &'a str,
    /// ARRAY/MAP/STRUCT levels open around the cursor.
    depth: usize,
}

/// How deep types may nest (Hive's text SerDes have delimiters for 24
/// levels at most, so no usable type comes near this; it keeps a hostile
/// type string from exhausting the stack).
pub const MAX_TYPE_DEPTH: usize = 64;

impl TypeParser<'_> {
    fn err(&self, reason: &str) -> MetastoreError {
        MetastoreError::InvalidType {
            text: self.text.to_string(),
            reason: format!("{reason} at position {}", self.pos),
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn word(&mut self) -> String {
        self.skip_ws();
        let start = self.pos;
        while self.pos < self.s.len() && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_') {
            self.pos += 1;
        }
        self.text[start..self.pos].to_string()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.pos < self.s.len() && self.s[self.pos] == c {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.eat(c) { Ok(()) } else { Err(self.err(&format!("expected '{}'", c as char))) }
    }

    fn number(&mut self) -> Result<u32> {
        let w = self.word();
        w.parse().map_err(|_| self.err("expected a number"))
    }

    fn field_name(&mut self) -> Result<String> {
        self.skip_ws();
        if self.eat(b'`') {
            let start = self.pos;
            while self.pos < self.s.len() && self.s[self.pos] != b'`' {
                self.pos += 1;
            }
            let name = self.text[start..self.pos].to_string();
            self.expect(b'`')?;
            return Ok(name);
        }
        let w = self.word();
        if w.is_empty() { Err(self.err("expected a field name")) } else { Ok(w) }
    }

    fn parse_type(&mut self) -> Result<HiveType> {
        if self.depth >= MAX_TYPE_DEPTH {
            return Err(self.err(&format!("types nest deeper than {MAX_TYPE_DEPTH} levels")));
        }
        self.depth += 1;
        let t = self.parse_type_inner();
        self.depth -= 1;
        t
    }

    fn parse_type_inner(&mut self) -> Result<HiveType> {
        let w = self.word().to_ascii_lowercase();
        Ok(match w.as_str() {
            "boolean" => HiveType::Boolean,
            "tinyint" => HiveType::TinyInt,
            "smallint" => HiveType::SmallInt,
            "int" | "integer" => HiveType::Int,
            "bigint" => HiveType::BigInt,
            "float" | "real" => HiveType::Float,
            "double" => {
                let save = self.pos;
                if !self.word().eq_ignore_ascii_case("precision") {
                    self.pos = save;
                }
                HiveType::Double
            }
            "string" => HiveType::String,
            "date" => HiveType::Date,
            "timestamp" => HiveType::Timestamp,
            "binary" => HiveType::Binary,
            "decimal" | "numeric" => {
                if self.eat(b'(') {
                    let p = self.number()?;
                    let s = if self.eat(b',') { self.number()? } else { 0 };
                    self.expect(b')')?;
                    if !(1..=38).contains(&p) || s > p {
                        return Err(self.err("decimal precision must be 1..38 and scale at most the precision"));
                    }
                    HiveType::Decimal(p as u8, s as i8)
                } else {
                    HiveType::Decimal(10, 0)
                }
            }
            "varchar" | "char" => {
                self.expect(b'(')?;
                let n = self.number()?;
                self.expect(b')')?;
                if w == "varchar" { HiveType::Varchar(n) } else { HiveType::Char(n) }
            }
            "array" => {
                self.expect(b'<')?;
                let e = self.parse_type()?;
                self.expect(b'>')?;
                HiveType::Array(Box::new(e))
            }
            "map" => {
                self.expect(b'<')?;
                let k = self.parse_type()?;
                if !k.is_primitive() {
                    return Err(self.err("map keys must be a primitive type"));
                }
                self.expect(b',')?;
                let v = self.parse_type()?;
                self.expect(b'>')?;
                HiveType::Map(Box::new(k), Box::new(v))
            }
            "struct" => {
                self.expect(b'<')?;
                let mut fields = Vec::new();
                if !self.eat(b'>') {
                    loop {
                        let name = self.field_name()?;
                        self.expect(b':')?;
                        fields.push((name, self.parse_type()?));
                        if self.eat(b'>') {
                            break;
                        }
                        self.expect(b',')?;
                    }
                }
                HiveType::Struct(fields)
            }
            "" => return Err(self.err("expected a type")),
            other => return Err(self.err(&format!("unknown type '{other}'"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_nested_types() {
        for s in [
            "int",
            "decimal(12,2)",
            "array<struct<sku:string,qty:int>>",
            "map<string,array<map<int,double>>>",
            "struct<a:varchar(10),b:char(3),c:timestamp>",
        ] {
            assert_eq!(HiveType::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(HiveType::parse("DECIMAL").unwrap(), HiveType::Decimal(10, 0));
        assert_eq!(HiveType::parse("ARRAY< INT >").unwrap().to_string(), "array<int>");
        assert_eq!(HiveType::parse("double precision").unwrap(), HiveType::Double);
    }

    #[test]
    fn rejects_bad_types() {
        assert!(HiveType::parse("array<int").is_err());
        assert!(HiveType::parse("decimal(40,2)").is_err());
        assert!(HiveType::parse("map<array<int>,int>").is_err());
        let e = HiveType::parse("intt").unwrap_err().to_string();
        assert!(e.contains("unknown type 'intt'"), "{e}");
    }

    #[test]
    fn nesting_depth_counts_delimiter_levels() {
        assert_eq!(HiveType::parse("int").unwrap().nesting_depth(), 0);
        assert_eq!(HiveType::parse("array<int>").unwrap().nesting_depth(), 1);
        assert_eq!(HiveType::parse("map<string,int>").unwrap().nesting_depth(), 2);
        assert_eq!(HiveType::parse("array<map<string,int>>").unwrap().nesting_depth(), 3);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}int{}", "array<".repeat(100_000), ">".repeat(100_000));
        let e = HiveType::parse(&deep).unwrap_err().to_string();
        assert!(e.contains("nest deeper"), "{e}");
        let ok = format!("{}int{}", "array<".repeat(30), ">".repeat(30));
        assert!(HiveType::parse(&ok).is_ok());
    }
}
