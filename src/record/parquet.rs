//! Reading and writing a whole Parquet table of a few plain columns, with errors that name the
//! file and what it is. The run's tables are small and flat (strings, u64, f64), so the
//! `parquet` crate's own file API is all they need; files are ZSTD-compressed, as the polars
//! writer of earlier versions made them, and those files read back the same.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::parser::parse_message_type;

use super::atomic::replace_with;
use super::error::RecordError;

/// One column's values.
pub enum Column {
    Str(Vec<String>),
    U64(Vec<u64>),
    /// Nullable (the eval table's `t`: null for totals).
    OptU64(Vec<Option<u64>>),
    F64(Vec<f64>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Str(v) => v.len(),
            Column::U64(v) => v.len(),
            Column::OptU64(v) => v.len(),
            Column::F64(v) => v.len(),
        }
    }

    /// The column's line of the Parquet schema (u64 as INT64 marked unsigned, as readers expect).
    fn schema_line(&self, name: &str) -> String {
        match self {
            Column::Str(_) => format!("REQUIRED BYTE_ARRAY {name} (STRING);"),
            Column::U64(_) => format!("REQUIRED INT64 {name} (INTEGER(64,false));"),
            Column::OptU64(_) => format!("OPTIONAL INT64 {name} (INTEGER(64,false));"),
            Column::F64(_) => format!("REQUIRED DOUBLE {name};"),
        }
    }
}

/// Replaces `path` with the table of `columns` (all of one length), atomically; `what` names it
/// in errors ("cannot write metrics: …").
pub fn write_table(path: &Path, what: &str, columns: &[(&str, Column)]) -> Result<(), RecordError> {
    let lines: Vec<String> = columns.iter().map(|(n, c)| c.schema_line(n)).collect();
    let schema = parse_message_type(&format!("message table {{ {} }}", lines.join(" ")))
        .expect("the tables' column names and types make a valid schema");
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    replace_with(path, |file| {
        write_file(file, schema, properties, columns).map_err(std::io::Error::other)
    })
    .map_err(|e| RecordError::unwritable(path, format!("cannot write {what}: {e}")))
}

fn write_file(
    file: &mut File,
    schema: parquet::schema::types::Type,
    properties: WriterProperties,
    columns: &[(&str, Column)],
) -> parquet::errors::Result<()> {
    let mut writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(properties))?;
    let rows = columns.first().map_or(0, |(_, c)| c.len());
    if rows == 0 {
        // No row group at all: some readers refuse a row group of 0 rows.
        writer.close()?;
        return Ok(());
    }
    let mut group = writer.next_row_group()?;
    for (_, values) in columns {
        let mut column = group.next_column()?.expect("one writer per schema column");
        write_values(&mut column, values)?;
        column.close()?;
    }
    group.close()?;
    writer.close()?;
    Ok(())
}

fn write_values(
    column: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    values: &Column,
) -> parquet::errors::Result<usize> {
    // u64 travels in INT64's bits; the schema's unsigned mark tells readers to read it back so.
    let as_i64 = |v: &u64| *v as i64;
    match values {
        Column::Str(v) => {
            let bytes: Vec<ByteArray> = v.iter().map(|s| ByteArray::from(s.as_str())).collect();
            column
                .typed::<ByteArrayType>()
                .write_batch(&bytes, None, None)
        }
        Column::U64(v) => {
            let v: Vec<i64> = v.iter().map(as_i64).collect();
            column.typed::<Int64Type>().write_batch(&v, None, None)
        }
        Column::OptU64(v) => {
            let present: Vec<i64> = v.iter().flatten().map(as_i64).collect();
            let defined: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
            column
                .typed::<Int64Type>()
                .write_batch(&present, Some(&defined), None)
        }
        Column::F64(v) => column.typed::<DoubleType>().write_batch(v, None, None),
    }
}

/// A table read back whole: its columns by name (from the file's schema, so an empty table
/// still says which columns it has).
pub struct Table {
    columns: Vec<(String, Vec<Field>)>,
    rows: usize,
    /// For errors: the file and what it is.
    path: std::path::PathBuf,
    what: String,
}

/// The table in `path`; `what` names it in errors ("metrics table").
pub fn read_table(path: &Path, what: &str) -> Result<Table, RecordError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        RecordError::unreadable(path, format!("not a readable {what}: {e}"))
    };
    let file =
        File::open(path).map_err(|e| RecordError::unreadable(path, format!("cannot open: {e}")))?;
    let reader = SerializedFileReader::new(file).map_err(|e| unreadable(&e))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let mut columns: Vec<(String, Vec<Field>)> = schema
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), Vec::new()))
        .collect();
    let mut rows = 0;
    for row in reader.get_row_iter(None).map_err(|e| unreadable(&e))? {
        let row = row.map_err(|e| unreadable(&e))?;
        for ((_, column), (_, field)) in columns.iter_mut().zip(row.into_columns()) {
            column.push(field);
        }
        rows += 1;
    }
    Ok(Table {
        columns,
        rows,
        path: path.to_path_buf(),
        what: what.to_string(),
    })
}

impl Table {
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn strings(&self, name: &str) -> Result<Vec<String>, RecordError> {
        self.values(name, "strings", |f| match f {
            Field::Str(s) => Some(s.clone()),
            _ => None,
        })
    }

    pub fn u64s(&self, name: &str) -> Result<Vec<u64>, RecordError> {
        self.values(name, "unsigned integers", unsigned)
    }

    /// An unsigned column with nulls.
    pub fn opt_u64s(&self, name: &str) -> Result<Vec<Option<u64>>, RecordError> {
        self.values(name, "unsigned integers or nulls", |f| match f {
            Field::Null => Some(None),
            other => unsigned(other).map(Some),
        })
    }

    pub fn f64s(&self, name: &str) -> Result<Vec<f64>, RecordError> {
        self.values(name, "floats", |f| match f {
            Field::Double(v) => Some(*v),
            Field::Float(v) => Some(f64::from(*v)),
            _ => None,
        })
    }

    /// Column `name` converted by `read`, which says `None` for a value of the wrong kind.
    fn values<T>(
        &self,
        name: &str,
        kind: &str,
        read: impl Fn(&Field) -> Option<T>,
    ) -> Result<Vec<T>, RecordError> {
        let refuse = |why: String| {
            RecordError::unreadable(&self.path, format!("not a readable {}: {why}", self.what))
        };
        let (_, fields) = self
            .columns
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| refuse(format!("no column `{name}`")))?;
        fields
            .iter()
            .map(|f| {
                read(f).ok_or_else(|| refuse(format!("column `{name}` holds {f}, not {kind}")))
            })
            .collect()
    }
}

fn unsigned(field: &Field) -> Option<u64> {
    match field {
        Field::ULong(v) => Some(*v),
        Field::Long(v) => u64::try_from(*v).ok(),
        _ => None,
    }
}
