//! `ddpm-exp report`: figures and tables for a paper, made from run folders alone (spec.yaml,
//! meta.json, the Parquet tables and checkpoints). A broken run folder is named and left
//! out; the others are still reported.

pub mod aggregate;
pub mod collect;
pub mod html;
pub mod image_figure;
pub mod model_figures;
pub mod plot;
pub mod rate_distortion;
pub mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aggregate::{CellRow, RunValues, cell_rows, metric_band, per_t_terms, run_values};
use collect::{BrokenRun, RunRecord, collect_runs};
use html::{Block, Section};
use model_figures::{ModelFigureSettings, draw_run_figures};
use plot::canvas::save_figure;
use plot::curves::{CurveFigure, CurveSeries};
use plot::rate_distortion::RateDistortionFigure;
use plot::schedule::ScheduleFigure;
use rate_distortion::rate_distortion;

use crate::error::Failure;
use crate::record::atomic::write_atomic;

/// What the caller chose.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub out: PathBuf,
    /// Weight of the loss curves' exponential moving average.
    pub smoothing: f64,
    /// Sample grids and the other model figures; None skips them (they take minutes on a CPU).
    pub model_figures: Option<ModelFigureSettings>,
}

/// What the report wrote and what it could not read.
pub struct ReportOutcome {
    pub out: PathBuf,
    pub html: PathBuf,
    pub runs: usize,
    pub cells: Vec<CellRow>,
    pub broken: Vec<BrokenRun>,
    /// Figures or parts that could not be drawn, with why.
    pub notes: Vec<String>,
}

/// A report being assembled: its folder, page sections and Markdown.
struct Assembly {
    out: PathBuf,
    sections: Vec<Section>,
    markdown: String,
    notes: Vec<String>,
}

impl Assembly {
    fn write(&self, name: &str, text: &str) -> Result<PathBuf, Failure> {
        let path = self.out.join(name);
        write_atomic(&path, text.as_bytes())
            .map_err(|e| Failure::Failed(format!("{}: cannot write: {e}", path.display())))?;
        Ok(path)
    }

    /// The path of `png` relative to the report folder, for links.
    fn relative(&self, png: &Path) -> String {
        png.strip_prefix(&self.out)
            .unwrap_or(png)
            .to_string_lossy()
            .into_owned()
    }

    fn figure(&mut self, section: &mut Section, result: Result<PathBuf, String>, caption: &str) {
        match result {
            Ok(png) => {
                let rel = self.relative(&png);
                self.markdown.push_str(&format!("![{caption}]({rel})\n\n"));
                section.blocks.push(Block::Figure {
                    png: rel,
                    caption: caption.to_string(),
                });
            }
            Err(why) => self.notes.push(format!("{caption}: {why}")),
        }
    }
}

/// Makes the report of every run under `inputs` in `options.out`.
pub fn make_report(inputs: &[PathBuf], options: &ReportOptions) -> Result<ReportOutcome, Failure> {
    let (runs, mut broken) = collect_runs(inputs)?;
    let mut values = Vec::new();
    let mut readable = Vec::new();
    for run in runs {
        match run_values(&run) {
            Ok(v) => {
                values.push(v);
                readable.push(run);
            }
            Err(reason) => broken.push(BrokenRun {
                dir: run.dir.clone(),
                reason,
            }),
        }
    }
    if readable.is_empty() {
        let listed: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        let why = broken
            .iter()
            .map(|b| format!("; {}", b.reason))
            .collect::<String>();
        return Err(Failure::BadInput(format!(
            "{}: no readable run folder{why}",
            listed.join(", ")
        )));
    }
    let figures = options.out.join("figures");
    std::fs::create_dir_all(&figures)
        .map_err(|e| Failure::Failed(format!("{}: cannot create: {e}", figures.display())))?;
    let cells = cell_rows(&values).map_err(Failure::Failed)?;
    let mut report = Assembly {
        out: options.out.clone(),
        sections: Vec::new(),
        markdown: String::from("# DDPM ablation report\n\n"),
        notes: Vec::new(),
    };

    tables_section(&mut report, &cells, &values, &broken)?;
    curves_section(&mut report, &readable, options.smoothing, &figures);
    schedules_section(&mut report, &readable, &figures);
    rate_distortion_section(&mut report, &readable, &figures);
    if let Some(settings) = options.model_figures {
        model_section(&mut report, &readable, settings, &figures);
    }
    if !report.notes.is_empty() {
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
    report.write("report.md", &report.markdown)?;
    let html = report.write(
        "index.html",
        &html::page("DDPM ablation report", &report.sections),
    )?;
    Ok(ReportOutcome {
        out: options.out.clone(),
        html,
        runs: readable.len(),
        cells,
        broken,
        notes: report.notes,
    })
}

fn tables_section(
    report: &mut Assembly,
    cells: &[CellRow],
    values: &[RunValues],
    broken: &[BrokenRun],
) -> Result<(), Failure> {
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
        "## Comparison\n\n{md}\n{note}\n\n## Runs\n\n{runs_md}\n"
    ));
    let mut blocks = vec![Block::Html(tables::html(cells)), Block::Text(note)];
    blocks.push(Block::Text(
        "Files: table.md, table.tex (booktabs), runs.md.".into(),
    ));
    report.sections.push(Section {
        title: "Comparison".into(),
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

fn curves_section(report: &mut Assembly, runs: &[RunRecord], smoothing: f64, figures: &Path) {
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
        let series: Result<Vec<CurveSeries>, String> = by_cell(runs)
            .into_iter()
            .map(|(cell, cell_runs)| {
                let n = cell_runs.len();
                Ok(CurveSeries {
                    label: if n > 1 {
                        format!("{cell} ({n} seeds)")
                    } else {
                        cell.to_string()
                    },
                    band: metric_band(&cell_runs, metric)?,
                })
            })
            .collect();
        let result = series.and_then(|series| {
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
        });
        report.figure(&mut section, result, title);
    }
    report.sections.push(section);
}

fn schedule_label(run: &RunRecord) -> String {
    let d = &run.spec.diffusion;
    let kind = format!("{:?}", d.schedule).to_lowercase();
    match d.schedule {
        crate::diffusion::ScheduleKind::Cosine => {
            format!("cosine s={} (T={})", d.cosine_s, d.timesteps)
        }
        _ => format!(
            "{kind} β {}→{} (T={})",
            d.beta_start, d.beta_end, d.timesteps
        ),
    }
}

fn schedules_section(report: &mut Assembly, runs: &[RunRecord], figures: &Path) {
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
            schedules: vec![(label.clone(), run.spec.schedule())],
        };
        let result = save_figure(&figure, &figures.join(format!("schedule_{i}")));
        report.figure(
            &mut section,
            result,
            &format!("β_t, ᾱ_t, 1 − ᾱ_t and log SNR: {label}"),
        );
    }
    if distinct.len() > 1 {
        let figure = ScheduleFigure {
            title: "Schedules compared".into(),
            schedules: distinct
                .iter()
                .map(|(label, run)| (label.clone(), run.spec.schedule()))
                .collect(),
        };
        let result = save_figure(&figure, &figures.join("schedule_comparison"));
        report.figure(&mut section, result, "The schedules of these runs compared");
    }
    report.sections.push(section);
}

fn rate_distortion_section(report: &mut Assembly, runs: &[RunRecord], figures: &Path) {
    let mut series = Vec::new();
    for run in runs {
        let Some(eval) = &run.eval else { continue };
        let terms = per_t_terms(eval, "vb").and_then(|vb| Ok((vb, per_t_terms(eval, "x0_mse")?)));
        let prior = aggregate::newest_totals(eval)
            .ok()
            .and_then(|totals| totals.get("prior_bpd").copied());
        match (terms, prior) {
            (Ok((vb, mse)), Some(prior)) => {
                let points = rate_distortion(&vb, &mse, prior);
                if !points.is_empty() {
                    series.push((format!("{} (seed {})", run.cell(), run.meta.seed), points));
                }
            }
            (Err(e), _) => report
                .notes
                .push(format!("rate–distortion of {}: {e}", run.run_id)),
            _ => {}
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

fn model_section(
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
