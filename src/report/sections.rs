//! The report's sections, each a Markdown part and an HTML part: the tables, the loss and
//! learning-rate curves, the schedules, the rate–distortion figure, the model figures, and
//! what could not be drawn.

use std::collections::BTreeMap;
use std::path::Path;

use super::ReportError;
use super::aggregate::{CellRow, RunValues, metric_band, per_t_terms};
use super::collect::{BrokenRun, RunRecord};
use super::fid_steps::{self, fid_by_steps, fid_network};
use super::html::{Block, Section};
use super::model_figures::{ModelFigureSettings, draw_run_figures};
use super::plot::canvas::save_figure;
use super::plot::curves::{CurveFigure, CurveSeries};
use super::plot::fid_steps::{FidSeries, FidStepsFigure};
use super::plot::rate_distortion::RateDistortionFigure;
use super::plot::schedule::ScheduleFigure;
use super::rate_distortion::rate_distortion;
use crate::diffusion::{DiffusionSchedule, Objective};

use super::{Assembly, aggregate, table2, tables};

/// What could not be drawn, and why, as the report's last section.
pub(super) fn notes_section(report: &mut Assembly) {
    if report.notes.is_empty() {
        return;
    }
    report.markdown.push_str("## Not drawn\n\n");
    for note in &report.notes {
        report.markdown.push_str(&format!("- {note}\n"));
    }
    report.sections.push(Section {
        title: "Not drawn".into(),
        blocks: report
            .notes
            .iter()
            .map(|n| Block::Text(n.clone()))
            .collect(),
    });
}

/// The main table: our cells as the paper's Table 2, the paper's figures beside them.
fn table2_section(report: &mut Assembly, cells: &[CellRow]) -> Result<(), ReportError> {
    let md = table2::markdown(cells);
    report.write("table2.md", &md)?;
    report.write("table2.tex", &table2::latex(cells))?;
    report
        .markdown
        .push_str(&format!("## Table 2 (the paper's layout)\n\n{md}\n"));
    let note = table2::note(cells, table2::network(cells).as_deref());
    report.sections.push(Section {
        title: "Table 2 (the paper's layout)".into(),
        blocks: vec![
            Block::Html(table2::html(cells)),
            Block::Text(note),
            Block::Text("Files: table2.md, table2.tex (booktabs).".into()),
        ],
    });
    Ok(())
}

/// Table 2, then every column of every cell and every run's own numbers.
pub(super) fn tables_section(
    report: &mut Assembly,
    cells: &[CellRow],
    values: &[RunValues],
    broken: &[BrokenRun],
) -> Result<(), ReportError> {
    table2_section(report, cells)?;
    let md = tables::markdown(cells);
    report.write("table.md", &md)?;
    report.write("table.tex", &tables::latex(cells))?;
    let runs_md = tables::runs_markdown(values, &tables::columns(cells));
    report.write("runs.md", &runs_md)?;
    let note = format!(
        "Mean ± sample std over seeds of the runs that ended ok; \"–\" where a cell has no such run. \
         Final train loss: mean logged loss over the last {:.0}% of steps. Test NLL: the newest evaluated checkpoint (EMA weights).",
        aggregate::FINAL_LOSS_FRACTION * 100.0
    );
    report.markdown.push_str(&format!(
        "## All columns\n\n{md}\n{note}\n\n## Runs\n\n{runs_md}\n"
    ));
    let mut blocks = vec![Block::Html(tables::html(cells)), Block::Text(note)];
    blocks.push(Block::Text(
        "Files: table.md, table.tex (booktabs), runs.md.".into(),
    ));
    report.sections.push(Section {
        title: "All columns".into(),
        blocks,
    });
    if !broken.is_empty() {
        report
            .markdown
            .push_str("## Broken run folders (left out)\n\n");
        let mut list = String::from("<ul class=\"broken\">\n");
        for b in broken {
            report
                .markdown
                .push_str(&format!("- {}: {}\n", b.dir.display(), b.reason));
            list.push_str(&format!(
                "<li>{}: {}</li>\n",
                tables::html_escape(&b.dir.display().to_string()),
                tables::html_escape(&b.reason)
            ));
        }
        list.push_str("</ul>\n");
        report.markdown.push('\n');
        report.sections.push(Section {
            title: "Broken run folders (left out)".into(),
            blocks: vec![Block::Html(list)],
        });
    }
    Ok(())
}

fn by_cell(runs: &[RunRecord]) -> BTreeMap<&str, Vec<&RunRecord>> {
    let mut cells: BTreeMap<&str, Vec<&RunRecord>> = BTreeMap::new();
    for run in runs {
        cells.entry(run.cell()).or_default().push(run);
    }
    cells
}

pub(super) fn curves_section(
    report: &mut Assembly,
    runs: &[RunRecord],
    smoothing: f64,
    figures: &Path,
) {
    let mut section = Section {
        title: "Training curves".into(),
        blocks: vec![Block::Text(
            "One line per cell: the mean over its seeds, smoothed; the raw mean faint behind it; the band spans the seeds' min–max.".into(),
        )],
    };
    report.markdown.push_str("## Training curves\n\n");
    for (metric, title, y_label) in [
        ("loss", "Training loss", "loss"),
        ("lr", "Learning rate", "learning rate"),
    ] {
        let series: Vec<CurveSeries> = by_cell(runs)
            .into_iter()
            .map(|(cell, cell_runs)| {
                let n = cell_runs.len();
                CurveSeries {
                    label: if n > 1 {
                        format!("{cell} ({n} seeds)")
                    } else {
                        cell.to_string()
                    },
                    band: metric_band(&cell_runs, metric),
                }
            })
            .collect();
        let result = {
            let figure = CurveFigure {
                title: title.into(),
                y_label: y_label.into(),
                series: series
                    .into_iter()
                    .filter(|s| !s.band.steps.is_empty())
                    .collect(),
                smoothing: if metric == "lr" { 0.0 } else { smoothing },
                log_allowed: metric != "lr",
            };
            save_figure(&figure, &figures.join(metric))
        };
        report.figure(&mut section, result, title);
    }
    report.sections.push(section);
}

/// The schedule, and the weighting of the loss where it is not uniform (with the prediction
/// it is stated for, since the weight per t depends on both).
fn schedule_label(run: &RunRecord) -> String {
    let d = &run.spec.diffusion;
    let kind = format!("{:?}", d.schedule).to_lowercase();
    let schedule = match d.schedule {
        crate::diffusion::ScheduleKind::Cosine => {
            format!("cosine s={} (T={})", d.cosine_s, d.timesteps)
        }
        _ => format!(
            "{kind} β {}→{} (T={})",
            d.beta_start, d.beta_end, d.timesteps
        ),
    };
    let objective = run.spec.objective();
    match objective.weighting.is_uniform() {
        true => schedule,
        false => format!(
            "{schedule}, {} {}",
            objective.mean.name(),
            objective.weighting.label()
        ),
    }
}

fn schedule_line(label: &str, run: &RunRecord) -> (String, DiffusionSchedule, Objective) {
    (label.to_string(), run.spec.schedule(), run.spec.objective())
}

pub(super) fn schedules_section(report: &mut Assembly, runs: &[RunRecord], figures: &Path) {
    let mut distinct: BTreeMap<String, &RunRecord> = BTreeMap::new();
    for run in runs {
        distinct.entry(schedule_label(run)).or_insert(run);
    }
    let mut section = Section {
        title: "Noise schedules".into(),
        blocks: Vec::new(),
    };
    report.markdown.push_str("## Noise schedules\n\n");
    for (i, (label, run)) in distinct.iter().enumerate() {
        let figure = ScheduleFigure {
            title: format!("Schedule: {label}"),
            schedules: vec![schedule_line(label, run)],
        };
        let result = save_figure(&figure, &figures.join(format!("schedule_{i}")));
        report.figure(
            &mut section,
            result,
            &format!("β_t, ᾱ_t, 1 − ᾱ_t, log SNR and the loss weight: {label}"),
        );
    }
    if distinct.len() > 1 {
        let figure = ScheduleFigure {
            title: "Schedules compared".into(),
            schedules: distinct
                .iter()
                .map(|(label, run)| schedule_line(label, run))
                .collect(),
        };
        let result = save_figure(&figure, &figures.join("schedule_comparison"));
        report.figure(&mut section, result, "The schedules of these runs compared");
    }
    report.sections.push(section);
}

pub(super) fn rate_distortion_section(report: &mut Assembly, runs: &[RunRecord], figures: &Path) {
    let mut series = Vec::new();
    for run in runs {
        let Some(eval) = &run.eval else { continue };
        let (vb, mse) = (per_t_terms(eval, "vb"), per_t_terms(eval, "x0_mse"));
        let prior = aggregate::newest_totals(eval).get("prior_bpd").copied();
        if let Some(prior) = prior {
            let points = rate_distortion(&vb, &mse, prior);
            if !points.is_empty() {
                series.push((format!("{} (seed {})", run.cell(), run.meta.seed), points));
            }
        }
    }
    if series.is_empty() {
        return;
    }
    let mut section = Section {
        title: "Rate–distortion".into(),
        blocks: vec![Block::Text(
            "Progressive lossy compression on the test images (paper §4.3, Fig 5): rate = L_T + Σ_{s>t} L_{s−1} bits/dim received by step T − t; distortion = RMSE of x̂_0 on 0–255.".into(),
        )],
    };
    report.markdown.push_str("## Rate–distortion\n\n");
    let figure = RateDistortionFigure {
        title: "Rate–distortion on the test set".into(),
        series,
    };
    let result = save_figure(&figure, &figures.join("rate_distortion"));
    report.figure(
        &mut section,
        result,
        "Distortion and rate against reverse steps; distortion against rate",
    );
    report.sections.push(section);
}

/// FID against sampling steps per cell, ancestral and DDIM, from the recorded evaluations;
/// a note saying how to record them when no cell has two step counts yet.
pub(super) fn fid_steps_section(report: &mut Assembly, runs: &[RunRecord], figures: &Path) {
    let Some(net) = fid_network(runs) else { return };
    let series = fid_by_steps(runs, &net);
    let mut cells: Vec<&str> = series.iter().map(|s| s.cell.as_str()).collect();
    cells.dedup();
    let lines: Vec<FidSeries> = series
        .iter()
        .filter(|s| s.points.len() > 1)
        .map(|s| FidSeries {
            label: format!("{} · {}", s.cell, s.sampler),
            points: s.points.iter().map(|p| (p.steps as f64, p.fid)).collect(),
            dashed: s.sampler.starts_with("ddim"),
            colour: cells.iter().position(|c| *c == s.cell).unwrap_or(0),
        })
        .collect();
    if lines.is_empty() {
        report.notes.push(format!(
            "FID against sampling steps: no cell has FIDs at two step counts yet; \
             `ddpm-exp eval RUN --quality --sampler ancestral,ddim --steps 10,20,50,100,1000` records them"
        ));
        return;
    }
    let table = fid_steps::markdown(&series);
    let text = format!(
        "FID ({net}) of the final EMA weights' samples against the number of sampling steps, mean over a cell's seeds; \
         solid: ancestral (respaced), dashed: DDIM. Each entry: FID (seconds to draw the samples)."
    );
    report.markdown.push_str(&format!(
        "## FID against sampling steps\n\n{text}\n\n{table}\n"
    ));
    let mut section = Section {
        title: "FID against sampling steps".into(),
        blocks: vec![Block::Text(text), Block::Html(markdown_table_html(&table))],
    };
    let figure = FidStepsFigure {
        title: "FID against sampling steps".into(),
        y_label: format!("FID ({net})"),
        series: lines,
    };
    let result = save_figure(&figure, &figures.join("fid_steps"));
    report.figure(
        &mut section,
        result,
        "FID against sampling steps, ancestral and DDIM",
    );
    report.sections.push(section);
}

/// A simple Markdown table (header, rule, rows) as an HTML table.
fn markdown_table_html(md: &str) -> String {
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|c| tables::html_escape(c.trim()))
            .collect()
    };
    let mut lines = md.lines().filter(|l| l.starts_with('|'));
    let mut out = String::from("<table>\n<thead><tr>");
    for h in lines.next().map(cells).unwrap_or_default() {
        out.push_str(&format!("<th>{h}</th>"));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for line in lines.skip(1) {
        out.push_str("<tr>");
        for c in cells(line) {
            out.push_str(&format!("<td>{c}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

pub(super) fn model_section(
    report: &mut Assembly,
    runs: &[RunRecord],
    settings: ModelFigureSettings,
    figures: &Path,
) {
    report
        .markdown
        .push_str("## Samples, progressive generation, reconstructions, interpolations\n\n");
    for run in runs {
        let mut section = Section {
            title: format!("{} · {}", run.cell(), run.run_id),
            blocks: Vec::new(),
        };
        report
            .markdown
            .push_str(&format!("### {} · {}\n\n", run.cell(), run.run_id));
        match draw_run_figures(run, &figures.join(&run.run_id), settings) {
            Ok(drawn) => {
                for fig in drawn.figures {
                    report.figure(&mut section, Ok(fig.png), &fig.caption);
                }
                for note in drawn.notes {
                    report.notes.push(format!("{}: {note}", run.run_id));
                }
            }
            Err(why) => report
                .notes
                .push(format!("figures of {}: {why}", run.run_id)),
        }
        report.sections.push(section);
    }
}
