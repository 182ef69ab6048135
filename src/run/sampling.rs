//! Drawing samples from a trained model's EMA weights, with progress.

use burn::prelude::*;
use rand_chacha::ChaCha8Rng;

use crate::diffusion::DiffusionSchedule;
use crate::error::Failure;
use crate::model::UNet;
use crate::progress::Progress;
use crate::rng::{Stream, stream};
use crate::spec::{Experiment, SamplerChoice};

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
    let (channels, side) = spec.data.image_shape();
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

/// `count` samples drawn `batch` at a time from `rng` (one continuing stream), labelled
/// "WHAT a–b of N" in the progress bar.
pub fn draw_in_batches(
    model: &UNet,
    spec: &Experiment,
    (count, batch): (usize, usize),
    device: &Device,
    rng: &mut ChaCha8Rng,
    what: &str,
) -> Vec<f32> {
    let schedule = spec.schedule();
    let mut pixels = Vec::new();
    let mut done = 0;
    while done < count {
        let n = batch.min(count - done);
        let label = format!("{what} {}–{} of {count}", done + 1, done + n);
        pixels.extend(draw_samples_from(
            model, spec, &schedule, n, device, rng, &label,
        ));
        done += n;
    }
    pixels
}

/// A command's `--sampler`, `--steps`, `--eta` over the run's `sample` settings: the spec to
/// sample with, and whether it samples unlike the run's own (`--flag` named when it is bad).
pub fn apply_choice(
    spec: &Experiment,
    choice: &SamplerChoice,
) -> Result<(Experiment, bool), Failure> {
    match spec.with_sampler(choice) {
        Ok(sampling) => {
            let unlike = spec.samples_unlike(&sampling);
            Ok((sampling, unlike))
        }
        Err((key, why)) => {
            let flag = key.trim_start_matches("sample.");
            Err(Failure::BadInput(format!(
                "--{flag} (the run's {key}): {why}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diffusion::SamplerKind;

    #[test]
    fn switching_a_ddim_run_to_ancestral_leaves_its_eta_behind() {
        let mut spec = Experiment::default();
        spec.sample.sampler = SamplerKind::Ddim;
        spec.sample.eta = 0.5;
        let choice = SamplerChoice {
            sampler: Some(SamplerKind::Ancestral),
            ..SamplerChoice::default()
        };
        let (sampling, unlike) = apply_choice(&spec, &choice).unwrap();
        assert!(unlike);
        assert_eq!(sampling.sample.eta, 0.0);
        // Asked for explicitly, η with the ancestral sampler is still refused.
        let choice = SamplerChoice {
            eta: Some(0.5),
            ..choice
        };
        assert!(apply_choice(&spec, &choice).is_err());
    }
}
