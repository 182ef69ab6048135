//! Training curves: one line per ablation cell (the mean over its seeds, smoothed), the raw
//! mean faint behind it and the seeds' min–max as a band; log scale when values span decades.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{
    Figure, chart_over, labelled_line, legend, plot_err, series_colour, short_number, text,
};
use crate::report::ReportError;
use crate::report::aggregate::Band;

/// One cell's trace of a metric.
pub struct CurveSeries {
    pub label: String,
    pub band: Band,
}

pub struct CurveFigure {
    pub title: String,
    pub y_label: String,
    pub series: Vec<CurveSeries>,
    /// Weight of the exponential moving average (0 = no smoothing).
    pub smoothing: f64,
    /// Whether a log axis may be chosen (not for a learning rate: its warm-up is linear).
    pub log_allowed: bool,
}

/// Exponential moving average with the start-up bias removed (as TensorBoard smooths), so
/// the first points are not pulled towards zero.
pub fn smooth(values: &[f64], weight: f64) -> Vec<f64> {
    let mut avg = 0.0;
    let mut norm = 0.0;
    values
        .iter()
        .map(|&v| {
            avg = weight * avg + (1.0 - weight) * v;
            norm = weight * norm + (1.0 - weight);
            avg / norm
        })
        .collect()
}

/// Whether values spread over more than `decades` powers of ten (then a log axis reads better).
fn spans_decades(values: impl Iterator<Item = f64>, decades: f64) -> bool {
    let (lo, hi) = values
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    lo.is_finite() && hi / lo > 10f64.powf(decades)
}

impl CurveFigure {
    fn log_scale(&self) -> bool {
        self.log_allowed
            && spans_decades(
                self.series.iter().flat_map(|s| s.band.mean.iter().copied()),
                1.3,
            )
    }

    /// (x, y) points with y mapped to the axis (log10 when log-scaled); drops values a log
    /// axis cannot show.
    fn points(&self, steps: &[f64], ys: &[f64], log: bool) -> Vec<(f64, f64)> {
        steps
            .iter()
            .zip(ys)
            .filter(|(_, y)| y.is_finite() && (!log || **y > 0.0))
            .map(|(&x, &y)| (x, if log { y.log10() } else { y }))
            .collect()
    }
}

impl Figure for CurveFigure {
    fn size(&self) -> (u32, u32) {
        (900, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let log = self.log_scale();
        let root = root.titled(&self.title, text(20)).map_err(plot_err)?;
        let extent: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| {
                let mut p = self.points(&s.band.steps, &s.band.min, log);
                p.extend(self.points(&s.band.steps, &s.band.max, log));
                p
            })
            .collect();
        let y_desc = if log {
            format!("{} (log scale)", self.y_label)
        } else {
            self.y_label.clone()
        };
        let format_y = |y: &f64| short_number(if log { 10f64.powf(*y) } else { *y });
        let mut chart = chart_over(
            &root,
            extent.into_iter(),
            ("training step", &y_desc),
            &format_y,
        )
        .map_err(|e| ReportError::Figure(e.to_string()))?; // the caller names the figure
        for (i, s) in self.series.iter().enumerate() {
            let colour = series_colour(i);
            let b = &s.band;
            let lower = self.points(&b.steps, &smooth(&b.min, self.smoothing), log);
            let upper = self.points(&b.steps, &smooth(&b.max, self.smoothing), log);
            if lower.len() > 1 && lower != upper {
                let mut outline = lower.clone();
                outline.extend(upper.iter().rev());
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        colour.mix(0.15).filled(),
                    )))
                    .map_err(plot_err)?;
            }
            chart
                .draw_series(LineSeries::new(
                    self.points(&b.steps, &b.mean, log),
                    colour.mix(0.25),
                ))
                .map_err(plot_err)?;
            let smoothed = self.points(&b.steps, &smooth(&b.mean, self.smoothing), log);
            labelled_line(&mut chart, smoothed, colour, false, &s.label)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// Curve figures side by side under one title (a sweep's loss curves, a panel per value).
pub struct CurvePanels {
    pub title: String,
    pub panels: Vec<CurveFigure>,
}

impl Figure for CurvePanels {
    fn size(&self) -> (u32, u32) {
        (620 * self.panels.len().max(1) as u32, 460)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let root = root.titled(&self.title, text(20)).map_err(plot_err)?;
        let areas = root.split_evenly((1, self.panels.len().max(1)));
        for (area, panel) in areas.iter().zip(&self.panels) {
            panel
                .draw(area)
                .map_err(|e| ReportError::Figure(format!("{}: {e}", panel.title)))?;
        }
        Ok(())
    }
}
