//! Our cells laid out as the paper's Table 2: its rows in its order under its two group
//! headings, columns IS, FID and test NLL (bits/dim) as mean ± std over seeds, the lowest FID
//! seen in training, how each cell ended, and the paper's own CIFAR10 figures beside ours.
//! A cell with no run that ended ok shows "–", as the paper's unstable cells do. Cells outside
//! the paper's grid follow under "Other cells". Markdown, LaTeX (booktabs) and HTML.

use super::aggregate::{BEST_FID, CellRow, TEST_NLL};
use super::paper_rows::PaperRow;
use super::tables::{format_stat, html_escape, latex_escape};

const MISSING: &str = "–";
const OTHER_CELLS: &str = "Other cells (not in the paper's grid)";

/// The column headings, in order.
const HEADINGS: [&str; 11] = [
    "objective",
    "cell",
    "seeds",
    "IS",
    "FID",
    "NLL (bits/dim)",
    "best FID in training",
    "status",
    "paper IS",
    "paper FID",
    "paper NLL",
];

/// The cells in the paper's order, then the others by name.
fn in_paper_order(cells: &[CellRow]) -> Vec<&CellRow> {
    let mut rows: Vec<&CellRow> = cells.iter().collect();
    rows.sort_by_key(|c| (paper_row(c).is_none(), paper_row(c), c.cell.clone()));
    rows
}

fn paper_row(cell: &CellRow) -> Option<PaperRow> {
    cell.runs.first().and_then(|r| r.paper_row)
}

/// The network whose IS and FID the table shows: Inception-v3 where any cell has it (the
/// paper's network), else the first one scored.
pub fn network(cells: &[CellRow]) -> Option<String> {
    let nets: Vec<String> = cells
        .iter()
        .flat_map(|c| c.stats.keys())
        .filter_map(|k| k.strip_prefix("fid (")?.strip_suffix(')'))
        .map(str::to_string)
        .collect();
    let inception = nets.iter().find(|n| n.as_str() == "inception-v3");
    inception.or(nets.first()).cloned()
}

/// A row's entries after the objective, as plain text.
fn entries(cell: &CellRow, net: Option<&str>) -> Vec<String> {
    let ours = |key: String| format_stat(&key, cell.stats.get(&key));
    let score = |name: &str| net.map_or(MISSING.to_string(), |n| ours(format!("{name} ({n})")));
    let seeds: Vec<String> = cell.runs.iter().map(|r| r.seed.to_string()).collect();
    let paper = paper_row(cell).map(PaperRow::paper);
    let given = |v: Option<String>| v.unwrap_or_else(|| MISSING.to_string());
    vec![
        cell.cell.clone(),
        seeds.join(", "),
        score("is"),
        score("fid"),
        ours(TEST_NLL.to_string()),
        score(BEST_FID),
        cell.status(),
        given(
            paper
                .and_then(|p| p.is)
                .map(|(m, s)| format!("{m:.2} ± {s:.2}")),
        ),
        given(paper.and_then(|p| p.fid).map(|f| format!("{f:.2}"))),
        given(paper.and_then(|p| p.nll).map(|n| format!("≤ {n:.2}"))),
    ]
}

/// Rows with the group heading each starts (None: the same group as the row before).
fn grouped(cells: &[CellRow]) -> Vec<(Option<Option<PaperRow>>, &CellRow)> {
    let mut last: Option<Option<&'static str>> = None;
    in_paper_order(cells)
        .into_iter()
        .map(|cell| {
            let row = paper_row(cell);
            let group = Some(row.map(PaperRow::group));
            let starts = (group != last).then_some(row);
            last = group;
            (starts, cell)
        })
        .collect()
}

/// The table as Markdown, with its note below.
pub fn markdown(cells: &[CellRow]) -> String {
    let net = network(cells);
    let mut out = format!("| {} |\n|", HEADINGS.join(" | "));
    out.push_str(&"---|".repeat(HEADINGS.len()));
    out.push('\n');
    let blanks = " |".repeat(HEADINGS.len() - 1);
    for (starts, cell) in grouped(cells) {
        if let Some(row) = starts {
            let group = row.map_or(OTHER_CELLS, PaperRow::group);
            out.push_str(&format!("| **{group}** |{blanks}\n"));
        }
        let objective = paper_row(cell).map_or(MISSING, PaperRow::objective);
        let rest: Vec<String> = entries(cell, net.as_deref())
            .iter()
            .map(|e| e.replace('|', "/"))
            .collect();
        out.push_str(&format!("| {objective} | {} |\n", rest.join(" | ")));
    }
    out.push_str(&format!("\n{}\n", note(cells, net.as_deref())));
    out
}

/// What the numbers are, for under the table.
pub fn note(cells: &[CellRow], net: Option<&str>) -> String {
    let mut scorings: Vec<&str> = cells
        .iter()
        .flat_map(|c| c.runs.iter().map(|r| r.scoring.as_str()))
        .collect();
    scorings.sort();
    scorings.dedup();
    let net = net.unwrap_or("no network (no cell scored its samples)");
    format!(
        "Ours: mean ± sample std over the seeds that ended ok (\"–\": none did); IS and FID through {net} \
         of the final EMA weights' samples ({}); best FID in training: the lowest of the evaluations made \
         while training; NLL: the test bound at the end. Paper: CIFAR10, Inception-v3 on 50k samples \
         (IS ± its std over splits), NLL from its Table 1; \"–\" where it reports none (unstable cells). \
         Compare orderings, not values: the data, the network and the sample count differ.",
        scorings.join(" / ")
    )
}

/// The table as a booktabs `tabular`, ready to `\input` inside a table float.
pub fn latex(cells: &[CellRow]) -> String {
    let net = network(cells);
    let mut out = String::from("% Generated by ddpm-exp report; needs \\usepackage{booktabs}.\n");
    out.push_str(&format!(
        "\\begin{{tabular}}{{lll{}l{}}}\n\\toprule\n",
        "r".repeat(4),
        "r".repeat(3)
    ));
    let headings: Vec<String> = HEADINGS.iter().map(|h| latex_escape(h)).collect();
    out.push_str(&format!("{} \\\\\n\\midrule\n", headings.join(" & ")));
    for (starts, cell) in grouped(cells) {
        if let Some(row) = starts {
            let group = row.map_or(OTHER_CELLS, PaperRow::group_latex);
            out.push_str(&format!(
                "\\multicolumn{{{}}}{{l}}{{\\textit{{{group}}}}} \\\\\n",
                HEADINGS.len()
            ));
        }
        let objective = paper_row(cell).map_or("--", PaperRow::objective_latex);
        let rest: Vec<String> = entries(cell, net.as_deref())
            .iter()
            .map(|e| latex_entry(e))
            .collect();
        out.push_str(&format!("{objective} & {} \\\\\n", rest.join(" & ")));
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n");
    out
}

fn latex_entry(text: &str) -> String {
    match text {
        MISSING => "--".into(),
        t if t.contains('±') || t.starts_with('≤') => {
            format!("${}$", t.replace('±', r"\pm").replace('≤', r"\le"))
        }
        t => latex_escape(t),
    }
}

/// The table as an HTML `<table>`, with its note below.
pub fn html(cells: &[CellRow]) -> String {
    let net = network(cells);
    let mut out = String::from("<table class=\"table2\">\n<thead><tr>");
    for h in HEADINGS {
        out.push_str(&format!("<th>{}</th>", html_escape(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (starts, cell) in grouped(cells) {
        if let Some(row) = starts {
            let group = row.map_or(OTHER_CELLS, PaperRow::group);
            out.push_str(&format!(
                "<tr><th colspan=\"{}\">{}</th></tr>\n",
                HEADINGS.len(),
                html_escape(group)
            ));
        }
        let objective = paper_row(cell).map_or(MISSING, PaperRow::objective);
        out.push_str(&format!("<tr><td>{}</td>", html_escape(objective)));
        for e in entries(cell, net.as_deref()) {
            out.push_str(&format!("<td>{}</td>", html_escape(&e)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}
