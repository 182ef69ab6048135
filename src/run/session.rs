//! A run from start to finish: check everything, make the run folder, record the resolved
//! spec and metadata, train, draw the sample grid, and mark how it ended. Also resumption.

use std::path::{Path, PathBuf};

use super::checkpoint;
use super::data_check::{check_data, digest_data};
use super::evaluate::record_nll;
use super::quality::{QualityEval, one_line_summary};
use super::run_dir::{create_run_dir, lock_run_dir, run_id};
use super::sampling::draw_samples;
use super::trainer::{Outcome, TrainState, Trainer, fresh_state};
use crate::data::ImageSet;
use crate::device::{backend_name, training_device};
use crate::error::Failure;
use crate::record::grid::write_grid;
use crate::record::meta::{DataDigest, Meta, Status, git_state, now};
use crate::record::metrics::read_metrics;
use crate::spec::{Experiment, load_resolved};

/// How a run ended, for the caller's exit code and summary.
pub struct RunReport {
    pub run_dir: PathBuf,
    pub outcome: Outcome,
}

/// Starts a new run of `spec` under `out`.
pub fn start_run(spec: &Experiment, spec_file: &Path, out: &Path) -> Result<RunReport, Failure> {
    let device = training_device(&spec.device, spec.train.precision).map_err(Failure::BadInput)?;
    let (train_set, data_sha256) = digest_data(spec)?;
    let run_dir = create_run_dir(out, &spec.name, spec.seed).map_err(Failure::Failed)?;
    let recorded = lock_run_dir(&run_dir)
        .map_err(Failure::Failed)
        .and_then(|lock| Ok((lock, record_start(spec, spec_file, &run_dir, data_sha256)?)));
    let (_lock, meta) = match recorded {
        Ok(recorded) => recorded,
        Err(e) => {
            // Nothing of this run is recorded yet: leave no half-made folder behind.
            let _ = std::fs::remove_dir_all(&run_dir);
            return Err(e);
        }
    };
    let state = fresh_state(spec, &device.clone().autodiff());
    continue_run(spec, &run_dir, meta, state, &train_set, &device)
}

/// Writes the new run's `spec.yaml` and its `meta.json` (status running).
fn record_start(
    spec: &Experiment,
    spec_file: &Path,
    run_dir: &Path,
    data_sha256: DataDigest,
) -> Result<Meta, Failure> {
    let yaml = serde_yaml_ng::to_string(spec).expect("spec serialises");
    let write = |name: &str, bytes: &[u8]| {
        crate::record::atomic::write_atomic(&run_dir.join(name), bytes).map_err(|e| {
            Failure::Failed(format!(
                "{}: cannot write: {e}",
                run_dir.join(name).display()
            ))
        })
    };
    write("spec.yaml", yaml.as_bytes())?;
    let (git_sha, git_dirty) = git_state();
    let meta = Meta {
        run_id: run_id(run_dir),
        name: spec.name.clone(),
        spec_file: spec_file.display().to_string(),
        status: Status::Running,
        seed: spec.seed,
        backend: backend_name(&spec.device).to_string(),
        device: spec.device.clone(),
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        burn_version: "0.22.1".to_string(),
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
    };
    meta.write(run_dir).map_err(|e| {
        Failure::Failed(format!(
            "{}: cannot write meta.json: {e}",
            run_dir.display()
        ))
    })?;
    Ok(meta)
}

/// Continues the run in `run_dir` from its newest checkpoint.
pub fn resume_run(run_dir: &Path) -> Result<RunReport, Failure> {
    if !run_dir.join("meta.json").is_file() {
        return Err(Failure::BadInput(format!(
            "{}: not a run folder (no meta.json)",
            run_dir.display()
        )));
    }
    let _lock = lock_run_dir(run_dir).map_err(Failure::BadInput)?;
    checkpoint::remove_partials(run_dir);
    let spec = load_resolved(&run_dir.join("spec.yaml"))?;
    let mut meta = Meta::read(run_dir).map_err(Failure::BadInput)?;
    if meta.status == Status::Ok {
        return Ok(RunReport {
            run_dir: run_dir.to_path_buf(),
            outcome: Outcome::Completed,
        });
    }
    let device = training_device(&spec.device, spec.train.precision).map_err(Failure::BadInput)?;
    let (train_set, data_sha256) = digest_data(&spec)?;
    check_data(run_dir, &meta, &data_sha256)?;
    let state = match restore(&spec, run_dir, &device) {
        Ok(state) => state,
        Err(e) => {
            // The run cannot go on as recorded: say so in its meta.json, touch nothing else.
            meta.status = Status::Failed;
            meta.error = Some(e.clone());
            meta.ended_at = Some(now());
            let _ = meta.write(run_dir);
            return Err(Failure::Failed(e));
        }
    };
    meta.resumed_at_steps.push(state.step);
    meta.status = Status::Running;
    meta.ended_at = None;
    meta.error = None;
    continue_run(&spec, run_dir, meta, state, &train_set, &device)
}

/// The training state at the run's newest checkpoint (fresh if it has none), with the metric
/// rows up to that checkpoint.
fn restore(
    spec: &Experiment,
    run_dir: &Path,
    device: &burn::prelude::Device,
) -> Result<TrainState, String> {
    let fresh = fresh_state(spec, &device.clone().autodiff());
    let checkpoints = checkpoint::list(run_dir);
    let Some((_, dir)) = checkpoints.first() else {
        return Ok(fresh);
    };
    let loaded = checkpoint::load(dir, fresh.model, fresh.ema, fresh.optimizer).map_err(|e| {
        let way_out = match checkpoints.get(1) {
            Some((step, _)) => format!("to resume from step {step}, the one before"),
            None => "to start the run again from step 0".to_string(),
        };
        format!(
            "{e}; the checkpoint is damaged: move {} out of checkpoints/ {way_out}",
            dir.display()
        )
    })?;
    let step = loaded.state.step;
    // Rows logged after the checkpoint would be logged again: drop them.
    let metrics = read_metrics(&run_dir.join("metrics.parquet"))?
        .into_iter()
        .filter(|r| r.step <= step)
        .collect();
    Ok(TrainState {
        model: loaded.model,
        ema: loaded.ema,
        optimizer: loaded.optimizer,
        step,
        metrics,
        last_loss: loaded.state.last_loss,
        seconds: 0.0,
    })
}

fn continue_run(
    spec: &Experiment,
    run_dir: &Path,
    mut meta: Meta,
    mut state: TrainState,
    train_set: &ImageSet,
    device: &burn::prelude::Device,
) -> Result<RunReport, Failure> {
    let schedule = spec.schedule();
    let id = run_id(run_dir);
    let wants_quality = spec.eval.quality_every > 0 || spec.eval.quality_at_end;
    let quality = if wants_quality {
        let count = spec.eval.quality_samples;
        Some(QualityEval::new(spec, None, count, device)?)
    } else {
        None
    };
    let trainer = Trainer {
        spec,
        schedule: &schedule,
        objective: spec.objective(),
        device: device.clone().autodiff(),
        run_dir,
        run_id: &id,
        quality: quality.as_ref(),
    };
    meta.write(run_dir)
        .map_err(|e| Failure::Failed(e.to_string()))?;

    // A panic (a backend out of memory, a bug) still ends with a true meta.json: failed.
    let trained = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        trainer.train(&mut state, train_set)
    }))
    .unwrap_or_else(|panic| Err(format!("training panicked: {}", panic_message(&panic))));
    let result = trained.and_then(|outcome| {
        if outcome == Outcome::Completed {
            let pixels = draw_samples(&state.ema, spec, &schedule, spec.sample.count, device);
            let (channels, side) = spec.data.dataset.image_shape();
            write_grid(
                &run_dir.join("samples.png"),
                &pixels,
                spec.sample.count,
                channels,
                side,
            )?;
            let every = spec.eval.quality_every;
            let scored_last_step = every > 0 && state.step % every == 0;
            if let Some(quality) = &quality
                && spec.eval.quality_at_end
                && !scored_last_step
            {
                let report = quality
                    .record(&state.ema, spec, run_dir, state.step)
                    .map_err(|e| e.to_string())?;
                eprintln!("{}", one_line_summary(&spec.name, &report));
            }
            if spec.eval.nll_at_end {
                let nll = record_nll(&state.ema, spec, run_dir, state.step, device)
                    .map_err(|e| e.to_string())?;
                eprintln!(
                    "{}: test NLL {:.4} bits/dim on {} images",
                    spec.name, nll.total_bits_per_dim, nll.images
                );
            }
        }
        Ok(outcome)
    });

    meta.steps_done = state.step;
    meta.train_seconds += state.seconds;
    meta.last_finite_loss = state.last_loss;
    if meta.train_seconds > 0.0 {
        let steps_run: u64 = state.step - meta.resumed_at_steps.last().copied().unwrap_or(0);
        meta.steps_per_second = Some(steps_run as f64 / state.seconds.max(1e-9));
    }
    meta.ended_at = Some(now());
    let report = match &result {
        Ok(Outcome::Completed) => {
            meta.status = Status::Ok;
            Ok(())
        }
        Ok(Outcome::Interrupted { .. }) => {
            meta.status = Status::Interrupted;
            Ok(())
        }
        Ok(Outcome::Diverged {
            step,
            last_finite_loss,
        }) => {
            meta.status = Status::Diverged;
            meta.diverged_at_step = Some(*step);
            meta.last_finite_loss = *last_finite_loss;
            Ok(())
        }
        Err(e) => {
            meta.status = Status::Failed;
            meta.error = Some(e.clone());
            Err(Failure::Failed(e.clone()))
        }
    };
    meta.write(run_dir).map_err(|e| {
        Failure::Failed(format!(
            "{}: cannot write meta.json: {e}",
            run_dir.display()
        ))
    })?;
    report?;
    Ok(RunReport {
        run_dir: run_dir.to_path_buf(),
        outcome: result.expect("checked above"),
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "no message".to_string())
}
