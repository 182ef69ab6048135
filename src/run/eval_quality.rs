//! `ddpm-exp eval RUN_DIR --quality`: FID, IS and KID of samples from the newest checkpoint's
//! EMA weights, and of as many held-out test images as a yardstick, both against the training
//! split, through the dataset's own classifier and, given pytorch-fid's weights, Inception-v3;
//! written to the run's `eval.parquet`.

use std::path::Path;

use burn::prelude::*;

use super::eval_nll::{check_run_data, newest_ema};
use super::sampling::{apply_choice, draw_in_batches};
use crate::data::{self, DatasetName, Split};
use crate::diffusion::SamplerKind;
use crate::error::Failure;
use crate::model::UNet;
use crate::quality::classifier_cache::{cache_root, load_or_train};
use crate::quality::extract::quantise;
use crate::quality::image_scores::{QualityScores, score_images};
use crate::quality::inception_cache::load_inception;
use crate::quality::scorer::Scorer;
use crate::record::RunFolder;
use crate::record::eval_table::{EvalRow, YARDSTICK_SPLIT, other_sampler};
use crate::rng::{Stream, stream_at};
use crate::spec::validate::FOLDER_QUALITY_NEEDS_INCEPTION;
use crate::spec::{Experiment, SamplerChoice, load_resolved};

/// The scores of one network.
pub struct NetworkScores {
    /// e.g. "digits-classifier", "inception-v3".
    pub network: String,
    /// The network's held-out accuracy, where the harness trained it.
    pub accuracy: Option<f64>,
    pub samples: QualityScores,
    /// The held-out yardstick; None when the data holds fewer than two test images.
    pub held_out: Option<QualityScores>,
}

/// What one quality evaluation found.
pub struct QualityReport {
    pub step: u64,
    /// The eval table's split of the samples' rows (spec::Experiment::samples_split).
    pub samples_split: String,
    /// Wall time of drawing the samples (not of scoring them).
    pub sampling_seconds: f64,
    pub networks: Vec<NetworkScores>,
}

/// Everything an evaluation needs that does not change between evaluations of one run: the
/// scoring networks (the dataset's classifier, and Inception-v3 when `inception` or the
/// spec's `eval.inception_weights` names pytorch-fid's weights), the sample count, and the
/// held-out yardstick's scores, computed once.
pub struct QualityEval {
    pub scorers: Vec<Scorer>,
    /// Per scorer: the first `min(count, test split)` held-out images (none when fewer than
    /// two are held out).
    pub held_out: Vec<Option<QualityScores>>,
    pub count: usize,
    /// The plain (non-autodiff) device the EMA weights live on.
    pub device: Device,
}

impl QualityEval {
    pub fn new(
        spec: &Experiment,
        inception: Option<&Path>,
        count: usize,
        device: &Device,
    ) -> Result<Self, Failure> {
        let (request, root) = (spec.data.request(), cache_root());
        let inception = inception.or(spec.eval.inception_weights.as_deref());
        let mut scorers = Vec::new();
        // An image folder has no labels to train the classifier on: Inception-v3 alone.
        if request.dataset == DatasetName::ImageFolder {
            if inception.is_none() {
                let why = format!("image_folder: {FOLDER_QUALITY_NEEDS_INCEPTION}");
                return Err(Failure::BadInput(why));
            }
        } else {
            scorers.push(load_or_train(&request, &root, device)?);
        }
        if let Some(weights) = inception {
            scorers.push(load_inception(weights, &request, &root, device)?);
        }
        let test = data::load(&request, Split::Test)?;
        let yardstick = count.min(test.len());
        let held_out = &test.pixels[..yardstick * test.image_len()];
        // A folder with too few images held out (IS needs one per split) has no yardstick.
        let too_few = crate::spec::validate::too_few_quality_samples(yardstick);
        if let Some(why) = &too_few {
            eprintln!("held-out yardstick not scored: {why} (held-out images)");
        }
        let held_out = scorers
            .iter()
            .map(|scorer| {
                let scored = too_few
                    .is_none()
                    .then(|| score(scorer, spec, held_out, device));
                scored.transpose()
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            scorers,
            held_out,
            count,
            device: device.clone(),
        })
    }

    /// Scores `model` (the EMA weights at `step` of a run of `own`) with `count` samples drawn
    /// as `sampling` says, through every scorer, and records it in the run's eval table.
    pub fn record(
        &self,
        model: &UNet,
        (own, sampling): (&Experiment, &Experiment),
        folder: &RunFolder,
        step: u64,
    ) -> Result<QualityReport, Failure> {
        let spec = sampling;
        let started = std::time::Instant::now();
        let samples = quality_samples(model, spec, self.count, &self.device);
        let sampling_seconds = started.elapsed().as_secs_f64();
        let mut networks = Vec::new();
        for (scorer, held_out) in self.scorers.iter().zip(&self.held_out) {
            networks.push(NetworkScores {
                network: scorer.name.clone(),
                accuracy: scorer.accuracy,
                samples: score(scorer, spec, &samples, &self.device)?,
                held_out: held_out.clone(),
            });
        }
        let report = QualityReport {
            step,
            samples_split: own.samples_split(sampling),
            sampling_seconds,
            networks,
        };
        folder.merge_eval(&quality_rows(&report))?;
        Ok(report)
    }
}

fn score(
    scorer: &Scorer,
    spec: &Experiment,
    pixels: &[f32],
    device: &Device,
) -> Result<QualityScores, Failure> {
    let (channels, side) = spec.data.image_shape();
    Ok(score_images(
        scorer,
        pixels,
        [channels, side, side],
        spec.seed,
        device,
    )?)
}

/// `count` samples of `model`, drawn `batch` at a time from one continuing seeded stream and
/// rounded to 8-bit levels.
pub fn quality_samples(model: &UNet, spec: &Experiment, count: usize, device: &Device) -> Vec<f32> {
    let mut rng = stream_at(spec.seed, Stream::Quality, 0);
    let batch = (count, spec.eval.batch_size);
    let mut pixels = draw_in_batches(model, spec, batch, device, &mut rng, "quality samples");
    quantise(&mut pixels);
    pixels
}

/// Rows of `eval.parquet` for one quality evaluation of checkpoint `step`. The scores carry the
/// network's name; `split` says what was scored against what.
pub fn quality_rows(report: &QualityReport) -> Vec<EvalRow> {
    let row = |split: &str, name: String, value: f64| EvalRow {
        step: report.step,
        split: split.into(),
        name,
        t: None,
        value,
    };
    let mut rows = Vec::new();
    for scores in &report.networks {
        let net = &scores.network;
        let yardstick = scores.held_out.as_ref().map(|s| (YARDSTICK_SPLIT, s));
        let samples = (report.samples_split.as_str(), &scores.samples);
        for (split, s) in std::iter::once(samples).chain(yardstick) {
            // The count first: merge_eval tells evaluations of other counts apart by it.
            rows.push(row(split, "quality_images".into(), s.images as f64));
            rows.push(row(split, format!("fid ({net})"), s.fid));
            rows.push(row(split, format!("is ({net})"), s.is_mean));
            rows.push(row(split, format!("is_std ({net})"), s.is_std));
            rows.push(row(split, format!("kid ({net})"), s.kid_mean));
            rows.push(row(split, format!("kid_std ({net})"), s.kid_std));
        }
        if let Some(accuracy) = scores.accuracy {
            rows.push(row("test", format!("accuracy ({net})"), accuracy));
        }
    }
    let seconds = report.sampling_seconds;
    rows.push(row(
        &report.samples_split,
        "sampling_seconds".into(),
        seconds,
    ));
    rows
}

/// Every sampler with every step count (`eval --sampler A,B --steps K,L`); an empty list
/// keeps the run's own setting. η is DDIM's: ancestral choices leave it out.
pub fn sampler_choices(
    samplers: &[SamplerKind],
    steps: &[usize],
    eta: Option<f64>,
    clip_x0: Option<bool>,
) -> Vec<SamplerChoice> {
    fn or_own<T: Copy>(given: &[T]) -> Vec<Option<T>> {
        match given.is_empty() {
            true => vec![None],
            false => given.iter().copied().map(Some).collect(),
        }
    }
    let (samplers, steps) = (or_own(samplers), or_own(steps));
    let mut choices = Vec::new();
    for &sampler in &samplers {
        for &steps in &steps {
            choices.push(SamplerChoice {
                sampler,
                steps,
                eta: eta.filter(|_| sampler != Some(SamplerKind::Ancestral)),
                clip_x0,
            });
        }
    }
    choices
}

/// Refuses a `--samples` count too small to score, before anything is evaluated.
pub fn check_sample_count(samples: Option<usize>) -> Result<(), Failure> {
    match samples.and_then(crate::spec::validate::too_few_quality_samples) {
        Some(why) => Err(Failure::BadInput(format!("--samples: {why}"))),
        None => Ok(()),
    }
}

/// `ddpm-exp eval RUN_DIR --quality [--samples N] [--inception WEIGHTS]` on the newest
/// checkpoint's EMA weights, once per sampler choice (all checked before any is drawn).
pub fn eval_quality(
    run_dir: &Path,
    samples: Option<usize>,
    inception: Option<&Path>,
    choices: &[SamplerChoice],
) -> Result<Vec<QualityReport>, Failure> {
    let folder = RunFolder::open(run_dir)?;
    let spec = load_resolved(&folder.spec_path())?;
    let samplings: Vec<Experiment> = choices
        .iter()
        .map(|choice| Ok(apply_choice(&spec, choice)?.0))
        .collect::<Result<_, Failure>>()?;
    let count = samples.unwrap_or(spec.eval.quality_samples);
    check_run_data(&folder, &spec)?;
    let (model, step, device) = newest_ema(&folder, &spec)?;
    let eval = QualityEval::new(&spec, inception, count, &device)?;
    samplings
        .iter()
        .map(|sampling| eval.record(&model, (&spec, sampling), &folder, step))
        .collect()
}

/// The report as a small Markdown table for the terminal.
pub fn quality_table(r: &QualityReport) -> String {
    let mut out = format!(
        "step {}, {} ({:.1} s to sample)\n\n| network | images | n | FID | IS | KID |\n|---|---|---|---|---|---|\n",
        r.step, r.samples_split, r.sampling_seconds
    );
    for scores in &r.networks {
        let net = match scores.accuracy {
            Some(a) => format!("{} (test accuracy {:.2}%)", scores.network, 100.0 * a),
            None => scores.network.clone(),
        };
        let yardstick = scores.held_out.as_ref().map(|s| ("held-out test", s));
        for (what, s) in std::iter::once(("samples", &scores.samples)).chain(yardstick) {
            out += &format!(
                "| {net} | {what} | {} | {:.3} | {:.3} ± {:.3} | {:.5} ± {:.5} |\n",
                s.images, s.fid, s.is_mean, s.is_std, s.kid_mean, s.kid_std
            );
        }
    }
    out
}

/// "NAME step N: FID (net) x, IS (net) y ± z, KID (net) k" for the log, every network.
pub fn one_line_summary(name: &str, r: &QualityReport) -> String {
    let parts: Vec<String> = r
        .networks
        .iter()
        .map(|n| {
            let (net, s) = (&n.network, &n.samples);
            format!(
                "FID ({net}) {:.3}, IS ({net}) {:.3} ± {:.3}, KID ({net}) {:.5}",
                s.fid, s.is_mean, s.is_std, s.kid_mean
            )
        })
        .collect();
    let n = r.networks.first().map_or(0, |n| n.samples.images);
    let sampler = other_sampler(&r.samples_split).map_or(String::new(), |l| format!(" [{l}]"));
    format!(
        "{name}: step {}{sampler}: {} on {n} samples",
        r.step,
        parts.join("; ")
    )
}
