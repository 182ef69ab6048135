//! The paper's Fig 5: distortion and rate against reverse-process steps, and distortion
//! against rate, one line per run.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::short_number;
use super::canvas::{Figure, chart_over, labelled_line, legend, plot_err, series_colour, text};
use crate::report::ReportError;
use crate::report::rate_distortion::RatePoint;

pub struct RateDistortionFigure {
    pub title: String,
    pub series: Vec<(String, Vec<RatePoint>)>,
}

type Pick = fn(&RatePoint) -> f64;

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[(String, Vec<RatePoint>)],
    (x_label, x): (&str, Pick),
    (y_label, y): (&str, Pick),
    legend_at: Option<SeriesLabelPosition>,
) -> Result<(), ReportError> {
    let points = series
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| (x(p), y(p))));
    let mut chart = chart_over(area, points, (x_label, y_label), &|v| short_number(*v))?;
    for (i, (label, pts)) in series.iter().enumerate() {
        let line = pts.iter().map(|p| (x(p), y(p))).collect();
        labelled_line(&mut chart, line, series_colour(i), false, label)?;
    }
    match legend_at {
        Some(position) => legend(&mut chart, position),
        None => Ok(()),
    }
}

impl Figure for RateDistortionFigure {
    fn size(&self) -> (u32, u32) {
        (1350, 430)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let root = root.titled(&self.title, text(20)).map_err(plot_err)?;
        let panels = root.split_evenly((1, 3));
        let steps: (&str, Pick) = ("reverse process steps (T − t)", |p| {
            p.reverse_steps as f64
        });
        let rate: (&str, Pick) = ("rate (bits/dim)", |p| p.rate);
        let distortion: (&str, Pick) = ("distortion (RMSE, 0–255)", |p| p.distortion);
        // One legend, where the rate curves leave room (top left); the others would hide lines.
        panel(&panels[0], &self.series, steps, distortion, None)?;
        panel(
            &panels[1],
            &self.series,
            steps,
            rate,
            Some(SeriesLabelPosition::UpperLeft),
        )?;
        panel(&panels[2], &self.series, rate, distortion, None)?;
        Ok(())
    }
}
