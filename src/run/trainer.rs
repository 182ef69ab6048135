//! The seeded training loop: batch → t and ε → q(x_t|x_0) → loss → global-norm clipping →
//! Adam with warm-up → EMA, with metrics, checkpoints and divergence detection.

use std::path::Path;
use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::{Rng, RngExt};

use super::checkpoint::{self, CheckpointState};
use super::ema::ema_update;
use super::grad_clip::clip_global_norm;
use super::progress::Progress;
use super::schedule_lr::warmup_lr;
use crate::data::{Batcher, ImageSet};
use crate::diffusion::{DiffusionSchedule, Objective, StepCoefficients};
use crate::model::UNet;
use crate::record::metrics::write_metrics;
use crate::record::MetricRow;
use crate::rng::{Stream, normal_tensor, stream, stream_at};
use crate::spec::Experiment;

/// Everything that changes as training goes on.
pub struct TrainState {
    pub model: UNet,
    pub ema: UNet,
    pub optimizer: ModuleOptimizer,
    /// Optimisation steps completed.
    pub step: u64,
    pub metrics: Vec<MetricRow>,
    pub last_loss: Option<f64>,
    /// Seconds spent in the loop, this session only.
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Completed,
    /// The loss (or gradient norm) stopped being finite at `step`.
    Diverged { step: u64, last_finite_loss: Option<f64> },
}

pub fn optimizer_for(spec: &Experiment) -> ModuleOptimizer {
    let t = &spec.train;
    AdamConfig::new()
        .with_beta_1(t.adam_beta1 as f32)
        .with_beta_2(t.adam_beta2 as f32)
        .with_epsilon(t.adam_eps as f32)
        .init()
}

/// A freshly initialised model (weights drawn from the seed's init stream), its EMA and Adam.
pub fn fresh_state(spec: &Experiment, device: &Device) -> TrainState {
    device.seed(stream(spec.seed, Stream::Init).next_u64());
    let model = spec.unet_config().init(device);
    let ema = model.valid();
    TrainState { model, ema, optimizer: optimizer_for(spec), step: 0, metrics: Vec::new(), last_loss: None, seconds: 0.0 }
}

/// Where and how a run trains.
pub struct Trainer<'a> {
    pub spec: &'a Experiment,
    pub schedule: &'a DiffusionSchedule,
    pub objective: Objective,
    /// An autodiff device.
    pub device: Device,
    pub run_dir: &'a Path,
    pub run_id: &'a str,
}

impl Trainer<'_> {
    /// Writes a checkpoint and the metrics recorded so far.
    pub fn checkpoint(&self, state: &TrainState) -> Result<(), String> {
        let ckpt = CheckpointState {
            step: state.step,
            seed: self.spec.seed,
            rng: "every stream is ChaCha8 addressed by (seed, purpose, step); see src/rng.rs".into(),
            last_loss: state.last_loss,
        };
        checkpoint::save(self.run_dir, &state.model, &state.ema, &state.optimizer, &ckpt, self.spec.train.keep_checkpoints)?;
        self.flush_metrics(state)
    }

    pub fn flush_metrics(&self, state: &TrainState) -> Result<(), String> {
        write_metrics(&self.run_dir.join("metrics.parquet"), self.run_id, &state.metrics)
    }

    /// One optimisation step at 0-based `step`; returns (loss, grad norm before clipping, lr).
    fn step(&self, state: &mut TrainState, batcher: &mut Batcher, step: u64) -> (f64, f64, f64) {
        let spec = self.spec;
        let t_max = self.schedule.timesteps();
        let x0 = batcher.batch(step, &self.device); // [batch, c, h, w]
        let shape = x0.dims();
        let mut t_rng = stream_at(spec.seed, Stream::Timestep, step);
        let ts: Vec<usize> = (0..shape[0]).map(|_| t_rng.random_range(1..=t_max)).collect();
        let noise = normal_tensor(&mut stream_at(spec.seed, Stream::Noise, step), shape, &self.device);
        // Dropout masks come from the backend's generator, reseeded from our stream each step.
        self.device.seed(stream_at(spec.seed, Stream::Dropout, step).next_u64());

        let coef = StepCoefficients::gather(self.schedule, &ts, &self.device);
        let x_t = coef.q_sample(x0.clone(), noise.clone());
        let out = state.model.forward(x_t.clone(), &ts);
        let loss = self.objective.training_loss(out, x0, x_t, noise, &coef);
        let loss_value = loss.clone().into_scalar::<f64>();
        if !loss_value.is_finite() {
            return (loss_value, f64::NAN, f64::NAN);
        }
        let mut grads = GradientsParams::from_grads(loss.backward(), &state.model);
        let grad_norm = clip_global_norm(&state.model, &mut grads, spec.train.grad_clip);
        if !grad_norm.is_finite() {
            return (loss_value, grad_norm, f64::NAN);
        }
        let lr = warmup_lr(spec.train.lr, spec.train.warmup_steps, step + 1);
        state.model = state.optimizer.step(lr, state.model.clone(), grads);
        state.ema = ema_update(state.ema.clone(), &state.model, spec.train.ema_decay);
        (loss_value, grad_norm, lr)
    }

    /// Trains from `state.step` to the spec's step count.
    pub fn train(&self, state: &mut TrainState, train_set: &ImageSet) -> Result<Outcome, String> {
        let spec = self.spec;
        let total = spec.train.steps;
        let mut batcher = Batcher::new(train_set, spec.train.batch_size, spec.data.random_flip, spec.seed);
        let mut progress = Progress::new(&spec.name, state.step, total);
        let started = Instant::now();
        while state.step < total {
            let step = state.step;
            let (loss, grad_norm, lr) = self.step(state, &mut batcher, step);
            let done = step + 1;
            if !loss.is_finite() || !grad_norm.is_finite() {
                state.metrics.push(MetricRow::train(done, "loss", loss));
                state.metrics.push(MetricRow::train(done, "grad_norm", grad_norm));
                state.seconds += started.elapsed().as_secs_f64();
                progress.finish();
                self.flush_metrics(state)?;
                return Ok(Outcome::Diverged { step: done, last_finite_loss: state.last_loss });
            }
            state.step = done;
            state.last_loss = Some(loss);
            if done % spec.train.log_every == 0 || done == total {
                state.metrics.push(MetricRow::train(done, "loss", loss));
                state.metrics.push(MetricRow::train(done, "lr", lr));
                state.metrics.push(MetricRow::train(done, "grad_norm", grad_norm));
            }
            if done % spec.train.checkpoint_every == 0 || done == total {
                self.checkpoint(state)?;
            }
            progress.update(done, &format!("loss {loss:.4}"));
        }
        progress.finish();
        state.seconds += started.elapsed().as_secs_f64();
        Ok(Outcome::Completed)
    }
}
