//! A metric against one swept key: a panel per metric, one series per setting of the other
//! swept keys, each point the mean over seeds with a ±1 std bar. Numbers are joined by lines
//! (on a log axis for geometric values); categories are points, the series nudged apart.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{
    Figure, chart_with_labels, legend, plot_err, series_colour, short_number, text,
};
use crate::report::ReportError;
use crate::report::sweep_axes::AxisScale;

/// One point: where on the key's axis (its value, or the category's index), mean and std.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    pub x: f64,
    pub mean: f64,
    pub std: Option<f64>,
}

pub struct SweepSeries {
    pub label: String,
    pub points: Vec<SweepPoint>,
}

pub struct SweepPanel {
    pub metric: String,
    pub series: Vec<SweepSeries>,
}

pub struct SweepMetricFigure {
    pub title: String,
    pub key: String,
    pub scale: AxisScale,
    /// The categories' labels (Categorical only), by index.
    pub categories: Vec<String>,
    pub panels: Vec<SweepPanel>,
}

const PANEL_WIDTH: u32 = 520;
const PANEL_HEIGHT: u32 = 380;
/// Panels per row: five metrics wrap onto two rows instead of one 2,600 px strip.
const COLUMNS: usize = 3;

impl SweepMetricFigure {
    /// (rows, columns) of the panels.
    fn layout(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        (n.div_ceil(COLUMNS), n.min(COLUMNS))
    }

    /// x on the drawn axis: log10 on a log axis, nudged per series for categories.
    fn axis_x(&self, x: f64, series: usize, of: usize) -> f64 {
        match self.scale {
            AxisScale::Log => x.log10(),
            AxisScale::Linear => x,
            AxisScale::Categorical => x + 0.12 * (series as f64 - (of as f64 - 1.0) / 2.0),
        }
    }

    fn x_label(&self, x: f64) -> String {
        match self.scale {
            AxisScale::Log => short_number(10f64.powf(x)),
            AxisScale::Linear => short_number(x),
            AxisScale::Categorical => {
                let i = x.round();
                let on_tick = (x - i).abs() < 1e-6 && i >= 0.0;
                let label = self.categories.get(i as usize).filter(|_| on_tick);
                label.cloned().unwrap_or_default()
            }
        }
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &SweepPanel,
        with_legend: bool,
    ) -> Result<(), ReportError> {
        let area = area.titled(&panel.metric, text(16)).map_err(plot_err)?;
        let n = panel.series.len();
        let mut extent: Vec<(f64, f64)> = Vec::new();
        for (i, s) in panel.series.iter().enumerate() {
            for p in &s.points {
                let (x, spread) = (self.axis_x(p.x, i, n), p.std.unwrap_or(0.0));
                extent.extend([(x, p.mean - spread), (x, p.mean + spread)]);
            }
        }
        if let (AxisScale::Categorical, Some(&(_, y))) = (self.scale, extent.first()) {
            let last = self.categories.len() as f64 - 0.5;
            extent.extend([(-0.5, y), (last, y)]);
        }
        let format_x = |x: &f64| self.x_label(*x);
        let mut chart = chart_with_labels(
            &area,
            extent.into_iter(),
            (&self.key, &panel.metric),
            (&format_x, &|y| short_number(*y)),
        )
        .map_err(|e| ReportError::Figure(format!("{}: {e}", panel.metric)))?;
        for (i, s) in panel.series.iter().enumerate() {
            self.draw_series(&mut chart, s, i, n)?;
        }
        match with_legend {
            true => legend(&mut chart, SeriesLabelPosition::UpperRight),
            false => Ok(()),
        }
    }

    fn draw_series<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut super::canvas::Chart<'a, DB>,
        s: &SweepSeries,
        i: usize,
        n: usize,
    ) -> Result<(), ReportError> {
        let colour = series_colour(i);
        let style = colour.stroke_width(2);
        let at: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|p| (self.axis_x(p.x, i, n), p.mean))
            .collect();
        let bars = s.points.iter().zip(&at).filter_map(|(p, &(x, y))| {
            let spread = p.std?;
            Some(ErrorBar::new_vertical(
                x,
                y - spread,
                y,
                y + spread,
                style,
                8,
            ))
        });
        chart.draw_series(bars).map_err(plot_err)?;
        if self.scale != AxisScale::Categorical {
            chart
                .draw_series(LineSeries::new(at.clone(), style))
                .map_err(plot_err)?;
        }
        chart
            .draw_series(at.iter().map(|&p| Circle::new(p, 4, colour.filled())))
            .map_err(plot_err)?
            .label(&s.label)
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
        Ok(())
    }
}

impl Figure for SweepMetricFigure {
    fn size(&self) -> (u32, u32) {
        let (rows, columns) = self.layout();
        (
            PANEL_WIDTH * columns as u32,
            40 + PANEL_HEIGHT * rows as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let root = root.titled(&self.title, text(20)).map_err(plot_err)?;
        let areas = root.split_evenly(self.layout());
        // Every panel has the same series: one legend, in the first.
        for (i, (area, panel)) in areas.iter().zip(&self.panels).enumerate() {
            self.draw_panel(area, panel, i == 0)?;
        }
        Ok(())
    }
}
