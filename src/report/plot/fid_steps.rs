//! FID against the number of sampling steps (log axis), one line per cell and sampler: what
//! respacing and DDIM buy (Nichol & Dhariwal Fig. 8; Song et al. Table 1).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{
    Figure, chart_with_labels, labelled_line, legend, plot_err, series_colour, short_number, text,
};
use crate::report::ReportError;

/// One cell's FIDs with one sampler: (steps, FID), steps increasing.
pub struct FidSeries {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// DDIM's lines are dashed, the ancestral sampler's solid.
    pub dashed: bool,
    /// Index into the palette: a cell's samplers share a colour.
    pub colour: usize,
}

pub struct FidStepsFigure {
    pub title: String,
    pub y_label: String,
    pub series: Vec<FidSeries>,
}

impl Figure for FidStepsFigure {
    fn size(&self) -> (u32, u32) {
        (900, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let root = root.titled(&self.title, text(20)).map_err(plot_err)?;
        let log_x = |s: &FidSeries| -> Vec<(f64, f64)> {
            s.points.iter().map(|&(k, fid)| (k.log10(), fid)).collect()
        };
        let extent: Vec<(f64, f64)> = self.series.iter().flat_map(log_x).collect();
        let steps_label = |x: &f64| short_number(10f64.powf(*x).round());
        let mut chart = chart_with_labels(
            &root,
            extent.into_iter(),
            ("sampling steps (log scale)", &self.y_label),
            (&steps_label, &|y| short_number(*y)),
        )?;
        for s in &self.series {
            let colour = series_colour(s.colour);
            labelled_line(&mut chart, log_x(s), colour, s.dashed, &s.label)?;
            chart
                .draw_series(
                    log_x(s)
                        .into_iter()
                        .map(|p| Circle::new(p, 3, colour.filled())),
                )
                .map_err(plot_err)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
