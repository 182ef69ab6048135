//! `ddpm-exp eval RUN_DIR --quality`: FID, IS and KID of samples from the newest checkpoint's
//! EMA weights, and of as many held-out test images as a yardstick, both against the training
//! split through the dataset's feature network; written to the run's `eval.parquet`.

use std::path::Path;

use burn::prelude::*;

use super::evaluate::newest_ema;
use super::run_dir::run_id;
use super::sampling::draw_samples_from;
use crate::data::{self, Split};
use crate::error::Failure;
use crate::model::UNet;
use crate::quality::cache::{Scorer, cache_root, load_or_train};
use crate::quality::extract::quantise;
use crate::quality::score::{QualityScores, score_images};
use crate::record::eval_table::{EvalRow, merge_eval};
use crate::rng::{Stream, stream_at};
use crate::spec::{Experiment, load_resolved};

/// What one quality evaluation found.
pub struct QualityReport {
    pub step: u64,
    /// The feature network's name, e.g. "digits-classifier", and its test accuracy.
    pub network: String,
    pub network_accuracy: f64,
    pub samples: QualityScores,
    pub held_out: QualityScores,
}

/// `count` samples of `model`, drawn `batch` at a time from one continuing seeded stream and
/// rounded to 8-bit levels.
pub fn quality_samples(model: &UNet, spec: &Experiment, count: usize, device: &Device) -> Vec<f32> {
    let schedule = spec.schedule();
    let mut rng = stream_at(spec.seed, Stream::Quality, 0);
    let mut pixels = Vec::new();
    let mut done = 0;
    while done < count {
        let n = spec.eval.batch_size.min(count - done);
        let label = format!("quality samples {}–{} of {count}", done + 1, done + n);
        pixels.extend(draw_samples_from(
            model, spec, &schedule, n, device, &mut rng, &label,
        ));
        done += n;
    }
    quantise(&mut pixels);
    pixels
}

/// Rows of `eval.parquet` for one quality evaluation of checkpoint `step`. The scores carry the
/// network's name; `split` says what was scored against what.
pub fn quality_rows(report: &QualityReport) -> Vec<EvalRow> {
    let net = &report.network;
    let mut rows = Vec::new();
    for (split, s) in [
        ("samples vs train", &report.samples),
        ("test vs train", &report.held_out),
    ] {
        for (name, value) in [
            (format!("fid ({net})"), s.fid),
            (format!("is ({net})"), s.is_mean),
            (format!("is_std ({net})"), s.is_std),
            (format!("kid ({net})"), s.kid_mean),
            (format!("kid_std ({net})"), s.kid_std),
            ("quality_images".to_string(), s.images as f64),
        ] {
            rows.push(EvalRow {
                step: report.step,
                split: split.into(),
                name,
                t: None,
                value,
            });
        }
    }
    rows.push(EvalRow {
        step: report.step,
        split: "test".into(),
        name: format!("accuracy ({net})"),
        t: None,
        value: report.network_accuracy,
    });
    rows
}

/// Scores `model` (the EMA weights at `step`) with `count` samples and records it in `run_dir`.
pub fn record_quality(
    model: &UNet,
    spec: &Experiment,
    scorer: &Scorer,
    run_dir: &Path,
    step: u64,
    count: usize,
    device: &Device,
) -> Result<QualityReport, Failure> {
    let (channels, side) = spec.data.dataset.image_shape();
    let shape = [channels, side, side];
    let samples = quality_samples(model, spec, count, device);
    let samples =
        score_images(scorer, &samples, shape, spec.seed, device).map_err(Failure::Failed)?;
    let test = data::load(spec.data.dataset, spec.data.dir.as_deref(), Split::Test)?;
    let n = count.min(test.len());
    let held_out = score_images(
        scorer,
        &test.pixels[..n * test.image_len()],
        shape,
        spec.seed,
        device,
    )
    .map_err(Failure::Failed)?;
    let report = QualityReport {
        step,
        network: scorer.info.name.clone(),
        network_accuracy: scorer.info.test_accuracy,
        samples,
        held_out,
    };
    merge_eval(run_dir, &run_id(run_dir), &quality_rows(&report)).map_err(Failure::Failed)?;
    Ok(report)
}

/// `ddpm-exp eval RUN_DIR --quality [--samples N]` on the newest checkpoint's EMA weights.
pub fn eval_quality(run_dir: &Path, samples: Option<usize>) -> Result<QualityReport, Failure> {
    let spec = load_resolved(&run_dir.join("spec.yaml"))?;
    let count = samples.unwrap_or(spec.eval.quality_samples);
    let (model, step, device) = newest_ema(run_dir, &spec)?;
    let scorer = load_or_train(
        spec.data.dataset,
        spec.data.dir.as_deref(),
        &cache_root(),
        &device,
    )
    .map_err(Failure::Failed)?;
    record_quality(&model, &spec, &scorer, run_dir, step, count, &device)
}

/// The report as a small Markdown table for the terminal.
pub fn quality_table(r: &QualityReport) -> String {
    let net = &r.network;
    let mut out = format!(
        "step {}: feature network {net} (test accuracy {:.2}%)\n\n| images | n | FID ({net}) | IS ({net}) | KID ({net}) |\n|---|---|---|---|---|\n",
        r.step,
        100.0 * r.network_accuracy
    );
    for (what, s) in [("samples", &r.samples), ("held-out test", &r.held_out)] {
        out += &format!(
            "| {what} | {} | {:.3} | {:.3} ± {:.3} | {:.5} ± {:.5} |\n",
            s.images, s.fid, s.is_mean, s.is_std, s.kid_mean, s.kid_std
        );
    }
    out
}

/// "NAME step N: FID (net) x, IS (net) y ± z, KID (net) k" for the log.
pub fn one_line_summary(name: &str, r: &QualityReport) -> String {
    let (net, s) = (&r.network, &r.samples);
    format!(
        "{name}: step {}: FID ({net}) {:.3}, IS ({net}) {:.3} ± {:.3}, KID ({net}) {:.5} on {} samples",
        r.step, s.fid, s.is_mean, s.is_std, s.kid_mean, s.images
    )
}
