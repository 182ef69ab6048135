//! The noise schedule's graphs: β_t, ᾱ_t with 1 − ᾱ_t, and log SNR(t) = ln(ᾱ_t / (1 − ᾱ_t)),
//! for one schedule or several overlaid (linear against cosine).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{Figure, plot_err, series_colour, text};
use super::curves::short_number;
use crate::diffusion::DiffusionSchedule;

pub struct ScheduleFigure {
    pub title: String,
    /// (label, schedule) pairs; one colour each.
    pub schedules: Vec<(String, DiffusionSchedule)>,
}

struct Line {
    label: String,
    colour: RGBColor,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

fn trace(schedule: &DiffusionSchedule, f: impl Fn(usize) -> f64) -> Vec<(f64, f64)> {
    (1..=schedule.timesteps())
        .map(|t| (t as f64, f(t)))
        .filter(|(_, y)| y.is_finite())
        .collect()
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    lines: &[Line],
) -> Result<(), String> {
    let pts = lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in pts {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if !x0.is_finite() {
        return Err(format!("{title}: nothing to plot"));
    }
    let pad = ((y1 - y0) * 0.05).max(1e-6);
    let mut chart = ChartBuilder::on(area)
        .caption(title, text(17))
        .margin(10)
        .x_label_area_size(38)
        .y_label_area_size(62)
        .build_cartesian_2d(x0..x1.max(x0 + 1.0), (y0 - pad)..(y1 + pad))
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("t")
        .y_desc(y_label)
        .label_style(text(12))
        .axis_desc_style(text(14))
        .x_labels(6)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| short_number(*y))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(plot_err)?;
    for line in lines {
        let colour = line.colour;
        let style = colour.stroke_width(2);
        let drawn = if line.dashed {
            chart
                .draw_series(DashedLineSeries::new(line.points.clone(), 6, 4, style))
                .map_err(plot_err)?
        } else {
            chart
                .draw_series(LineSeries::new(line.points.clone(), style))
                .map_err(plot_err)?
        };
        drawn.label(&line.label).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
        });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .label_font(text(12))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

impl Figure for ScheduleFigure {
    fn size(&self) -> (u32, u32) {
        (1350, 430)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = root.titled(&self.title, text(20)).map_err(plot_err)?;
        let panels = root.split_evenly((1, 3));
        let several = self.schedules.len() > 1;
        let line = |i: usize, label: String, dashed: bool, points| Line {
            label,
            colour: series_colour(i),
            dashed,
            points,
        };
        let (mut betas, mut alphas, mut snrs) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (label, s)) in self.schedules.iter().enumerate() {
            let name = |what: &str| {
                if several {
                    format!("{what} {label}")
                } else {
                    what.to_string()
                }
            };
            betas.push(line(i, name("β_t"), false, trace(s, |t| s.beta(t))));
            alphas.push(line(i, name("ᾱ_t"), false, trace(s, |t| s.alpha_bar(t))));
            let j = if several { i } else { i + 1 };
            alphas.push(line(
                j,
                name("1 − ᾱ_t"),
                true,
                trace(s, |t| 1.0 - s.alpha_bar(t)),
            ));
            snrs.push(line(i, name("log SNR"), false, trace(s, |t| s.snr(t).ln())));
        }
        panel(&panels[0], "β_t", "β_t", &betas)?;
        panel(&panels[1], "ᾱ_t and 1 − ᾱ_t", "", &alphas)?;
        panel(
            &panels[2],
            "log SNR = ln(ᾱ_t / (1 − ᾱ_t))",
            "log SNR",
            &snrs,
        )?;
        Ok(())
    }
}
