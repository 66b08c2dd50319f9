//! One's own data: a CSV file of `x,y,label` rows read into the points of
//! [`DataKind::Points`](crate::sim::DataKind::Points).
//!
//! The format: one point a row, `x,y,label`, the label 0 or 1 (written `1` or `1.0`);
//! an optional header row (a first row with no number in it, such as `x,y,label`); blank
//! lines and lines starting with `#` are skipped; spaces around fields are ignored. At most
//! [`limits::POINTS`] points and [`MAX_FILE_BYTES`] bytes, each coordinate within
//! `±`[`limits::COORDINATE`]. A bad row is refused with one line naming the file and the
//! row's line number (the header, when there is one, is line 1), so nothing is ever
//! half-loaded.
//!
//! Reading files lives here rather than in [`crate::sim`], which does no I/O.

use crate::sim::data::Point;
use crate::sim::limits;
use std::path::Path;

/// Largest CSV file accepted, in bytes (10,000 points take about 300 kB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Why a CSV file of points was refused. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum PointsError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{file}: {size} bytes is too large for a points file (at most {MAX_FILE_BYTES})")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size.
        size: u64,
    },
    /// A row is not a point.
    #[error("{file}:{line}: {message}")]
    Row {
        /// The file.
        file: String,
        /// Line of the row, from 1 (the header, if any, is line 1).
        line: u64,
        /// What is wrong with it, and what is allowed.
        message: String,
    },
    /// The file holds no point.
    #[error("{file}: no points (each row is x,y,label with label 0 or 1)")]
    Empty {
        /// The file.
        file: String,
    },
}

/// Reads and parses a CSV file of points.
pub fn load_csv(path: &Path) -> Result<Vec<Point>, PointsError> {
    let file = path.display().to_string();
    let io = |source| PointsError::Io {
        file: file.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(PointsError::TooLarge { file, size });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    parse_csv(&bytes, &file)
}

/// Parses CSV text of points; `file` names it in errors.
pub fn parse_csv(bytes: &[u8], file: &str) -> Result<Vec<Point>, PointsError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes);
    let mut points = Vec::new();
    let mut first = true;
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        let row = |line: u64, message: String| PointsError::Row {
            file: file.to_owned(),
            line,
            message,
        };
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let at = e.position().map_or(line, csv::Position::line);
                return Err(row(at, format!("not CSV: {e}")));
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        let fields: Vec<String> = record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        // A first row without any number is a header.
        if std::mem::take(&mut first) && fields.iter().all(|f| f.parse::<f64>().is_err()) {
            continue;
        }
        if points.len() == *limits::POINTS.end() {
            return Err(row(
                line,
                format!(
                    "more than {} points: allowed at most {}",
                    limits::POINTS.end(),
                    limits::POINTS.end()
                ),
            ));
        }
        points.push(point(&fields).map_err(|m| row(line, m))?);
    }
    if points.is_empty() {
        return Err(PointsError::Empty {
            file: file.to_owned(),
        });
    }
    Ok(points)
}

/// One row as a point, or what is wrong with it.
fn point(fields: &[String]) -> Result<Point, String> {
    const FORMAT: &str = "each row is x,y,label with label 0 or 1";
    let [x, y, label] = fields else {
        return Err(format!(
            "{} fields ({}): {FORMAT}",
            fields.len(),
            fields.join(",")
        ));
    };
    let c = f64::from(limits::COORDINATE);
    let coordinate = |name: &str, text: &str| -> Result<f32, String> {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() <= c => Ok(v as f32),
            Ok(v) => Err(format!(
                "{name} = {v} is out of range: allowed -{c:e} ..= {c:e}"
            )),
            Err(_) => Err(format!("{name} = `{text}` is not a number: {FORMAT}")),
        }
    };
    let (x, y) = (coordinate("x", x)?, coordinate("y", y)?);
    let label = match label.parse::<f64>() {
        Ok(0.0) => 0,
        Ok(1.0) => 1,
        _ => return Err(format!("label = `{label}` is not 0 or 1: {FORMAT}")),
    };
    Ok((x, y, label))
}

/// The points as CSV text with a header, as [`parse_csv`] reads it.
pub fn to_csv(points: &[Point]) -> String {
    let mut out = String::from("x,y,label\n");
    for (x, y, label) in points {
        out.push_str(&format!("{x},{y},{label}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Point>, PointsError> {
        parse_csv(text.as_bytes(), "p.csv")
    }

    #[test]
    fn reads_rows_with_and_without_a_header() {
        let plain = parse("0.5,1,0\n-2,3.25,1\n").expect("valid");
        assert_eq!(plain, vec![(0.5, 1.0, 0), (-2.0, 3.25, 1)]);
        let headed =
            parse("x, y, label\n 0.5 , 1 , 0\n\n# a comment\n-2,3.25,1.0\n").expect("valid");
        assert_eq!(headed, plain);
    }

    #[test]
    fn a_bad_row_names_its_line_counting_the_header() {
        let e = parse("x,y,label\n0,0,0\n1,1,2\n").expect_err("label 2");
        assert_eq!(
            e.to_string(),
            "p.csv:3: label = `2` is not 0 or 1: each row is x,y,label with label 0 or 1"
        );
        let e = parse("0,0,0\n1,abc,1\n").expect_err("not a number");
        assert!(
            e.to_string()
                .starts_with("p.csv:2: y = `abc` is not a number"),
            "{e}"
        );
        let e = parse("x,y,label\n\n0,0,0\n1,1\n").expect_err("two fields");
        assert!(e.to_string().starts_with("p.csv:4: 2 fields"), "{e}");
        let e = parse("0,0,0\n1e9,0,1\n").expect_err("too far");
        assert!(
            e.to_string()
                .starts_with("p.csv:2: x = 1000000000 is out of range"),
            "{e}"
        );
        let e = parse("0,0,0\nNaN,0,1\n").expect_err("NaN");
        assert!(
            e.to_string()
                .starts_with("p.csv:2: x = NaN is out of range"),
            "{e}"
        );
        // A first row with a number in it is data, not a header.
        let e = parse("1,y,0\n").expect_err("bad first row");
        assert!(e.to_string().starts_with("p.csv:1: y = `y`"), "{e}");
    }

    #[test]
    fn empty_files_and_too_many_points_are_refused() {
        assert!(matches!(parse(""), Err(PointsError::Empty { .. })));
        assert!(matches!(
            parse("x,y,label\n"),
            Err(PointsError::Empty { .. })
        ));
        let n = *limits::POINTS.end();
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!("{i},0,{}\n", i % 2));
        }
        assert_eq!(parse(&text).expect("at the cap").len(), n);
        text.push_str("1,1,1\n");
        let e = parse(&text).expect_err("over the cap");
        assert_eq!(
            e.to_string(),
            format!("p.csv:{}: more than {n} points: allowed at most {n}", n + 1)
        );
    }

    #[test]
    fn written_points_read_back() {
        let points = vec![(0.1, -2.5e-3, 0), (1e5, 3.0, 1)];
        assert_eq!(parse(&to_csv(&points)).expect("valid"), points);
    }
}
