//! Throughput of the harness's own training step and sampler (`ddpm-exp bench`), measured
//! the way `bench/torch_reference.py` measures the PyTorch eager reference, so that
//! `bench/run.sh` can put the two side by side: same UNet, batch, device and step.
//!
//! The training step is the trainer's (host-side seeded batch, t and ε, upload, forward,
//! loss, backward, clipping, Adam, EMA, loss read back); the data are uniform random images,
//! since throughput does not depend on pixel values and the paper's data may not be on the
//! machine.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::prelude::*;
use rand::RngExt;
use serde::Serialize;

use crate::data::{Batcher, ImageSet};
use crate::error::Failure;
use crate::model::{UNet, UNetConfig, forward_at};
use crate::progress::Progress;
use crate::rng::{Stream, normal_tensor, stream, stream_at};
use crate::run::train_step::{Networks, TrainStep};
use crate::spec::{Experiment, Overrides, ResolvedSpec, SpecError};

/// The spec to measure. The bench trains on random images, so no dataset folder is read and
/// none must exist (`data.dir=.` comes first, so the user's own `--set data.dir` still wins).
pub fn load_bench_spec(
    path: &Path,
    profile: Option<&str>,
    overrides: &Overrides,
) -> Result<ResolvedSpec, SpecError> {
    let mut overrides = overrides.clone();
    overrides.set.insert(0, "data.dir=.".to_string());
    crate::spec::load(path, profile, &overrides)
}

/// Wall time of each phase of the training step (`bench --phases`). Each mark waits for the
/// device to finish, which itself costs a little and hides overlap between phases.
struct PhaseClock {
    device: Device,
    last: Instant,
    /// (phase, seconds) summed over the steps timed, in step order.
    seconds: Vec<(&'static str, f64)>,
}

impl PhaseClock {
    fn new(device: &Device) -> Self {
        Self {
            device: device.clone(),
            last: Instant::now(),
            seconds: Vec::new(),
        }
    }

    /// Starts timing a step (time before this is not counted).
    fn restart(&mut self) {
        let _ = self.device.sync();
        self.last = Instant::now();
    }

    fn mark(&mut self, phase: &'static str) {
        let _ = self.device.sync();
        let now = Instant::now();
        let elapsed = (now - self.last).as_secs_f64();
        self.last = now;
        match self.seconds.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, total)) => *total += elapsed,
            None => self.seconds.push((phase, elapsed)),
        }
    }
}

/// How much to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Untimed steps first (allocator, cuDNN autotuning, kernel caches).
    pub warmup_steps: u64,
    pub train_steps: u64,
    /// Images sampled together in one batch (0 skips sampling).
    pub sample_images: usize,
    /// Reverse steps timed, from t = T down; the full chain's time is extrapolated.
    pub sample_steps: usize,
    /// After the timed steps, time this many more phase by phase (waiting for the device
    /// between phases), to see where a step's time goes.
    pub phase_steps: u64,
}

/// What was measured; field names match the PyTorch reference's JSON.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    #[serde(rename = "impl")]
    pub implementation: String,
    pub device: String,
    pub backend: String,
    /// `fp32`, or `bf16` mixed precision (train.precision).
    pub dtype: String,
    /// The network measured, for the reference to build the same one.
    pub model: UNetConfig,
    pub params: usize,
    pub batch: usize,
    pub image_shape: [usize; 3],
    pub train_steps: u64,
    pub train_seconds: f64,
    pub train_steps_per_s: f64,
    pub final_loss: f64,
    pub sample_images: usize,
    pub sample_steps: usize,
    pub sample_seconds: f64,
    /// Seconds for the full T-step chain (measured when `sample_steps` = T).
    pub sample_seconds_full: f64,
    pub sample_images_per_s: f64,
    pub timesteps: usize,
    /// Milliseconds per step in each phase of the training step (empty without --phases).
    pub phase_ms: Vec<(String, f64)>,
}

/// Uniform random images in [−1, 1] with the spec's image shape, drawn from the seed.
fn random_images(spec: &Experiment, count: usize) -> ImageSet {
    let (channels, side) = spec.data.image_shape();
    let mut rng = stream_at(spec.seed, Stream::Data, u32::MAX as u64);
    let pixels = (0..count * channels * side * side)
        .map(|_| rng.random_range(-1.0f32..=1.0))
        .collect();
    ImageSet {
        channels,
        height: side,
        width: side,
        pixels,
        labels: vec![0; count],
    }
}

pub fn run_bench(spec: &Experiment, options: &BenchOptions) -> Result<BenchResult, Failure> {
    let precision = spec.train.precision;
    let device = spec.device.training_device(precision)?;
    let schedule = spec.schedule();
    let batch = spec.train.batch_size;
    let images = random_images(spec, batch * 4);
    let step = TrainStep::new(spec, &schedule, &device);
    let mut nets = Networks::fresh(spec, &step.device);
    let params = nets.model.num_params();
    let mut batcher = Batcher::new(&images, batch, spec.data.random_flip, spec.seed);
    let (train_seconds, final_loss) = time_training(&step, &mut nets, &mut batcher, options);
    let phase_ms = time_phases(&step, &mut nets, &mut batcher, options);
    let t_max = schedule.timesteps();
    let sample_steps = options.sample_steps.min(t_max);
    let sample_seconds = if options.sample_images > 0 && sample_steps > 0 {
        time_sampling(
            spec,
            &nets.ema(),
            options.sample_images,
            sample_steps,
            &device,
        )
    } else {
        0.0
    };
    let sample_seconds_full = sample_seconds * t_max as f64 / sample_steps.max(1) as f64;
    let (channels, side) = spec.data.image_shape();
    Ok(BenchResult {
        implementation: "ddpm-exp".into(),
        device: spec.device.to_string(),
        backend: spec.device.backend().into(),
        dtype: precision.name().into(),
        model: spec.unet_config(),
        params,
        batch,
        image_shape: [channels, side, side],
        train_steps: options.train_steps,
        train_seconds,
        train_steps_per_s: options.train_steps as f64 / train_seconds,
        final_loss,
        sample_images: options.sample_images,
        sample_steps,
        sample_seconds,
        sample_seconds_full,
        sample_images_per_s: if sample_seconds > 0.0 {
            options.sample_images as f64 / sample_seconds_full
        } else {
            0.0
        },
        timesteps: t_max,
        phase_ms,
    })
}

/// Seconds for the timed training steps after the warm-up, and the last loss.
fn time_training(
    step: &TrainStep,
    nets: &mut Networks,
    batcher: &mut Batcher,
    options: &BenchOptions,
) -> (f64, f64) {
    let total = options.warmup_steps + options.train_steps;
    let label = format!("{}: train steps", step.spec.name);
    let mut progress = Progress::new(&label, 0, total);
    let mut started = Instant::now();
    let mut final_loss = f64::NAN;
    for k in 0..total {
        if k == options.warmup_steps {
            started = Instant::now();
        }
        // The step reads its loss back to the host, so the clock sees finished work.
        let x0 = batcher.tensor(k, &step.device);
        final_loss = step.run(nets, x0, k, false, &mut |_| {}).loss;
        progress.update(k + 1, &format!("loss {final_loss:.4}"));
    }
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    (seconds, final_loss)
}

/// Milliseconds per step in each phase, over `options.phase_steps` more steps.
fn time_phases(
    step: &TrainStep,
    nets: &mut Networks,
    batcher: &mut Batcher,
    options: &BenchOptions,
) -> Vec<(String, f64)> {
    let first = options.warmup_steps + options.train_steps;
    let mut clock = PhaseClock::new(&step.device);
    for k in first..first + options.phase_steps {
        clock.restart();
        let x0 = batcher.tensor(k, &step.device);
        step.run(nets, x0, k, false, &mut |phase| clock.mark(phase));
    }
    clock
        .seconds
        .iter()
        .map(|(phase, s)| (phase.to_string(), 1e3 * s / options.phase_steps as f64))
        .collect()
}

/// Seconds for `steps` reverse steps from t = T of `images` samples at once.
fn time_sampling(
    spec: &Experiment,
    model: &UNet,
    images: usize,
    steps: usize,
    device: &Device,
) -> f64 {
    let (precision, schedule) = (spec.train.precision, spec.schedule());
    let t_max = schedule.timesteps();
    let (channels, side) = spec.data.image_shape();
    let shape = [images, channels, side, side];
    let sampler = spec.sampler(&schedule);
    let mut rng = stream(spec.seed, Stream::Sampling);
    // One untimed network call warms the inference path's kernels.
    let noise = normal_tensor(&mut rng, shape, device);
    let warm = forward_at(model, noise, &vec![t_max; shape[0]], precision);
    let _ = warm.into_data();
    let mut progress = Progress::new(&format!("{}: sampling", spec.name), 0, steps as u64);
    let started = Instant::now();
    let mut x = normal_tensor(&mut rng, shape, device);
    for (done, t) in (t_max + 1 - steps..=t_max).rev().enumerate() {
        let out = forward_at(model, x.clone(), &vec![t; shape[0]], precision);
        x = sampler.step(out, x, t, || normal_tensor(&mut rng, shape, device));
        progress.update(done as u64 + 1, "");
    }
    let _ = x.into_data(); // waits for the device
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    seconds
}
