//! What a run shows TensorBoard while it trains (see crate::tracking): the resolved spec and
//! metadata as text when it starts, the evaluations as they come, a small sample grid at each
//! checkpoint, and the run's sample grid at the end.

use burn::prelude::Device;

use super::eval_nll::NllReport;
use super::eval_quality::{QualityReport, quality_rows};
use super::sampling::draw_samples_from;
use crate::error::Failure;
use crate::model::UNet;
use crate::record::grid::grid_png;
use crate::record::meta::Meta;
use crate::record::{RecordError, RunFolder};
use crate::rng::{Stream, stream_at};
use crate::spec::Experiment;
use crate::tracking::RunTracker;

/// The run's tracker, if its spec keeps one, with the spec and metadata written at step 0
/// (a resumed run's tracker skips them: TensorBoard has them).
pub fn open_tracker(
    spec: &Experiment,
    folder: &RunFolder,
    meta: &Meta,
) -> Result<Option<RunTracker>, Failure> {
    if !spec.tracking.tensorboard {
        return Ok(None);
    }
    let tracker = RunTracker::open(folder.dir())?;
    let yaml = serde_yaml_ng::to_string(spec).expect("spec serialises");
    tracker.text("spec", 0, &format!("```yaml\n{yaml}```"))?;
    let json = serde_json::to_string_pretty(meta).expect("meta serialises");
    tracker.text("meta", 0, &format!("```json\n{json}\n```"))?;
    tracker.flush()?;
    Ok(Some(tracker))
}

/// A quality evaluation's rows as `eval/SPLIT/NAME` scalars.
pub fn show_quality(tracker: Option<&RunTracker>, report: &QualityReport) -> Result<(), Failure> {
    let Some(tracker) = tracker else {
        return Ok(());
    };
    let scalars: Vec<(String, f64)> = quality_rows(report)
        .into_iter()
        .map(|r| (format!("eval/{}/{}", r.split, r.name), r.value))
        .collect();
    tracker.scalars(report.step, &scalars)?;
    Ok(tracker.flush()?)
}

pub fn show_nll(tracker: Option<&RunTracker>, nll: &NllReport) -> Result<(), Failure> {
    let Some(tracker) = tracker else {
        return Ok(());
    };
    let scalars = [
        ("eval/test/nll_bpd".to_string(), nll.total_bits_per_dim),
        ("eval/test/prior_bpd".to_string(), nll.prior_bits_per_dim),
    ];
    tracker.scalars(nll.step, &scalars)?;
    Ok(tracker.flush()?)
}

/// The run's sample grid (`samples.png`, as written) at `step`.
pub fn show_samples(
    tracker: Option<&RunTracker>,
    folder: &RunFolder,
    step: u64,
) -> Result<(), Failure> {
    let Some(tracker) = tracker else {
        return Ok(());
    };
    let path = folder.samples_path();
    let png = std::fs::read(&path).map_err(|e| RecordError::unreadable(&path, e))?;
    let size = image::image_dimensions(&path).map_err(|e| RecordError::unreadable(&path, e))?;
    tracker.image("samples", step, png, size)?;
    Ok(tracker.flush()?)
}

/// Images in the grid drawn at each checkpoint.
const CHECKPOINT_SAMPLES: usize = 16;

/// A small grid of the EMA weights at checkpoint `step`, drawn as the in-training evaluations
/// sample, from the sampling stream's block at `step`: training draws from none of it.
pub fn show_checkpoint_samples(
    tracker: Option<&RunTracker>,
    spec: &Experiment,
    ema: &UNet,
    step: u64,
    device: &Device,
) -> Result<(), Failure> {
    let Some(tracker) = tracker else {
        return Ok(());
    };
    let sampling = spec.in_training_sampling();
    let mut rng = stream_at(spec.seed, Stream::Sampling, step);
    let (schedule, count) = (sampling.schedule(), CHECKPOINT_SAMPLES);
    let label = "checkpoint samples";
    let pixels = draw_samples_from(ema, &sampling, &schedule, count, device, &mut rng, label);
    let (channels, side) = spec.data.image_shape();
    let (png, size) = grid_png(&pixels, count, channels, side)
        .map_err(|e| Failure::Failed(format!("checkpoint samples: cannot encode PNG: {e}")))?;
    tracker.image("checkpoint_samples", step, png, size)?;
    Ok(tracker.flush()?)
}
