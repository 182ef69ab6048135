//! A run from start to finish: check everything, make the run folder, record the resolved
//! spec and metadata, train, draw the sample grid, and mark how it ended. Also resumption.

use std::path::{Path, PathBuf};

use super::data_check::{check_data, digest_data};
use super::eval_nll::record_nll;
use super::eval_quality::{QualityEval, one_line_summary};
use super::live_view::{open_tracker, show_nll, show_quality, show_samples};
use super::sampling::draw_samples;
use super::train_step::{Networks, TrainStep};
use super::trainer::{Outcome, TrainState, Trainer};
use crate::data::Images;
use crate::diffusion::TimestepSampler;
use crate::error::Failure;
use crate::record::grid::write_grid;
use crate::record::meta::{DataDigest, Meta, Status, git_state, now};
use crate::record::{RecordError, RunFolder};
use crate::spec::{Experiment, load_resolved};
use crate::tracking::RunTracker;

/// How a run ended, for the caller's exit code and summary.
pub struct RunReport {
    pub run_dir: PathBuf,
    pub outcome: Outcome,
}

/// Starts a new run of `spec` under `out`.
pub fn start_run(spec: &Experiment, spec_file: &Path, out: &Path) -> Result<RunReport, Failure> {
    let device = spec.device.training_device(spec.train.precision)?;
    let (train_set, data_sha256) = digest_data(spec)?;
    let folder = RunFolder::create(out, &spec.name, spec.seed)?;
    let recorded = folder
        .lock()
        .map_err(Failure::from)
        .and_then(|lock| Ok((lock, record_start(spec, spec_file, &folder, data_sha256)?)));
    let (_lock, meta) = match recorded {
        Ok(recorded) => recorded,
        Err(e) => {
            // Nothing of this run is recorded yet: leave no half-made folder behind.
            folder.remove();
            return Err(e);
        }
    };
    let state = TrainState::fresh(spec, &device.clone().autodiff());
    continue_run(spec, &folder, meta, state, &train_set, &device)
}

/// Writes the new run's `spec.yaml` and its `meta.json` (status running).
fn record_start(
    spec: &Experiment,
    spec_file: &Path,
    folder: &RunFolder,
    data_sha256: DataDigest,
) -> Result<Meta, Failure> {
    let yaml = serde_yaml_ng::to_string(spec).expect("spec serialises");
    folder.write_spec(&yaml)?;
    let (git_sha, git_dirty) = git_state();
    let meta = Meta {
        run_id: folder.id(),
        name: spec.name.clone(),
        spec_file: spec_file.display().to_string(),
        status: Status::Running,
        seed: spec.seed,
        backend: spec.device.backend().to_string(),
        device: spec.device.to_string(),
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        burn_version: env!("DDPM_EXP_BURN_VERSION").to_string(),
        git_sha,
        git_dirty,
        started_at: now(),
        ended_at: None,
        steps_total: spec.train.steps,
        steps_done: 0,
        diverged_at_step: None,
        last_finite_loss: None,
        error: None,
        train_seconds: 0.0,
        steps_per_second: None,
        resumed_at_steps: Vec::new(),
        data_sha256: Some(data_sha256),
        requeues: 0,
    };
    folder.write_meta(&meta)?;
    Ok(meta)
}

/// Continues the run in `run_dir` from its newest checkpoint.
pub fn resume_run(run_dir: &Path) -> Result<RunReport, Failure> {
    let folder = RunFolder::open(run_dir)?;
    let _lock = folder.lock()?;
    folder.remove_partial_checkpoints();
    let spec = load_resolved(&folder.spec_path())?;
    let mut meta = folder.read_meta()?;
    if meta.status == Status::Ok {
        return Ok(RunReport {
            run_dir: run_dir.to_path_buf(),
            outcome: Outcome::Completed,
        });
    }
    let device = spec.device.training_device(spec.train.precision)?;
    let (train_set, data_sha256) = digest_data(&spec)?;
    check_data(&folder, &meta, &data_sha256)?;
    let mut state = match restore(&spec, &folder, &device) {
        Ok(state) => state,
        Err(e) => {
            // The run cannot go on as recorded: say so in its meta.json, touch nothing else.
            meta.status = Status::Failed;
            meta.error = Some(e.to_string());
            meta.ended_at = Some(now());
            let _ = folder.write_meta(&meta);
            return Err(e.into());
        }
    };
    state.seconds_before = seconds_before(&folder, &meta, state.step);
    meta.resumed_at_steps.push(state.step);
    meta.status = Status::Running;
    meta.ended_at = None;
    meta.error = None;
    continue_run(&spec, &folder, meta, state, &train_set, &device)
}

/// Training seconds up to checkpoint `step`: as written beside the checkpoints (a kill after
/// them leaves meta.json's count behind), else as meta.json has them (runs from before).
fn seconds_before(folder: &RunFolder, meta: &Meta, step: u64) -> f64 {
    match folder.read_train_seconds() {
        Some((at, seconds)) if at <= step && step > 0 => seconds,
        _ if step > 0 => meta.train_seconds,
        _ => 0.0,
    }
}

/// The training state at the run's newest checkpoint (fresh if it has none), with the metric
/// rows up to that checkpoint.
fn restore(
    spec: &Experiment,
    folder: &RunFolder,
    device: &burn::prelude::Device,
) -> Result<TrainState, RecordError> {
    let fresh = TrainState::fresh(spec, &device.clone().autodiff());
    if folder.checkpoints().is_empty() {
        return Ok(fresh);
    }
    let model = fresh.nets.model.clone();
    let ema = fresh.nets.ema();
    let loaded = folder
        .load_newest(model, ema, device)?
        .expect("the run holds a checkpoint (checked above, under the run's lock)");
    let step = loaded.state.step;
    let (kind, t_max) = (spec.train.timestep_sampler, spec.diffusion.timesteps);
    let history = loaded.state.timestep_history.clone();
    let timesteps = TimestepSampler::restore(kind, t_max, history).map_err(|why| {
        let checkpoint = folder.checkpoints_dir().join(format!("step_{step:08}"));
        RecordError::unreadable(&checkpoint, format!("cannot resume: {why}"))
    })?;
    // Rows logged after the checkpoint would be logged again: drop them.
    let metrics = folder
        .read_metrics()?
        .into_iter()
        .filter(|r| r.step <= step)
        .collect();
    Ok(TrainState {
        nets: Networks {
            timesteps,
            ..Networks::restored(spec, loaded.model, loaded.ema, loaded.adam)
        },
        step,
        metrics,
        last_loss: loaded.state.last_loss,
        seconds: 0.0,
        seconds_before: 0.0,
    })
}

/// Trains from `state` to the end, then draws the sample grid and the end-of-run scores, and
/// records in `meta.json` how it ended.
fn continue_run(
    spec: &Experiment,
    folder: &RunFolder,
    mut meta: Meta,
    mut state: TrainState,
    train_set: &Images,
    device: &burn::prelude::Device,
) -> Result<RunReport, Failure> {
    folder.write_meta(&meta)?;
    // Once the folder holds a run, whatever goes wrong is a failure of the run (exit 1).
    let result = open_tracker(spec, folder, &meta)
        .and_then(|tracker| {
            let tracker = tracker.as_ref();
            train_and_finish(spec, folder, &mut state, train_set, (device, tracker))
        })
        .map_err(Failure::while_running);
    record_end(&mut meta, &state, &result);
    folder.write_meta(&meta)?;
    Ok(RunReport {
        run_dir: folder.dir().to_path_buf(),
        outcome: result?,
    })
}

/// The quality scorers the spec asks for, training to the end, and [`finish`] if it got there.
fn train_and_finish(
    spec: &Experiment,
    folder: &RunFolder,
    state: &mut TrainState,
    train_set: &Images,
    (device, tracker): (&burn::prelude::Device, Option<&RunTracker>),
) -> Result<Outcome, Failure> {
    let wants_quality = spec.eval.quality_every > 0 || spec.eval.quality_at_end;
    let quality = if wants_quality {
        let count = spec.eval.quality_samples;
        Some(QualityEval::new(spec, None, count, device)?)
    } else {
        None
    };
    let schedule = spec.schedule();
    let trainer = Trainer {
        step: TrainStep::new(spec, &schedule, device),
        folder,
        quality: quality.as_ref(),
        tracker,
    };
    // A panic (a backend out of memory, a bug) still ends with a true meta.json: failed.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        trainer.train(state, train_set)
    }))
    .unwrap_or_else(|panic| {
        let message = format!("training panicked: {}", panic_message(&panic));
        Err(Failure::Failed(message))
    })?;
    if outcome == Outcome::Completed {
        finish(spec, folder, state, quality.as_ref(), (device, tracker))?;
    }
    Ok(outcome)
}

/// After the last step: the sample grid, then the end-of-run quality scores and test NLL the
/// spec asks for, all from the EMA weights.
fn finish(
    spec: &Experiment,
    folder: &RunFolder,
    state: &TrainState,
    quality: Option<&QualityEval>,
    (device, tracker): (&burn::prelude::Device, Option<&RunTracker>),
) -> Result<(), Failure> {
    let schedule = spec.schedule();
    let ema = state.nets.ema();
    let pixels = draw_samples(&ema, spec, &schedule, spec.sample.count, device);
    let (channels, side) = spec.data.image_shape();
    write_grid(
        &folder.samples_path(),
        &pixels,
        spec.sample.count,
        channels,
        side,
    )?;
    show_samples(tracker, folder, state.step)?;
    // The last step's in-training score stands for the end's when it sampled the same way.
    let every = spec.eval.quality_every;
    let scored_last_step =
        every > 0 && state.step % every == 0 && !spec.samples_unlike(&spec.in_training_sampling());
    if let Some(quality) = quality
        && spec.eval.quality_at_end
        && !scored_last_step
    {
        let report = quality.record(&ema, (spec, spec), folder, state.step)?;
        eprintln!("{}", one_line_summary(&spec.name, &report));
        show_quality(tracker, &report)?;
    }
    if spec.eval.nll_at_end {
        let nll = record_nll(&ema, spec, folder, state.step, device)?;
        eprintln!(
            "{}: test NLL {:.4} bits/dim on {} images",
            spec.name, nll.total_bits_per_dim, nll.images
        );
        show_nll(tracker, &nll)?;
    }
    Ok(())
}

/// Fills in how the run ended: status, steps, time, and the error or divergence.
fn record_end(meta: &mut Meta, state: &TrainState, result: &Result<Outcome, Failure>) {
    meta.steps_done = state.step;
    // From the checkpoint, not the old meta.json: a kill after it leaves that one behind.
    meta.train_seconds = state.seconds_before + state.seconds;
    meta.last_finite_loss = state.last_loss;
    let steps_run: u64 = state.step - meta.resumed_at_steps.last().copied().unwrap_or(0);
    if steps_run > 0 {
        meta.steps_per_second = Some(steps_run as f64 / state.seconds.max(1e-9));
    } else if meta.steps_per_second.is_none() && state.seconds_before > 0.0 {
        // Resumed after the last step (killed while evaluating): the whole run's rate. With
        // no recorded seconds (a checkpoint from before they were kept) it stays unknown.
        meta.steps_per_second = Some(state.step as f64 / state.seconds_before);
    }
    meta.ended_at = Some(now());
    meta.status = match result {
        Ok(Outcome::Completed) => Status::Ok,
        Ok(Outcome::Interrupted { .. }) => Status::Interrupted,
        Ok(Outcome::Diverged {
            step,
            last_finite_loss,
        }) => {
            meta.diverged_at_step = Some(*step);
            meta.last_finite_loss = *last_finite_loss;
            Status::Diverged
        }
        Err(e) => {
            meta.error = Some(e.to_string());
            Status::Failed
        }
    };
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "no message".to_string())
}
