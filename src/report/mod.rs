//! `ddpm-exp report`: figures and tables for a paper, made from run folders alone (spec.yaml,
//! meta.json, the Parquet tables and checkpoints). A broken run folder is named and left
//! out; the others are still reported.

pub mod aggregate;
pub mod collect;
pub mod error;
pub mod fid_steps;
pub mod html;
pub mod image_figure;
pub mod model_figures;
pub mod paper_rows;
pub mod plot;
pub mod rate_distortion;
mod sections;
pub mod sweep_axes;
mod sweep_section;
pub mod table2;
pub mod tables;

use std::path::{Path, PathBuf};

use aggregate::{CellRow, RunValues, cell_rows, run_values};
use collect::{BrokenRun, RunRecord, collect_runs};
use html::{Block, Section};
use model_figures::ModelFigureSettings;
use sections::{
    curves_section, fid_steps_section, model_section, notes_section, rate_distortion_section,
    schedules_section, tables_section,
};

pub use error::ReportError;

use crate::record::RecordError;
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
    fn write(&self, name: &str, text: &str) -> Result<PathBuf, ReportError> {
        let path = self.out.join(name);
        write_atomic(&path, text.as_bytes())
            .map_err(|e| RecordError::unwritable(&path, format!("cannot write: {e}")))?;
        Ok(path)
    }

    /// The path of `png` relative to the report folder, for links.
    fn relative(&self, png: &Path) -> String {
        png.strip_prefix(&self.out)
            .unwrap_or(png)
            .to_string_lossy()
            .into_owned()
    }

    fn figure(
        &mut self,
        section: &mut Section,
        result: Result<PathBuf, ReportError>,
        caption: &str,
    ) {
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
pub fn make_report(
    inputs: &[PathBuf],
    options: &ReportOptions,
) -> Result<ReportOutcome, ReportError> {
    let (readable, values, broken) = readable_runs(inputs)?;
    let figures = options.out.join("figures");
    std::fs::create_dir_all(&figures)
        .map_err(|e| RecordError::unwritable(&figures, format!("cannot create: {e}")))?;
    let cells = cell_rows(&values);
    let mut report = Assembly {
        out: options.out.clone(),
        sections: Vec::new(),
        markdown: String::from("# DDPM ablation report\n\n"),
        notes: Vec::new(),
    };

    tables_section(&mut report, &cells, &values, &broken)?;
    sweep_section::sweep_section(&mut report, &readable, &cells, options.smoothing, &figures);
    curves_section(&mut report, &readable, options.smoothing, &figures);
    schedules_section(&mut report, &readable, &figures);
    rate_distortion_section(&mut report, &readable, &figures);
    fid_steps_section(&mut report, &readable, &figures);
    if let Some(settings) = options.model_figures {
        model_section(&mut report, &readable, settings, &figures);
    }
    notes_section(&mut report);
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

/// The runs under `inputs` whose records could be read, with their numbers, and the folders
/// left out with why; bad input when none is readable.
fn readable_runs(
    inputs: &[PathBuf],
) -> Result<(Vec<RunRecord>, Vec<RunValues>, Vec<BrokenRun>), ReportError> {
    let (readable, broken) = collect_runs(inputs)?;
    let values: Vec<RunValues> = readable.iter().map(run_values).collect();
    if readable.is_empty() {
        let listed: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        let why = broken
            .iter()
            .map(|b| format!("; {}", b.reason))
            .collect::<String>();
        return Err(ReportError::NoRuns(format!(
            "{}: no readable run folder{why}",
            listed.join(", ")
        )));
    }
    Ok((readable, values, broken))
}
