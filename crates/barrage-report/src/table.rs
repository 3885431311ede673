//! A small text-table renderer: columns sized to their content, optional group separators,
//! optional colour.
//!
//! Written by hand because the views need only this much (left/right alignment, `|` between
//! column groups, rule lines, per-cell colour that does not disturb alignment), and the table
//! crates that do more bring their own ideas of borders and wrapping. Widths are counted in
//! `char`s, which is right for the ASCII and common Latin text of endpoint names; wide CJK
//! characters would misalign, an accepted limit.
//!
//! Cell text is sanitized here (control characters become spaces) because it can come from
//! the network: a failure message must never smuggle escape codes into the user's terminal.
//! Colour is added after padding, and only when asked for.

/// Horizontal alignment of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// How a cell is shown when colour is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Bold,
    Red,
    Green,
}

impl Style {
    fn code(self) -> Option<&'static str> {
        match self {
            Style::Plain => None,
            Style::Bold => Some("\x1b[1m"),
            Style::Red => Some("\x1b[31m"),
            Style::Green => Some("\x1b[32m"),
        }
    }
}

const RESET: &str = "\x1b[0m";

/// Wraps `text` in `style`'s escape codes when `color` is on.
pub(crate) fn paint(text: &str, style: Style, color: bool) -> String {
    match (color, style.code()) {
        (true, Some(code)) => format!("{code}{text}{RESET}"),
        _ => text.to_owned(),
    }
}

/// One column: its header, alignment, and whether a `|` separates it from the previous one.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    header: String,
    align: Align,
    group_start: bool,
}

impl Column {
    pub(crate) fn left(header: &str) -> Column {
        Column {
            header: header.to_owned(),
            align: Align::Left,
            group_start: false,
        }
    }

    pub(crate) fn right(header: &str) -> Column {
        Column {
            header: header.to_owned(),
            align: Align::Right,
            group_start: false,
        }
    }

    /// Starts a new group of columns: a `|` is drawn before this one.
    pub(crate) fn group(mut self) -> Column {
        self.group_start = true;
        self
    }
}

/// One cell: sanitized text and a style.
#[derive(Clone, Debug)]
pub(crate) struct Cell {
    text: String,
    style: Style,
}

impl Cell {
    pub(crate) fn new(text: impl AsRef<str>) -> Cell {
        Cell {
            text: sanitize(text.as_ref()),
            style: Style::Plain,
        }
    }

    pub(crate) fn styled(text: impl AsRef<str>, style: Style) -> Cell {
        Cell {
            text: sanitize(text.as_ref()),
            style,
        }
    }

    /// `failures (percent of total)`, red when there are any.
    pub(crate) fn failures(failures: u64, total: u64) -> Cell {
        let style = if failures > 0 {
            Style::Red
        } else {
            Style::Plain
        };
        Cell::styled(crate::format::count_with_percent(failures, total), style)
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::new(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::new(text)
    }
}

#[derive(Clone, Debug)]
enum Row {
    Cells(Vec<Cell>, Style),
    Rule,
}

/// A table built row by row, then rendered once.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    columns: Vec<Column>,
    rows: Vec<Row>,
}

impl Table {
    pub(crate) fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub(crate) fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(Row::Cells(cells, Style::Plain));
    }

    /// Adds a row whose plain cells all take `style` (for the Aggregated row).
    pub(crate) fn row_styled(&mut self, cells: Vec<Cell>, style: Style) {
        self.rows.push(Row::Cells(cells, style));
    }

    /// Adds a rule line across the table.
    pub(crate) fn rule(&mut self) {
        self.rows.push(Row::Rule);
    }

    /// Renders the header, a rule, and the rows; each line ends with `\n`.
    pub(crate) fn render(&self, color: bool) -> String {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                self.rows
                    .iter()
                    .filter_map(|r| match r {
                        Row::Cells(cells, _) => cells.get(i).map(|c| width(&c.text)),
                        Row::Rule => None,
                    })
                    .chain([width(&c.header)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();

        let mut out = String::new();
        let header: Vec<Cell> = self.columns.iter().map(|c| Cell::new(&c.header)).collect();
        self.line(&mut out, &header, Style::Bold, &widths, color);
        self.rule_line(&mut out, &widths);
        for row in &self.rows {
            match row {
                Row::Cells(cells, style) => self.line(&mut out, cells, *style, &widths, color),
                Row::Rule => self.rule_line(&mut out, &widths),
            }
        }
        out
    }

    fn line(
        &self,
        out: &mut String,
        cells: &[Cell],
        row_style: Style,
        widths: &[usize],
        color: bool,
    ) {
        let mut line = String::new();
        let blank = Cell::new("");
        for (i, (col, &w)) in self.columns.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str(if col.group_start { " | " } else { "  " });
            }
            let cell = cells.get(i).unwrap_or(&blank);
            let pad = " ".repeat(w - width(&cell.text));
            let style = if cell.style == Style::Plain {
                row_style
            } else {
                cell.style
            };
            let text = paint(&cell.text, style, color && !cell.text.is_empty());
            match col.align {
                Align::Left => {
                    line.push_str(&text);
                    line.push_str(&pad);
                }
                Align::Right => {
                    line.push_str(&pad);
                    line.push_str(&text);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }

    fn rule_line(&self, out: &mut String, widths: &[usize]) {
        for (i, (col, &w)) in self.columns.iter().zip(widths).enumerate() {
            if i > 0 {
                out.push_str(if col.group_start { "-|-" } else { "--" });
            }
            out.push_str(&"-".repeat(w));
        }
        out.push('\n');
    }
}

/// The display width of sanitized text, in `char`s.
fn width(s: &str) -> usize {
    s.chars().count()
}

/// Replaces control characters (newlines, tabs, escape codes) with spaces.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Shortens `s` to at most `max` chars, ending with `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(vec![
            Column::left("Name"),
            Column::right("# reqs").group(),
            Column::right("p95"),
        ]);
        t.row(vec![
            "/a".into(),
            "5".into(),
            Cell::styled("12.5", Style::Red),
        ]);
        t.rule();
        t.row_styled(
            vec!["Aggregated".into(), "12345".into(), "3".into()],
            Style::Bold,
        );
        t
    }

    #[test]
    fn columns_fit_their_content() {
        let out = sample().render(false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Name       | # reqs   p95");
        assert_eq!(lines[1], "-----------|-------------");
        assert_eq!(lines[2], "/a         |      5  12.5");
        assert_eq!(lines[4], "Aggregated |  12345     3");
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn colour_does_not_change_alignment() {
        let plain = sample().render(false);
        let colored = sample().render(true);
        assert!(colored.contains("\x1b[31m12.5\x1b[0m"));
        assert!(colored.contains("\x1b[1mAggregated\x1b[0m"));
        let stripped = colored
            .replace("\x1b[31m", "")
            .replace("\x1b[1m", "")
            .replace("\x1b[0m", "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut t = Table::new(vec![Column::left("Sample")]);
        t.row(vec!["evil\x1b[2Jmessage\nsecond line".into()]);
        let out = t.render(false);
        assert!(!out.contains('\x1b'));
        assert!(out.contains("evil [2Jmessage second line"));
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("short", 40), "short");
        let long = "x".repeat(50);
        let t = truncate(&long, 40);
        assert_eq!(t.chars().count(), 40);
        assert!(t.ends_with('…'));
    }
}
