//! Drawing samples from a trained model's EMA weights, with progress.

use burn::prelude::*;
use rand_chacha::ChaCha8Rng;

use crate::diffusion::DiffusionSchedule;
use crate::model::UNet;
use crate::progress::Progress;
use crate::rng::{Stream, stream};
use crate::spec::Experiment;

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
