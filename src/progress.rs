//! Progress on stderr: an indicatif bar on a terminal, plain periodic lines otherwise (logs, CI),
//! so stdout stays free for the run directory's path.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    unit: Unit,
    total: u64,
    first_step: u64,
    started: Instant,
    last_line: Instant,
    line_every: Duration,
}

/// What a progress counts: the lines and the bar say steps or bytes (with their rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Steps,
    /// Work counted in images (feature passes, decoding): "images" and images/s.
    Images,
    Bytes,
}

impl Progress {
    /// Progress over steps `first_step..total` of the work named `label`.
    pub fn new(label: &str, first_step: u64, total: u64) -> Self {
        Self::counting(label, first_step, total, Unit::Steps)
    }

    /// Progress over `total` images: images done, images/s.
    pub fn images(label: &str, total: u64) -> Self {
        Self::counting(label, 0, total, Unit::Images)
    }

    /// Progress of a download of `total` bytes: bytes done, total, rate and ETA.
    pub fn bytes(label: &str, total: u64) -> Self {
        Self::counting(label, 0, total, Unit::Bytes)
    }

    fn counting(label: &str, first_step: u64, total: u64, unit: Unit) -> Self {
        let template = match unit {
            Unit::Steps => "{prefix} [{bar:30}] {pos}/{len} {msg} {per_sec} ETA {eta}",
            Unit::Images => "{prefix} [{bar:30}] {pos}/{len} images {per_sec} ETA {eta}",
            Unit::Bytes => "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("template is valid")
                    .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar.set_position(first_step);
            bar.reset_eta();
            bar
        });
        let now = Instant::now();
        Self {
            bar,
            label: label.to_string(),
            unit,
            total,
            first_step,
            started: now,
            last_line: now,
            line_every: Duration::from_secs(10),
        }
    }

    /// Reports that `step` is done; `message` (e.g. the loss) is shown beside it.
    pub fn update(&mut self, step: u64, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(step);
            bar.set_message(message.to_string());
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last_line) >= self.line_every || step == self.total {
            self.last_line = now;
            let rate = self.rate(step);
            let eta = if rate > 0.0 {
                self.total.saturating_sub(step) as f64 / rate
            } else {
                f64::NAN
            };
            let eta = format_seconds(eta);
            eprintln!("{}", self.line(step, message, rate, &eta));
        }
    }

    /// One plain progress line, in the unit of the work.
    fn line(&self, step: u64, message: &str, rate: f64, eta: &str) -> String {
        let (label, total) = (&self.label, self.total);
        match self.unit {
            Unit::Steps => {
                format!("{label}: step {step}/{total} {message} {rate:.2} steps/s ETA {eta}")
            }
            Unit::Images => format!("{label}: {step}/{total} images {rate:.2} images/s ETA {eta}"),
            Unit::Bytes => format!(
                "{label}: {}/{} {}/s ETA {eta}",
                HumanBytes(step),
                HumanBytes(total),
                HumanBytes(rate as u64),
            ),
        }
    }

    /// Steps per second since this progress began.
    pub fn rate(&self, step: u64) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            (step - self.first_step) as f64 / secs
        } else {
            0.0
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

fn format_seconds(s: f64) -> String {
    if !s.is_finite() {
        return "?".into();
    }
    let s = s.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_pass_counts_images_not_steps() {
        let images = Progress::images("inception-v3: features", 128);
        let line = images.line(128, "", 25311.03, "0:00:00");
        assert_eq!(
            line,
            "inception-v3: features: 128/128 images 25311.03 images/s ETA 0:00:00"
        );
        let steps = Progress::new("tiny", 0, 12);
        assert!(
            steps
                .line(6, "loss 0.5", 2.0, "?")
                .contains("step 6/12 loss 0.5 2.00 steps/s")
        );
    }
}
