//! Test data files (`data:`): CSV with a header row, or a JSON array of objects, read
//! once at compile time into rows of JSON values that templates read as `NAME.column`.

use std::path::Path;

/// A data file's columns, and its rows of values in column order.
pub type Table = (Vec<String>, Vec<Vec<serde_json::Value>>);

/// Why a data file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A CSV file that cannot be opened or parsed.
    #[error("{0}")]
    Csv(#[from] csv::Error),
    /// A JSON file that cannot be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A JSON file that does not parse.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// A JSON file that is not an array of objects.
    #[error("expected a JSON array of objects")]
    NotArrayOfObjects,
}

/// Columns and rows of a data file. CSV cells are strings; JSON keeps its types.
pub fn load_table(path: &Path) -> Result<Table, DataError> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        load_json(path)
    } else {
        load_csv(path)
    }
}

fn load_csv(path: &Path) -> Result<Table, DataError> {
    let mut reader = csv::Reader::from_path(path)?;
    let columns: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(record.iter().map(|c| c.to_string().into()).collect());
    }
    Ok((columns, rows))
}

fn load_json(path: &Path) -> Result<Table, DataError> {
    let text = std::fs::read_to_string(path)?;
    let value: serde_json::Value = serde_json::from_str(&text)?;
    let serde_json::Value::Array(items) = value else {
        return Err(DataError::NotArrayOfObjects);
    };
    let mut columns: Vec<String> = Vec::new();
    for item in &items {
        let serde_json::Value::Object(map) = item else {
            return Err(DataError::NotArrayOfObjects);
        };
        for key in map.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let rows = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| item.get(c).cloned().unwrap_or(serde_json::Value::Null))
                .collect()
        })
        .collect();
    Ok((columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csv_and_json_tables() {
        let dir = std::env::temp_dir().join(format!("barrage-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("users.csv");
        std::fs::write(&csv, "username,password\nalice,a1\nbob,b2\n").unwrap();
        let (cols, rows) = load_table(&csv).unwrap();
        assert_eq!(cols, ["username", "password"]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][0], "bob");
        let json = dir.join("users.json");
        std::fs::write(&json, r#"[{"id": 1, "name": "a"}, {"id": 2}]"#).unwrap();
        let (cols, rows) = load_table(&json).unwrap();
        assert_eq!(cols, ["id", "name"]);
        assert_eq!(rows[1], vec![serde_json::json!(2), serde_json::Value::Null]);
        std::fs::write(&json, r#"{"id": 1}"#).unwrap();
        assert!(load_table(&json).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
