//! Holder records as files: one holder in TOML, many in CSV, each field placed at its
//! file, line and column.

use super::*;

/// A TOML holder record: one holder, each field a string (or a number: `region = 320100`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HolderToml {
    name: Option<Spanned<Value>>,
    citizen_id: Option<Spanned<Value>>,
    region: Option<Spanned<Value>>,
    issue_date: Option<Spanned<Value>>,
    expiry_date: Option<Spanned<Value>>,
    sex: Option<Spanned<Value>>,
    birth_date: Option<Spanned<Value>>,
    nation: Option<Spanned<Value>>,
    serial: Option<Spanned<Value>>,
    card_number: Option<Spanned<Value>>,
}

/// The holders of a file: TOML (one holder) or CSV (a header naming the columns, then one
/// holder a line). A `.csv` name is CSV, a `.toml` name TOML; any other is CSV when its first
/// line has a comma and no `=`.
///
/// # Errors
/// [`PersonaliseError`] naming the file, line and column.
pub fn read_holders(path: &Path) -> Result<Vec<Holder>, PersonaliseError> {
    let source = path.display().to_string();
    let text = read_text(path, MAX_PROFILE_BYTES * 16).map_err(|e| PersonaliseError {
        source_name: source.clone(),
        line: 0,
        column: 0,
        message: e.problem.to_string(),
    })?;
    let csv = match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => true,
        Some(e) if e.eq_ignore_ascii_case("toml") => false,
        _ => text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .is_some_and(|l| l.contains(',') && !l.contains('=')),
    };
    if csv {
        parse_csv(&text, &source)
    } else {
        parse_toml(&text, &source).map(|h| vec![h])
    }
}

/// One holder from TOML text.
///
/// # Errors
/// [`PersonaliseError`] at the offending entry.
pub fn parse_toml(text: &str, source: &str) -> Result<Holder, PersonaliseError> {
    let place = |offset: usize| {
        let (line, column) = line_col(text, offset);
        Pos { line, column }
    };
    let fail = |offset: usize, message: String| {
        let p = place(offset);
        PersonaliseError {
            source_name: source.to_owned(),
            line: p.line,
            column: p.column,
            message,
        }
    };
    let raw: HolderToml = toml::from_str(text).map_err(|e| {
        fail(
            e.span().map_or(0, |s| s.start),
            e.message().trim().to_owned(),
        )
    })?;
    let given = [
        ("name", raw.name),
        ("citizen_id", raw.citizen_id),
        ("region", raw.region),
        ("issue_date", raw.issue_date),
        ("expiry_date", raw.expiry_date),
        ("sex", raw.sex),
        ("birth_date", raw.birth_date),
        ("nation", raw.nation),
        ("serial", raw.serial),
        ("card_number", raw.card_number),
    ];
    let mut fields = HashMap::new();
    for (field, value) in given {
        let Some(value) = value else { continue };
        let span = value.span();
        let text = match value.into_inner() {
            Value::String(s) => s,
            Value::Integer(i) => i.to_string(),
            other => {
                return Err(fail(
                    span.start,
                    format!(
                        "{field}: expected text or a number, found a {}",
                        other.type_str()
                    ),
                ));
            }
        };
        fields.insert(field, (text, place(span.start)));
    }
    Ok(Holder {
        source: source.to_owned(),
        at: Pos { line: 1, column: 1 },
        fields,
    })
}

/// Holders from CSV text: a header naming the columns (the names of [`FIELDS`], any order,
/// the required ones present), then one holder a line; `#` lines and blank lines are
/// skipped; a field may be quoted (`"…"`, `""` for a quote) and spaces around it are
/// dropped.
///
/// # Errors
/// [`PersonaliseError`] at the line and column of the problem.
pub fn parse_csv(text: &str, source: &str) -> Result<Vec<Holder>, PersonaliseError> {
    let fail = |line: usize, column: usize, message: String| PersonaliseError {
        source_name: source.to_owned(),
        line,
        column,
        message,
    };
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (header_line, header) = lines.next().ok_or_else(|| {
        fail(
            0,
            0,
            "no header line (name,citizen_id,region,issue_date,…)".into(),
        )
    })?;
    let mut columns: Vec<&'static str> = Vec::new();
    for (name, column) in split_csv(header).map_err(|(c, m)| fail(header_line, c, m))? {
        let known = FIELDS
            .iter()
            .find(|f| f.eq_ignore_ascii_case(&name))
            .ok_or_else(|| {
                fail(
                    header_line,
                    column,
                    format!("unknown column {name:?} (columns: {})", FIELDS.join(", ")),
                )
            })?;
        if columns.contains(known) {
            return Err(fail(header_line, column, format!("column {known} twice")));
        }
        columns.push(known);
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !columns.contains(r)) {
        return Err(fail(
            header_line,
            1,
            format!("no column {missing} (required: {})", REQUIRED.join(", ")),
        ));
    }
    let mut holders = Vec::new();
    for (line, row) in lines {
        if holders.len() == MAX_HOLDERS {
            return Err(fail(line, 1, format!("more than {MAX_HOLDERS} holders")));
        }
        let cells = split_csv(row).map_err(|(c, m)| fail(line, c, m))?;
        if cells.len() != columns.len() {
            return Err(fail(
                line,
                1,
                format!("{} fields, the header names {}", cells.len(), columns.len()),
            ));
        }
        let fields = columns
            .iter()
            .zip(cells)
            .map(|(field, (value, column))| (*field, (value, Pos { line, column })))
            .collect();
        holders.push(Holder {
            source: source.to_owned(),
            at: Pos { line, column: 1 },
            fields,
        });
    }
    Ok(holders)
}

/// The fields of a CSV line, each trimmed, with the 1-based column (in characters) it
/// starts at.
pub(super) fn split_csv(line: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let mut out = Vec::new();
    // Counted once: a default evaluated for every field made a line of commas quadratic.
    let end = line.chars().count();
    let mut chars = line.chars().enumerate().peekable();
    loop {
        while chars.next_if(|(_, c)| *c == ' ' || *c == '\t').is_some() {}
        let start = chars.peek().map_or(end, |(i, _)| *i) + 1;
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '"').is_some() {
            loop {
                match chars.next() {
                    None => return Err((start, "a quoted field is not closed".into())),
                    Some((_, '"')) if chars.next_if(|(_, c)| *c == '"').is_some() => {
                        value.push('"');
                    }
                    Some((_, '"')) => break,
                    Some((_, c)) => value.push(c),
                }
            }
            while chars.next_if(|(_, c)| *c == ' ' || *c == '\t').is_some() {}
            match chars.peek() {
                None | Some((_, ',')) => {}
                Some((i, _)) => {
                    return Err((
                        i + 1,
                        "text after a quoted field (a comma is missing)".into(),
                    ));
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| *c != ',') {
                value.push(c);
            }
            value = value.trim_end().to_owned();
        }
        out.push((value, start));
        if chars.next().is_none() {
            return Ok(out);
        }
    }
}

// --- The checks ---------------------------------------------------------------------------
