//! The noise schedule's graphs: β_t, ᾱ_t with 1 − ᾱ_t, log SNR(t) = ln(ᾱ_t / (1 − ᾱ_t)), and
//! the weight the spec's loss weighting gives each t's MSE (log axis), for one schedule or
//! several overlaid (linear against cosine, uniform against Min-SNR-γ).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::short_number;
use super::canvas::{Figure, chart_over, labelled_line, legend, plot_err, series_colour, text};
use crate::diffusion::{DiffusionSchedule, Objective};
use crate::report::ReportError;

pub struct ScheduleFigure {
    pub title: String,
    /// (label, schedule, objective whose weighting is drawn); one colour each.
    pub schedules: Vec<(String, DiffusionSchedule, Objective)>,
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

/// Two points that widen a flat panel (a uniform weight is 1 at every t) to a unit of its
/// axis around its value, so the ticks read 0.3 … 3 instead of a column of 1s.
fn min_span(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let Some(&(x, _)) = points.first() else {
        return Vec::new();
    };
    match hi - lo < 1e-6 {
        true => vec![(x, lo - 0.5), (x, hi + 0.5)],
        false => Vec::new(),
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (title, y_label): (&str, &str),
    lines: &[Line],
    format_y: &dyn Fn(&f64) -> String,
) -> Result<(), ReportError> {
    let area = area.titled(title, text(16)).map_err(plot_err)?;
    let points: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|l| l.points.iter().copied())
        .collect();
    let mut chart = chart_over(
        &area,
        points.iter().copied().chain(min_span(&points)),
        ("t", y_label),
        format_y,
    )
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
        (1800, 430)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        let root = root.titled(&self.title, text(20)).map_err(plot_err)?;
        let panels = root.split_evenly((1, 4));
        let several = self.schedules.len() > 1;
        let line = |i: usize, label: String, dashed: bool, points| Line {
            label,
            colour: series_colour(i),
            dashed,
            points,
        };
        let (mut betas, mut alphas, mut snrs, mut weights) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, (label, s, objective)) in self.schedules.iter().enumerate() {
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
            let weight = |t| objective.loss_weight(s, t).log10();
            weights.push(line(i, name("weight"), false, trace(s, weight)));
        }
        let plain = |y: &f64| short_number(*y);
        panel(&panels[0], ("β_t", "β_t"), &betas, &plain)?;
        panel(&panels[1], ("ᾱ_t and 1 − ᾱ_t", ""), &alphas, &plain)?;
        let snr_title = ("log SNR = ln(ᾱ_t / (1 − ᾱ_t))", "log SNR");
        panel(&panels[2], snr_title, &snrs, &plain)?;
        // The weights span decades (Min-SNR's ε-weight falls as 1/SNR): a log10 axis.
        let power = |y: &f64| short_number(10f64.powf(*y));
        let weight_title = ("MSE weight per t (log axis)", "weight");
        panel(&panels[3], weight_title, &weights, &power)?;
        Ok(())
    }
}
