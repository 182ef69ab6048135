//! The report's Sweep section, when its runs differ in spec keys (see [`sweep_axes`]): each
//! metric against each swept key, the loss curves split by each key's values, and a strip of
//! every cell's samples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::aggregate::{CellRow, FINAL_LOSS, TEST_NLL, metric_band};
use super::collect::RunRecord;
use super::html::{Block, Section};
use super::image_figure::{ImageFigure, ImageRow};
use super::plot::canvas::save_figure;
use super::plot::curves::{CurveFigure, CurvePanels, CurveSeries};
use super::plot::sweep_metrics::{SweepMetricFigure, SweepPanel, SweepPoint, SweepSeries};
use super::sweep_axes::{AxisScale, SweepAxes, short_key, sweep_axes};
use super::{Assembly, tables};
use crate::record::RunFolder;
use crate::record::grid::read_grid;
use crate::record::meta::Status;

/// Images per cell in the sample strip.
const STRIP_IMAGES: usize = 8;

pub(super) fn sweep_section(
    report: &mut Assembly,
    runs: &[RunRecord],
    cells: &[CellRow],
    smoothing: f64,
    figures: &Path,
) {
    let Some(axes) = sweep_axes(runs) else {
        return;
    };
    let order = cell_order(&axes);
    let mut lines = String::new();
    for key in &axes.keys {
        lines.push_str(&format!("- `{}`: {}\n", key.key, key.values.join(", ")));
    }
    report.markdown.push_str(&format!(
        "## Sweep\n\nThe cells differ in {} key(s):\n\n{lines}\n",
        axes.keys.len()
    ));
    let mut section = Section {
        title: "Sweep".into(),
        blocks: vec![Block::Text(format!(
            "The cells differ in: {}. Points are the mean over a cell's seeds, bars ±1 sample std.",
            axes.keys
                .iter()
                .map(|k| format!("{} ({})", k.key, k.values.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        ))],
    };
    for k in 0..axes.keys.len() {
        let stem = figures.join(format!("sweep_{}", file_stem(&axes.keys[k].key)));
        let figure = metric_figure(&axes, k, cells, &order);
        let caption = format!("Metrics against {}", axes.keys[k].key);
        report.figure(&mut section, save_figure(&figure, &stem), &caption);
        let figure = loss_panels(&axes, k, runs, &order, smoothing);
        let caption = format!("Training loss by {}", axes.keys[k].key);
        let stem = PathBuf::from(format!("{}_loss", stem.display()));
        report.figure(&mut section, save_figure(&figure, &stem), &caption);
    }
    let strip = sample_strip(&axes, runs, &order, &mut report.notes);
    if !strip.rows.is_empty() {
        let saved = strip.save(&figures.join("sweep_samples"));
        report.figure(&mut section, saved, "Samples of each cell (its first seed)");
    }
    report.sections.push(section);
}

/// Cells in sweep order: by the first key's values, then the second's, and so on.
fn cell_order(axes: &SweepAxes) -> Vec<String> {
    let position = |values: &Vec<String>| -> Vec<usize> {
        let keys = axes.keys.iter().zip(values);
        keys.map(|(k, v)| k.values.iter().position(|x| x == v).unwrap_or(usize::MAX))
            .collect()
    };
    let mut cells: Vec<(&String, Vec<usize>)> =
        axes.cells.iter().map(|(c, v)| (c, position(v))).collect();
    cells.sort_by(|a, b| a.1.cmp(&b.1));
    cells.into_iter().map(|(c, _)| c.clone()).collect()
}

fn file_stem(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The table's columns worth a panel: losses, NLL and the sample-quality scores.
fn plotted_metrics(cells: &[CellRow]) -> Vec<String> {
    let plotted = |m: &String| {
        m == FINAL_LOSS
            || m == TEST_NLL
            || ["fid (", "is (", "kid ("].iter().any(|p| m.starts_with(p))
    };
    tables::columns(cells).into_iter().filter(plotted).collect()
}

/// Every plotted metric against key `k`, a series per setting of the other keys.
fn metric_figure(
    axes: &SweepAxes,
    k: usize,
    cells: &[CellRow],
    order: &[String],
) -> SweepMetricFigure {
    let key = &axes.keys[k];
    let x_of = |value: &str| match key.scale {
        AxisScale::Categorical => key.values.iter().position(|v| v == value).unwrap_or(0) as f64,
        _ => value.parse::<f64>().unwrap_or(f64::NAN),
    };
    let by_name: BTreeMap<&str, &CellRow> = cells.iter().map(|c| (c.cell.as_str(), c)).collect();
    let panels = plotted_metrics(cells)
        .into_iter()
        .map(|metric| {
            let mut series: Vec<SweepSeries> = Vec::new();
            for cell in order {
                let Some(stat) = by_name
                    .get(cell.as_str())
                    .and_then(|c| c.stats.get(&metric))
                else {
                    continue;
                };
                let point = SweepPoint {
                    x: x_of(&axes.cells[cell][k]),
                    mean: stat.mean,
                    std: stat.std,
                };
                let label = series_label(axes, cell, k);
                match series.iter_mut().find(|s| s.label == label) {
                    Some(s) => s.points.push(point),
                    None => series.push(SweepSeries {
                        label,
                        points: vec![point],
                    }),
                }
            }
            for s in &mut series {
                s.points.sort_by(|a, b| a.x.total_cmp(&b.x));
            }
            SweepPanel {
                metric: tables::heading(&metric),
                series,
            }
        })
        .filter(|p| !p.series.is_empty())
        .collect();
    SweepMetricFigure {
        title: format!("Metrics against {}", key.key),
        key: short_key(&key.key).to_string(),
        scale: key.scale,
        categories: key.values.clone(),
        panels,
    }
}

/// A cell's setting of the keys other than `k`; with one key, what the points are.
fn series_label(axes: &SweepAxes, cell: &str, k: usize) -> String {
    let label = axes.label(cell, Some(k));
    if label.is_empty() {
        "mean over seeds".into()
    } else {
        label
    }
}

/// The loss curves, a panel per value of key `k` (one panel, a line per value, when it is the
/// only key).
fn loss_panels(
    axes: &SweepAxes,
    k: usize,
    runs: &[RunRecord],
    order: &[String],
    smoothing: f64,
) -> CurvePanels {
    let key = &axes.keys[k];
    let series_of = |cell: &String, label: String| {
        let cell_runs: Vec<&RunRecord> = runs.iter().filter(|r| r.cell() == cell).collect();
        CurveSeries {
            label,
            band: metric_band(&cell_runs, "loss"),
        }
    };
    let panel = |title: String, series: Vec<CurveSeries>| CurveFigure {
        title,
        y_label: "loss".into(),
        series: series
            .into_iter()
            .filter(|s| !s.band.steps.is_empty())
            .collect(),
        smoothing,
        log_allowed: true,
    };
    let panels = if axes.keys.len() == 1 {
        let series = order
            .iter()
            .map(|c| series_of(c, axes.label(c, None)))
            .collect();
        vec![panel(String::new(), series)]
    } else {
        let in_panel = |value: &String| -> Vec<CurveSeries> {
            let cells = order.iter().filter(|c| &axes.cells[*c][k] == value);
            cells
                .map(|c| series_of(c, axes.label(c, Some(k))))
                .collect()
        };
        let name = short_key(&key.key);
        key.values
            .iter()
            .map(|v| panel(format!("{name}={v}"), in_panel(v)))
            .collect()
    };
    CurvePanels {
        title: format!("Training loss by {}", key.key),
        panels,
    }
}

/// The first images of each cell's sample grid (from its lowest seed that ended ok); a cell
/// without a readable grid is noted and left out.
fn sample_strip(
    axes: &SweepAxes,
    runs: &[RunRecord],
    order: &[String],
    notes: &mut Vec<String>,
) -> ImageFigure {
    let first_ok = |cell: &String| {
        let ok = runs
            .iter()
            .filter(|r| r.cell() == cell && r.meta.status == Status::Ok);
        ok.min_by_key(|r| r.meta.seed)
    };
    let mut rows = Vec::new();
    let mut shape = (1, 1);
    for cell in order {
        let Some(run) = first_ok(cell) else { continue };
        let (channels, side) = run.spec.data.image_shape();
        let grid = (run.spec.sample.count, channels, side);
        let path = RunFolder::at(&run.dir).samples_path();
        match read_grid(&path, grid, STRIP_IMAGES) {
            Ok(images) if rows.is_empty() || shape == (channels, side) => {
                shape = (channels, side);
                rows.push(ImageRow {
                    label: axes.label(cell, None),
                    images,
                });
            }
            Ok(_) => notes.push(format!(
                "sample strip: {cell} has other image sizes; left out"
            )),
            Err(why) => notes.push(format!("sample strip: {why}")),
        }
    }
    ImageFigure {
        title: "Samples of each cell".into(),
        column_labels: Vec::new(),
        rows,
        channels: shape.0,
        side: shape.1,
    }
}
