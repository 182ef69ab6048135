//! A sweep's table: one row per cell with a column per swept key (its value as given), then
//! final loss, test NLL, FID, IS, KID and steps/s as mean ± std over the cell's seeds that
//! ended ok, the best of each metric marked. Written as Markdown (in summary.md), LaTeX, CSV
//! and Parquet beside the run folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::summary::SummaryRow;
use crate::record::RecordError;
use crate::record::atomic::write_atomic;
use crate::record::parquet::{Column, write_table};
use crate::report::aggregate::{FINAL_LOSS, Stat, TEST_NLL, run_values, stat};
use crate::report::collect::collect_runs;
use crate::report::tables::{format_stat, heading, latex_escape};

/// Steps per second, from each run's meta.json (every run has it, finished or not).
pub const STEPS_PER_SECOND: &str = "steps_per_second";

/// One cell of a sweep over its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    pub cell: String,
    pub swept: Vec<(String, String)>,
    pub seeds: Vec<u64>,
    /// How many of the seeds ended ok (only those have numbers).
    pub ok: usize,
    pub stats: BTreeMap<String, Stat>,
}

/// The table: its swept keys, metric columns, and rows in plan order.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepTable {
    pub keys: Vec<String>,
    pub metrics: Vec<String>,
    pub rows: Vec<SweepRow>,
}

/// Whether a lower value of `metric` is better (IS and steps/s: higher is).
fn lower_is_better(metric: &str) -> bool {
    !(metric.starts_with("is (") || metric == STEPS_PER_SECOND)
}

fn is_sweep_metric(key: &str) -> bool {
    [FINAL_LOSS, TEST_NLL].contains(&key)
        || ["fid (", "is (", "kid ("]
            .iter()
            .any(|p| key.starts_with(p))
}

/// The sweep table of the summary's rows, their numbers read from their run folders.
pub fn sweep_table(rows: &[SummaryRow]) -> SweepTable {
    let dirs: Vec<PathBuf> = rows.iter().filter_map(|r| r.run_dir.clone()).collect();
    let runs = collect_runs(&dirs)
        .map(|(runs, _)| runs)
        .unwrap_or_default();
    let values: BTreeMap<PathBuf, BTreeMap<String, f64>> = runs
        .iter()
        .map(|r| (r.dir.clone(), run_values(r).values))
        .collect();
    let mut keys: Vec<String> = Vec::new();
    for (key, _) in rows.iter().flat_map(|r| &r.swept) {
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    let rows = by_cell(rows, &values);
    let metrics = metric_columns(&rows);
    SweepTable {
        keys,
        metrics,
        rows,
    }
}

/// One row per cell in the order cells first come, each metric over its seeds that ended ok.
fn by_cell(
    rows: &[SummaryRow],
    values: &BTreeMap<PathBuf, BTreeMap<String, f64>>,
) -> Vec<SweepRow> {
    let mut cells: Vec<(SweepRow, BTreeMap<String, Vec<f64>>)> = Vec::new();
    for row in rows {
        let at = cells.iter().position(|(c, _)| c.cell == row.cell);
        let at = at.unwrap_or_else(|| {
            let fresh = SweepRow {
                cell: row.cell.clone(),
                swept: row.swept.clone(),
                seeds: Vec::new(),
                ok: 0,
                stats: BTreeMap::new(),
            };
            cells.push((fresh, BTreeMap::new()));
            cells.len() - 1
        });
        let (cell, columns) = &mut cells[at];
        cell.seeds.push(row.seed);
        let run = row.run_dir.as_ref().and_then(|d| values.get(d));
        let Some(run) = run.filter(|_| row.status == "ok") else {
            continue;
        };
        cell.ok += 1;
        for (key, value) in run.iter().filter(|(k, _)| is_sweep_metric(k)) {
            columns.entry(key.clone()).or_default().push(*value);
        }
        if let Some(rate) = row.steps_per_second {
            columns
                .entry(STEPS_PER_SECOND.into())
                .or_default()
                .push(rate);
        }
    }
    cells
        .into_iter()
        .map(|(mut cell, columns)| {
            cell.stats = columns.iter().map(|(k, v)| (k.clone(), stat(v))).collect();
            cell
        })
        .collect()
}

/// Final loss, test NLL, the quality scores any cell has (by name), steps/s.
fn metric_columns(rows: &[SweepRow]) -> Vec<String> {
    let mut metrics: Vec<String> = vec![FINAL_LOSS.into(), TEST_NLL.into()];
    let mut scores: Vec<String> = rows.iter().flat_map(|r| r.stats.keys().cloned()).collect();
    scores.sort();
    scores.dedup();
    scores.retain(|k| !metrics.contains(k) && k != STEPS_PER_SECOND);
    metrics.extend(scores);
    metrics.push(STEPS_PER_SECOND.into());
    metrics
}

impl SweepTable {
    /// The index of the row with the best mean of `metric`, if any row has it.
    pub fn best(&self, metric: &str) -> Option<usize> {
        let means = self.rows.iter().enumerate().filter_map(|(i, r)| {
            let m = r.stats.get(metric)?.mean;
            m.is_finite().then_some((i, m))
        });
        let sign = if lower_is_better(metric) { 1.0 } else { -1.0 };
        means
            .min_by(|a, b| (sign * a.1).total_cmp(&(sign * b.1)))
            .map(|(i, _)| i)
    }

    fn value(row: &SweepRow, key: &str) -> String {
        row.swept
            .iter()
            .find(|(k, _)| k == key)
            .map_or("–".into(), |(_, v)| v.clone())
    }

    fn metric_heading(metric: &str) -> String {
        match metric {
            STEPS_PER_SECOND => "steps/s".into(),
            other => heading(other),
        }
    }

    /// The table as Markdown; the best mean of each metric in bold.
    pub fn markdown(&self) -> String {
        let mut head: Vec<String> = self.keys.clone();
        head.push("seeds ok".into());
        head.extend(self.metrics.iter().map(|m| Self::metric_heading(m)));
        let mut out = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
        let best: Vec<Option<usize>> = self.metrics.iter().map(|m| self.best(m)).collect();
        for (i, row) in self.rows.iter().enumerate() {
            let mut cells: Vec<String> = self.keys.iter().map(|k| Self::value(row, k)).collect();
            cells.push(format!("{}/{}", row.ok, row.seeds.len()));
            for (metric, best) in self.metrics.iter().zip(&best) {
                let text = format_stat(metric, row.stats.get(metric));
                cells.push(match *best == Some(i) {
                    true => format!("**{text}**"),
                    false => text,
                });
            }
            out += &format!("| {} |\n", cells.join(" | ").replace('\n', " "));
        }
        out + "\nMean ± sample std over the seeds that ended ok; the best of each column in bold \
                (lowest; highest for IS and steps/s).\n"
    }

    /// The table as a booktabs `tabular`; the best mean of each metric in bold.
    pub fn latex(&self) -> String {
        let columns = self.keys.len() + 1 + self.metrics.len();
        let mut head: Vec<String> = self.keys.iter().map(|k| latex_escape(k)).collect();
        head.push("seeds ok".into());
        head.extend(
            self.metrics
                .iter()
                .map(|m| latex_escape(&Self::metric_heading(m))),
        );
        let mut out =
            String::from("% Generated by ddpm-exp ablate; needs \\usepackage{booktabs}.\n");
        out += &format!("\\begin{{tabular}}{{{}}}\n\\toprule\n", "l".repeat(columns));
        out += &format!("{} \\\\\n\\midrule\n", head.join(" & "));
        let best: Vec<Option<usize>> = self.metrics.iter().map(|m| self.best(m)).collect();
        for (i, row) in self.rows.iter().enumerate() {
            let mut cells: Vec<String> = self
                .keys
                .iter()
                .map(|k| format!("\\texttt{{{}}}", latex_escape(&Self::value(row, k))))
                .collect();
            cells.push(format!("{}/{}", row.ok, row.seeds.len()));
            for (metric, best) in self.metrics.iter().zip(&best) {
                let Some(stat) = row.stats.get(metric) else {
                    cells.push("--".into());
                    continue;
                };
                let text = format_stat(metric, Some(stat)).replace('±', r"\pm");
                cells.push(match *best == Some(i) {
                    true => format!("$\\mathbf{{{text}}}$"),
                    false => format!("${text}$"),
                });
            }
            out += &format!("{} \\\\\n", cells.join(" & "));
        }
        out + "\\bottomrule\n\\end{tabular}\n"
    }

    /// Flat columns: the swept keys, seeds, ok, then `M_mean`, `M_std`, `M_n` per metric (NaN
    /// where none) and `best` (the metrics this row is best in, `;`-separated).
    fn columns(&self) -> Vec<(String, Column)> {
        let mut columns: Vec<(String, Column)> = vec![(
            "cell".into(),
            Column::Str(self.rows.iter().map(|r| r.cell.clone()).collect()),
        )];
        for key in &self.keys {
            let values = self.rows.iter().map(|r| Self::value(r, key)).collect();
            columns.push((key.clone(), Column::Str(values)));
        }
        let seeds = |r: &SweepRow| r.seeds.iter().map(u64::to_string).collect::<Vec<_>>();
        let seeds = self.rows.iter().map(|r| seeds(r).join(";")).collect();
        columns.push(("seeds".into(), Column::Str(seeds)));
        let ok = self.rows.iter().map(|r| r.ok as u64).collect();
        columns.push(("seeds_ok".into(), Column::U64(ok)));
        for metric in &self.metrics {
            let stat = |r: &SweepRow| r.stats.get(metric).copied();
            let of = |f: fn(Stat) -> f64| -> Vec<f64> {
                self.rows
                    .iter()
                    .map(|r| stat(r).map_or(f64::NAN, f))
                    .collect()
            };
            columns.push((format!("{metric}_mean"), Column::F64(of(|s| s.mean))));
            let std = |s: Stat| s.std.unwrap_or(f64::NAN);
            columns.push((format!("{metric}_std"), Column::F64(of(std))));
            columns.push((format!("{metric}_n"), Column::F64(of(|s| s.n as f64))));
        }
        let best: Vec<Option<usize>> = self.metrics.iter().map(|m| self.best(m)).collect();
        let best_of = |i: usize| {
            let names = self
                .metrics
                .iter()
                .zip(&best)
                .filter(|(_, b)| **b == Some(i));
            names.map(|(m, _)| m.clone()).collect::<Vec<_>>().join(";")
        };
        columns.push((
            "best".into(),
            Column::Str((0..self.rows.len()).map(best_of).collect()),
        ));
        columns
    }

    /// The flat columns as CSV (RFC 4180 quoting: swept values may hold commas).
    pub fn csv(&self) -> String {
        let columns = self.columns();
        let quote = |s: &str| match s.contains([',', '"', '\n']) {
            true => format!("\"{}\"", s.replace('"', "\"\"")),
            false => s.to_string(),
        };
        let names: Vec<String> = columns.iter().map(|(n, _)| quote(n)).collect();
        let mut out = names.join(",") + "\n";
        for i in 0..self.rows.len() {
            let cells: Vec<String> = columns
                .iter()
                .map(|(_, c)| match c {
                    Column::Str(v) => quote(&v[i]),
                    Column::U64(v) => v[i].to_string(),
                    Column::OptU64(v) => v[i].map_or(String::new(), |x| x.to_string()),
                    Column::F64(v) if v[i].is_nan() => String::new(),
                    Column::F64(v) => v[i].to_string(),
                })
                .collect();
            out += &(cells.join(",") + "\n");
        }
        out
    }

    /// Writes `sweep.tex`, `sweep.csv` and `sweep.parquet` into `out`.
    pub fn write(&self, out: &Path) -> Result<(), RecordError> {
        let write = |name: &str, text: String| {
            let path = out.join(name);
            write_atomic(&path, text.as_bytes())
                .map_err(|e| RecordError::unwritable(&path, format!("cannot write: {e}")))
        };
        write("sweep.tex", self.latex())?;
        write("sweep.csv", self.csv())?;
        let (names, columns): (Vec<String>, Vec<Column>) = self.columns().into_iter().unzip();
        let names: Vec<String> = names.iter().map(|n| parquet_name(n)).collect();
        let named: Vec<(&str, Column)> = names.iter().map(String::as_str).zip(columns).collect();
        write_table(&out.join("sweep.parquet"), "the sweep table", &named)
    }
}

/// A column name Parquet's schema text takes: `fid (digits-classifier)_mean` →
/// `fid_digits_classifier_mean`, `train.lr` → `train_lr`.
fn parquet_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        match c.is_ascii_alphanumeric() {
            true => out.push(c),
            false if !out.ends_with('_') => out.push('_'),
            false => {}
        }
    }
    out.trim_matches('_').to_string()
}
