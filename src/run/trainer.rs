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
use super::interrupt;
use super::progress::Progress;
use super::quality::{QualityEval, one_line_summary};
use super::schedule_lr::warmup_lr;
use crate::data::{Batcher, ImageSet};
use crate::diffusion::{DiffusionSchedule, Objective, StepCoefficients};
use crate::model::{UNet, forward_at};
use crate::record::MetricRow;
use crate::record::best_fid::best_fids;
use crate::record::eval_table;
use crate::record::metrics::write_metrics;
use crate::rng::{Stream, normal_tensor, stream, stream_at};
use crate::spec::Experiment;

/// What one optimisation step measured.
struct StepResult {
    loss: f64,
    /// Global gradient norm before clipping.
    grad_norm: f64,
    lr: f64,
    /// Extra metrics of logging steps: the loss per quarter of 1..=T (improved-diffusion's
    /// q0–q3) and the loss's parts.
    logged: Vec<(String, f64)>,
}

/// Mean of `losses` grouped by which quarter of 1..=`t_max` each example's t falls in.
pub fn loss_by_quarter(ts: &[usize], losses: &[f32], t_max: usize) -> [Option<f64>; 4] {
    let mut sums = [(0.0f64, 0usize); 4];
    for (&t, &l) in ts.iter().zip(losses) {
        let q = ((t - 1) * 4 / t_max).min(3);
        sums[q].0 += l as f64;
        sums[q].1 += 1;
    }
    sums.map(|(sum, n)| (n > 0).then(|| sum / n as f64))
}

/// Wall time of each phase of the training step (`bench --phases`). Each mark waits for the
/// device to finish, which itself costs a little and hides overlap between phases.
pub struct PhaseClock {
    device: Device,
    last: Instant,
    /// (phase, seconds) summed over the steps timed, in step order.
    pub seconds: Vec<(&'static str, f64)>,
}

impl PhaseClock {
    pub fn new(device: &Device) -> Self {
        Self {
            device: device.clone(),
            last: Instant::now(),
            seconds: Vec::new(),
        }
    }

    /// Starts timing a step (time before this is not counted).
    pub fn restart(&mut self) {
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
    Diverged {
        step: u64,
        last_finite_loss: Option<f64>,
    },
    /// Ctrl-C or SIGTERM: stopped after `step` with a checkpoint written there.
    Interrupted {
        step: u64,
    },
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
    TrainState {
        model,
        ema,
        optimizer: optimizer_for(spec),
        step: 0,
        metrics: Vec::new(),
        last_loss: None,
        seconds: 0.0,
    }
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
    /// FID / IS / KID every `eval.quality_every` steps, when the spec asks for it.
    pub quality: Option<&'a QualityEval>,
}

impl Trainer<'_> {
    /// Writes the metrics recorded so far, then a checkpoint. In that order: a resume keeps
    /// the rows up to its checkpoint's step, so they must be on disk before the checkpoint is
    /// (the other order lost the rows since the last flush when a kill fell in between).
    pub fn checkpoint(&self, state: &TrainState) -> Result<(), String> {
        self.flush_metrics(state)?;
        let ckpt = CheckpointState {
            step: state.step,
            seed: self.spec.seed,
            rng: "every stream is ChaCha8 addressed by (seed, purpose, step); see src/rng.rs"
                .into(),
            last_loss: state.last_loss,
        };
        checkpoint::save(
            self.run_dir,
            &state.model,
            &state.ema,
            &state.optimizer,
            &ckpt,
            self.spec.train.keep_checkpoints,
            &self.best_fid_steps()?,
        )?;
        Ok(())
    }

    /// The checkpoints that gave each network's lowest FID so far: kept however old, since
    /// the paper's scores are taken there.
    fn best_fid_steps(&self) -> Result<Vec<u64>, String> {
        let table = self.run_dir.join(eval_table::FILE);
        if self.quality.is_none() || !table.exists() {
            return Ok(Vec::new());
        }
        let rows = eval_table::read_eval(&table)?;
        let best = best_fids(&rows, self.spec.eval.quality_samples);
        Ok(best.into_iter().map(|b| b.step).collect())
    }

    fn record_quality(&self, state: &TrainState, quality: &QualityEval) -> Result<(), String> {
        let report = quality
            .record(&state.ema, self.spec, self.run_dir, state.step)
            .map_err(|e| e.to_string())?;
        eprintln!("{}", one_line_summary(&self.spec.name, &report));
        Ok(())
    }

    pub fn flush_metrics(&self, state: &TrainState) -> Result<(), String> {
        write_metrics(
            &self.run_dir.join("metrics.parquet"),
            self.run_id,
            &state.metrics,
        )
    }

    /// One optimisation step at 0-based `step`; `logging` asks for the extra metrics.
    fn step(
        &self,
        state: &mut TrainState,
        batcher: &mut Batcher,
        step: u64,
        logging: bool,
        mut clock: Option<&mut PhaseClock>,
    ) -> StepResult {
        let mut mark = |phase: &'static str| {
            if let Some(clock) = clock.as_deref_mut() {
                clock.mark(phase);
            }
        };
        let spec = self.spec;
        let t_max = self.schedule.timesteps();
        let x0 = batcher.batch(step, &self.device); // [batch, c, h, w]
        let shape = x0.dims();
        let mut t_rng = stream_at(spec.seed, Stream::Timestep, step);
        let ts: Vec<usize> = (0..shape[0])
            .map(|_| t_rng.random_range(1..=t_max))
            .collect();
        let noise = normal_tensor(
            &mut stream_at(spec.seed, Stream::Noise, step),
            shape,
            &self.device,
        );
        // Dropout masks come from the backend's generator, reseeded from our stream each step.
        self.device
            .seed(stream_at(spec.seed, Stream::Dropout, step).next_u64());

        let coef = StepCoefficients::gather(self.schedule, &ts, &self.device);
        let x_t = coef.q_sample(x0.clone(), noise.clone());
        mark("batch, t, noise, q_sample");
        let out = forward_at(&state.model, x_t.clone(), &ts, spec.train.precision);
        let terms = self
            .objective
            .loss_terms(out, x0, x_t, noise, &coef, &ts, t_max);
        let loss = terms.loss.clone().mean();
        let loss_value = loss.clone().into_scalar::<f64>();
        mark("forward, loss read back");
        let mut result = StepResult {
            loss: loss_value,
            grad_norm: f64::NAN,
            lr: f64::NAN,
            logged: Vec::new(),
        };
        if !loss_value.is_finite() {
            return result;
        }
        if logging {
            let values = terms
                .loss
                .clone()
                .inner()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap_or_default();
            for (q, value) in loss_by_quarter(&ts, &values, t_max).into_iter().enumerate() {
                if let Some(v) = value {
                    result.logged.push((format!("loss_q{q}"), v));
                }
            }
            // The two parts of a hybrid loss, and the bound term of a `vlb` loss in bits/dim.
            for (name, part) in [("mse", &terms.mse), ("vb", &terms.vb)] {
                if let Some(part) = part {
                    result
                        .logged
                        .push((name.to_string(), part.clone().mean().into_scalar::<f64>()));
                }
            }
        }
        let mut grads = GradientsParams::from_grads(loss.backward(), &state.model);
        mark("backward");
        let grad_norm = clip_global_norm(&state.model, &mut grads, spec.train.grad_clip);
        mark("clipping (norm read back)");
        result.grad_norm = grad_norm;
        if !grad_norm.is_finite() {
            return result;
        }
        let lr = warmup_lr(spec.train.lr, spec.train.warmup_steps, step + 1);
        state.model = state.optimizer.step(lr, state.model.clone(), grads);
        mark("adam");
        state.ema = ema_update(state.ema.clone(), &state.model, spec.train.ema_decay);
        mark("ema");
        result.lr = lr;
        result
    }

    /// One optimisation step at 0-based `step` with no metrics kept (the benchmark's unit of
    /// work); returns the loss, read back from the device.
    pub fn train_step(
        &self,
        state: &mut TrainState,
        batcher: &mut Batcher,
        step: u64,
        clock: Option<&mut PhaseClock>,
    ) -> f64 {
        self.step(state, batcher, step, false, clock).loss
    }

    /// Trains from `state.step` to the spec's step count.
    pub fn train(&self, state: &mut TrainState, train_set: &ImageSet) -> Result<Outcome, String> {
        let spec = self.spec;
        let total = spec.train.steps;
        let mut batcher = Batcher::new(
            train_set,
            spec.train.batch_size,
            spec.data.random_flip,
            spec.seed,
        );
        let mut progress = Progress::new(&spec.name, state.step, total);
        let started = Instant::now();
        // A resumed run starts at a checkpoint; a fresh one has none yet.
        let mut checkpointed = (state.step > 0).then_some(state.step);
        while state.step < total {
            if interrupt::requested() {
                progress.finish();
                state.seconds += started.elapsed().as_secs_f64();
                if checkpointed != Some(state.step) {
                    self.checkpoint(state)?;
                }
                return Ok(Outcome::Interrupted { step: state.step });
            }
            let step = state.step;
            let done = step + 1;
            let logging = done % spec.train.log_every == 0 || done == total;
            let StepResult {
                loss,
                grad_norm,
                lr,
                logged,
            } = self.step(state, &mut batcher, step, logging, None);
            if !loss.is_finite() || !grad_norm.is_finite() {
                state.metrics.push(MetricRow::train(done, "loss", loss));
                state
                    .metrics
                    .push(MetricRow::train(done, "grad_norm", grad_norm));
                state.seconds += started.elapsed().as_secs_f64();
                progress.finish();
                self.flush_metrics(state)?;
                return Ok(Outcome::Diverged {
                    step: done,
                    last_finite_loss: state.last_loss,
                });
            }
            state.step = done;
            state.last_loss = Some(loss);
            if logging {
                state.metrics.push(MetricRow::train(done, "loss", loss));
                state.metrics.push(MetricRow::train(done, "lr", lr));
                state
                    .metrics
                    .push(MetricRow::train(done, "grad_norm", grad_norm));
                for (name, value) in logged {
                    state.metrics.push(MetricRow::train(done, &name, value));
                }
            }
            let every = spec.eval.quality_every;
            if let Some(quality) = self.quality
                && every > 0
                && done % every == 0
            {
                // Before the checkpoint: a kill during the evaluation resumes from the previous
                // checkpoint and evaluates this step again (its rows replace any partial ones).
                self.record_quality(state, quality)?;
            }
            if done % spec.train.checkpoint_every == 0 || done == total {
                self.checkpoint(state)?;
                checkpointed = Some(done);
            }
            progress.update(done, &format!("loss {loss:.4}"));
        }
        progress.finish();
        state.seconds += started.elapsed().as_secs_f64();
        Ok(Outcome::Completed)
    }
}

#[cfg(test)]
mod tests {
    use super::loss_by_quarter;

    #[test]
    fn quarters_split_one_to_t_evenly() {
        // T = 8: t 1–2 → q0, 3–4 → q1, 5–6 → q2, 7–8 → q3.
        let q = loss_by_quarter(&[1, 2, 3, 8, 8], &[1.0, 3.0, 5.0, 7.0, 9.0], 8);
        assert_eq!(q, [Some(2.0), Some(5.0), None, Some(8.0)]);
    }
}
