//! Drawing samples from a trained model's EMA weights, with progress.

use burn::prelude::*;
use rand_chacha::ChaCha8Rng;

use crate::diffusion::{DiffusionSchedule, SamplerKind};
use crate::error::Failure;
use crate::model::UNet;
use crate::progress::Progress;
use crate::rng::{Stream, stream};
use crate::spec::Experiment;
use crate::spec::validate::sampler_problem;

/// `count` samples as flattened [count, c, h, w] pixels in the model's output range.
/// The sampling stream starts afresh for every call, so two runs that share a seed (or two
/// cells of an ablation) start from the same x_T.
pub fn draw_samples(
    model: &UNet,
    spec: &Experiment,
    schedule: &DiffusionSchedule,
    count: usize,
    device: &Device,
) -> Vec<f32> {
    let mut rng = stream(spec.seed, Stream::Sampling);
    draw_samples_from(model, spec, schedule, count, device, &mut rng, "sampling")
}

/// `count` samples drawn with `rng` (which goes on where they left it), in one batch.
pub fn draw_samples_from(
    model: &UNet,
    spec: &Experiment,
    schedule: &DiffusionSchedule,
    count: usize,
    device: &Device,
    rng: &mut ChaCha8Rng,
    label: &str,
) -> Vec<f32> {
    let (channels, side) = spec.data.dataset.image_shape();
    let sampler = spec.chain_sampler(schedule);
    let steps = sampler.steps() as u64;
    let mut progress = Progress::new(&format!("{}: {label}", spec.name), 0, steps);
    let x0 = sampler.sample(
        [count, channels, side, side],
        device,
        rng,
        |x, t| model.forward(x, &vec![t; count]),
        |done| progress.update(done as u64, ""),
    );
    progress.finish();
    x0.into_data().try_to_vec::<f32>().expect("samples are f32")
}

/// A command's `--sampler`, `--steps`, `--eta`: `None` keeps the run's own `sample` settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct SamplerChoice {
    pub sampler: Option<SamplerKind>,
    pub steps: Option<usize>,
    pub eta: Option<f64>,
}

impl SamplerChoice {
    /// Lays the choice over `spec.sample`, checked as the spec's own would be; says whether it
    /// differs from the run's settings.
    pub fn apply(&self, spec: &mut Experiment) -> Result<bool, Failure> {
        let effective =
            |spec: &Experiment| (spec.sample.sampler, spec.sample_steps(), spec.sample.eta);
        let before = effective(spec);
        let t_max = spec.diffusion.timesteps;
        let s = &mut spec.sample;
        s.sampler = self.sampler.unwrap_or(s.sampler);
        s.steps = self.steps.or(s.steps);
        // η belongs to DDIM: switching a DDIM run to ancestral leaves its η behind.
        let kept_eta = if s.sampler == SamplerKind::Ancestral {
            0.0
        } else {
            s.eta
        };
        s.eta = self.eta.unwrap_or(kept_eta);
        if let Some((key, why)) = sampler_problem(s, t_max) {
            let flag = key.trim_start_matches("sample.");
            return Err(Failure::BadInput(format!(
                "--{flag} (the run's {key}): {why}"
            )));
        }
        Ok(effective(spec) != before)
    }

    /// How `spec` samples, for labels: "ddim, 50 steps, η 0".
    pub fn describe(spec: &Experiment) -> String {
        let steps = spec.sample_steps();
        let kind = spec.sample.sampler.name();
        match spec.sample.sampler {
            SamplerKind::Ddim => format!("{kind}, {steps} steps, η {}", spec.sample.eta),
            SamplerKind::Ancestral => format!("{kind}, {steps} steps"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_a_ddim_run_to_ancestral_leaves_its_eta_behind() {
        let mut spec = Experiment::default();
        spec.sample.sampler = SamplerKind::Ddim;
        spec.sample.eta = 0.5;
        let choice = SamplerChoice {
            sampler: Some(SamplerKind::Ancestral),
            ..SamplerChoice::default()
        };
        assert_eq!(choice.apply(&mut spec).ok(), Some(true));
        assert_eq!(spec.sample.eta, 0.0);
        // Asked for explicitly, η with the ancestral sampler is still refused.
        let choice = SamplerChoice {
            eta: Some(0.5),
            ..choice
        };
        assert!(choice.apply(&mut spec).is_err());
    }
}
