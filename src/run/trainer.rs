//! The training loop around [`TrainStep`]: from the run's current step to the spec's last, it
//! records the metrics, writes checkpoints, scores sample quality when the spec asks, stops
//! cleanly on Ctrl-C / SIGTERM and on divergence.

use std::time::Instant;

use super::eval_quality::{QualityEval, one_line_summary};
use super::live_view::{show_checkpoint_samples, show_quality};
use super::train_step::{Networks, StepResult, TrainStep};
use crate::data::Images;
use crate::error::Failure;
use crate::interrupt;
use crate::progress::Progress;
use crate::record::best_fid::best_fids;
use crate::record::run_folder::checkpoint::{CheckpointState, Weights};
use crate::record::{MetricRow, RecordError, RunFolder};
use crate::spec::Experiment;
use crate::tracking::RunTracker;

/// Everything that changes as training goes on.
pub struct TrainState {
    pub nets: Networks,
    /// Optimisation steps completed.
    pub step: u64,
    pub metrics: Vec<MetricRow>,
    pub last_loss: Option<f64>,
    /// Seconds spent in the loop, this session only.
    pub seconds: f64,
    /// Seconds the sessions before this one spent in the loop, up to the checkpoint resumed.
    pub seconds_before: f64,
}

impl TrainState {
    /// Step 0 of a new run (see [`Networks::fresh`]).
    pub fn fresh(spec: &Experiment, device: &burn::prelude::Device) -> Self {
        Self {
            nets: Networks::fresh(spec, device),
            step: 0,
            metrics: Vec::new(),
            last_loss: None,
            seconds: 0.0,
            seconds_before: 0.0,
        }
    }
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

/// A run's training: its step, its folder, and its quality scorer.
pub struct Trainer<'a> {
    pub step: TrainStep<'a>,
    pub folder: &'a RunFolder,
    /// FID / IS / KID every `eval.quality_every` steps, when the spec asks for it.
    pub quality: Option<&'a QualityEval>,
    /// TensorBoard's event file, unless the spec turns it off.
    pub tracker: Option<&'a RunTracker>,
}

impl Trainer<'_> {
    fn spec(&self) -> &Experiment {
        self.step.spec
    }

    /// Writes the metrics recorded so far, then a checkpoint. In that order: a resume keeps
    /// the rows up to its checkpoint's step, so they must be on disk before the checkpoint is
    /// (the other order lost the rows since the last flush when a kill fell in between).
    pub fn checkpoint(&self, state: &TrainState) -> Result<(), Failure> {
        self.folder.write_metrics(&state.metrics)?;
        let ckpt = CheckpointState {
            step: state.step,
            seed: self.spec().seed,
            rng: "every stream is ChaCha8 addressed by (seed, purpose, step); see src/rng.rs"
                .into(),
            last_loss: state.last_loss,
            timestep_history: state.nets.timesteps.history().cloned(),
        };
        let ema = state.nets.ema();
        let weights = Weights {
            model: &state.nets.model,
            ema: &ema,
            adam: state.nets.update.moments(),
            layout: state.nets.update.layout(),
        };
        let keep = self.spec().train.keep_checkpoints;
        self.folder
            .save_checkpoint(weights, &ckpt, keep, &self.best_fid_steps()?)?;
        // Beside the checkpoint, not in it: its bytes must not depend on the clock.
        let seconds = state.seconds_before + state.seconds;
        self.folder.write_train_seconds(state.step, seconds)?;
        // Not on the way out after Ctrl-C: stopping should not wait for sampling.
        if interrupt::requested() {
            return Ok(());
        }
        let device = &self.step.device;
        show_checkpoint_samples(self.tracker, self.spec(), &ema, state.step, device)
    }

    /// The checkpoints that gave each network's lowest FID so far: kept however old, since
    /// the paper's scores are taken there.
    fn best_fid_steps(&self) -> Result<Vec<u64>, RecordError> {
        if self.quality.is_none() {
            return Ok(Vec::new());
        }
        let Some(rows) = self.folder.read_eval()? else {
            return Ok(Vec::new());
        };
        let split = self.spec().in_training_split();
        let best = best_fids(&rows, self.spec().eval.quality_samples, &split);
        Ok(best.into_iter().map(|b| b.step).collect())
    }

    /// Trains from `state.step` to the spec's step count.
    pub fn train(&self, state: &mut TrainState, train_set: &Images) -> Result<Outcome, Failure> {
        let spec = self.spec();
        let total = spec.train.steps;
        let (batch, flip) = (spec.train.batch_size, spec.data.random_flip);
        let memory = spec.data.loader_options().memory_bytes;
        let mut batches = train_set.batches(batch, flip, spec.seed, memory);
        let mut progress = Progress::new(&spec.name, state.step, total);
        // `state.seconds` is this session's: it starts at 0 and is set from this clock.
        let started = Instant::now();
        // A resumed run starts at a checkpoint; a fresh one has none yet.
        let mut checkpointed = (state.step > 0).then_some(state.step);
        while state.step < total {
            if interrupt::requested() {
                self.stop_early(state, checkpointed, &progress, started)?;
                return Ok(Outcome::Interrupted { step: state.step });
            }
            let done = state.step + 1;
            let logging = done % spec.train.log_every == 0 || done == total;
            let x0 = match batches.batch(state.step, &self.step.device) {
                Ok(x0) => x0,
                Err(unreadable) => {
                    // A file broke after the start: keep the steps done, name the file.
                    self.stop_early(state, checkpointed, &progress, started)?;
                    return Err(unreadable.into());
                }
            };
            let result = self
                .step
                .run(&mut state.nets, x0, state.step, logging, &mut |_| {});
            if result.diverged() {
                record_divergence(state, &result);
                let rows = state.metrics.len();
                self.show_rows(done, &state.metrics[rows - 2..])?;
                state.seconds = started.elapsed().as_secs_f64();
                progress.finish();
                self.folder.write_metrics(&state.metrics)?;
                return Ok(Outcome::Diverged {
                    step: done,
                    last_finite_loss: state.last_loss,
                });
            }
            self.after_step(state, result, logging)?;
            if done % spec.train.checkpoint_every == 0 || done == total {
                state.seconds = started.elapsed().as_secs_f64();
                self.checkpoint(state)?;
                checkpointed = Some(done);
            }
            progress.update(done, &format!("loss {:.4}", state.last_loss.unwrap_or(0.0)));
        }
        progress.finish();
        state.seconds = started.elapsed().as_secs_f64();
        Ok(Outcome::Completed)
    }

    /// Leaves the loop before the spec's last step: the bar closed, the time counted, and a
    /// checkpoint at `state.step` unless the last one is there.
    fn stop_early(
        &self,
        state: &mut TrainState,
        checkpointed: Option<u64>,
        progress: &Progress,
        started: Instant,
    ) -> Result<(), Failure> {
        progress.finish();
        state.seconds = started.elapsed().as_secs_f64();
        if checkpointed != Some(state.step) {
            self.checkpoint(state)?;
        }
        Ok(())
    }

    /// Counts a finished step, records its metrics, and scores quality when it is due (before
    /// the checkpoint: a kill during the evaluation resumes from the previous checkpoint and
    /// evaluates this step again, its rows replacing any partial ones).
    fn after_step(
        &self,
        state: &mut TrainState,
        result: StepResult,
        logging: bool,
    ) -> Result<(), Failure> {
        state.step += 1;
        let done = state.step;
        state.last_loss = Some(result.loss);
        if logging {
            let first = state.metrics.len();
            let rows = &mut state.metrics;
            rows.push(MetricRow::train(done, "loss", result.loss));
            rows.extend(result.lr.map(|lr| MetricRow::train(done, "lr", lr)));
            rows.extend(
                result
                    .grad_norm
                    .map(|g| MetricRow::train(done, "grad_norm", g)),
            );
            for (name, value) in result.logged {
                rows.push(MetricRow::train(done, &name, value));
            }
            self.show_rows(done, &state.metrics[first..])?;
        }
        let every = self.spec().eval.quality_every;
        if let Some(quality) = self.quality
            && every > 0
            && done % every == 0
        {
            let sampling = self.spec().in_training_sampling();
            let specs = (self.spec(), &sampling);
            let report = quality.record(&state.nets.ema(), specs, self.folder, done)?;
            eprintln!("{}", one_line_summary(&self.spec().name, &report));
            show_quality(self.tracker, &report)?;
        }
        Ok(())
    }

    /// One log line's rows, to TensorBoard at once.
    fn show_rows(&self, step: u64, rows: &[MetricRow]) -> Result<(), Failure> {
        let Some(tracker) = self.tracker else {
            return Ok(());
        };
        let scalars: Vec<(String, f64)> = rows.iter().map(|r| (r.name.clone(), r.value)).collect();
        tracker.train_rows(step, &scalars)?;
        Ok(tracker.flush()?)
    }
}

/// The diverged step's loss and gradient norm (NaN where it was not computed), kept as the
/// run's last rows.
fn record_divergence(state: &mut TrainState, result: &StepResult) {
    let done = state.step + 1;
    let grad_norm = result.grad_norm.unwrap_or(f64::NAN);
    state
        .metrics
        .push(MetricRow::train(done, "loss", result.loss));
    state
        .metrics
        .push(MetricRow::train(done, "grad_norm", grad_norm));
}
