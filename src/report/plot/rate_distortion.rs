//! The paper's Fig 5: distortion and rate against reverse-process steps, and distortion
//! against rate, one line per run.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{Figure, plot_err, series_colour, text};
use super::curves::short_number;
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
) -> Result<(), String> {
    let all = series.iter().flat_map(|(_, pts)| pts.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for p in all {
        (x0, x1, y0, y1) = (x0.min(x(p)), x1.max(x(p)), y0.min(y(p)), y1.max(y(p)));
    }
    if !x0.is_finite() || !y0.is_finite() {
        return Err("rate–distortion: no points".into());
    }
    let pad = ((y1 - y0) * 0.05).max(1e-6);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(62)
        .build_cartesian_2d(x0..x1.max(x0 + 1e-6), (y0 - pad)..(y1 + pad))
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(text(12))
        .axis_desc_style(text(14))
        .x_labels(6)
        .x_label_formatter(&|v| short_number(*v))
        .y_label_formatter(&|v| short_number(*v))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(plot_err)?;
    for (i, (label, pts)) in series.iter().enumerate() {
        let colour = series_colour(i);
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (x(p), y(p))),
                colour.stroke_width(2),
            ))
            .map_err(plot_err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .label_font(text(12))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

impl Figure for RateDistortionFigure {
    fn size(&self) -> (u32, u32) {
        (1350, 430)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = root.titled(&self.title, text(20)).map_err(plot_err)?;
        let panels = root.split_evenly((1, 3));
        let steps: (&str, Pick) = ("reverse process steps (T − t)", |p| {
            p.reverse_steps as f64
        });
        let rate: (&str, Pick) = ("rate (bits/dim)", |p| p.rate);
        let distortion: (&str, Pick) = ("distortion (RMSE, 0–255)", |p| p.distortion);
        panel(&panels[0], &self.series, steps, distortion)?;
        panel(&panels[1], &self.series, steps, rate)?;
        panel(&panels[2], &self.series, rate, distortion)?;
        Ok(())
    }
}
