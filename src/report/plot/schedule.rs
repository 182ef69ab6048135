//! The noise schedule's graphs: β_t, ᾱ_t with 1 − ᾱ_t, and log SNR(t) = ln(ᾱ_t / (1 − ᾱ_t)),
//! for one schedule or several overlaid (linear against cosine).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::short_number;
use super::canvas::{Figure, chart_over, labelled_line, legend, plot_err, series_colour, text};
use crate::diffusion::DiffusionSchedule;
use crate::report::ReportError;

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
) -> Result<(), ReportError> {
    let area = area.titled(title, text(16)).map_err(plot_err)?;
    let points = lines.iter().flat_map(|l| l.points.iter().copied());
    let mut chart = chart_over(&area, points, ("t", y_label), &|y| short_number(*y))
        .map_err(|e| ReportError::Figure(format!("{title}: {e}")))?;
    for line in lines {
        labelled_line(
            &mut chart,
            line.points.clone(),
            line.colour,
            line.dashed,
            &line.label,
        )?;
    }
    legend(&mut chart, SeriesLabelPosition::MiddleRight)
}

impl Figure for ScheduleFigure {
    fn size(&self) -> (u32, u32) {
        (1350, 430)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
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
