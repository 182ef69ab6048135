//! `ddpm-exp sample RUN_DIR --out PATH`: samples of a run's EMA weights for other tools, as an
//! `.npz` or a folder of PNGs (record::image_export), with a `sampling.json` beside them that
//! says how they were drawn. The same run, checkpoint, seed, batch and sampler give the same
//! bytes.

use std::path::PathBuf;

use burn::prelude::Device;
use serde::Serialize;

use super::eval_quality::quality_samples;
use super::export_target::ExportTarget;
use super::sampling::{apply_choice, draw_in_batches};
use crate::error::Failure;
use crate::model::UNet;
use crate::record::RunFolder;
use crate::record::image_export::to_nhwc_bytes;
use crate::rng::{Stream, stream};
use crate::spec::{Experiment, SamplerChoice, load_resolved};

/// What to draw; `None` keeps the run's spec (its `sample` section, seed and eval batch size).
pub struct SampleRequest {
    pub run_dir: PathBuf,
    pub out: PathBuf,
    /// None: 64, or with `quality_samples` the run's `eval.quality_samples`.
    pub count: Option<usize>,
    /// Draw what `eval --quality` scores (its stream and batch) instead of the sampling stream.
    pub quality_samples: bool,
    pub choice: SamplerChoice,
    pub seed: Option<u64>,
    pub checkpoint: Option<u64>,
    pub batch: Option<usize>,
}

/// How the samples were drawn: written beside them and returned.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRecord {
    pub run_id: String,
    pub checkpoint_step: u64,
    pub count: usize,
    pub seed: u64,
    pub batch: usize,
    pub sampler: &'static str,
    pub steps: usize,
    pub eta: f64,
    pub clip_x0: bool,
    /// `sampling` (the `--seed` stream) or `quality` (what `eval --quality` scores).
    pub stream: &'static str,
    /// N, H, W, C of the uint8 array.
    pub shape: [usize; 4],
}

pub fn export_samples(request: &SampleRequest) -> Result<SampleRecord, Failure> {
    let target = ExportTarget::of(&request.out, "sampling.json");
    target.check_free()?;
    let folder = RunFolder::open(&request.run_dir)?;
    let spec = sampling_spec(&folder, request)?;
    let quality = request.quality_samples;
    let default_count = if quality {
        spec.eval.quality_samples
    } else {
        64
    };
    let count = request.count.unwrap_or(default_count);
    let batch = request.batch.unwrap_or(spec.eval.batch_size);
    if count == 0 || batch == 0 {
        return Err(Failure::BadInput(
            "--count and --batch must be at least 1".into(),
        ));
    }
    let device = spec.device.device()?;
    let (model, checkpoint_step) = load_checkpoint(&folder, &spec, request.checkpoint, &device)?;
    let seed = request.seed.unwrap_or(spec.seed);
    let pixels = match quality {
        true => quality_samples(&model, &spec, count, &device),
        false => {
            let mut rng = stream(seed, Stream::Sampling);
            draw_in_batches(&model, &spec, (count, batch), &device, &mut rng, "samples")
        }
    };
    let (channels, side) = spec.data.image_shape();
    let record = SampleRecord {
        run_id: folder.id(),
        checkpoint_step,
        count,
        seed,
        batch,
        sampler: spec.sample.sampler.name(),
        steps: spec.sample_steps(),
        eta: spec.sample.eta,
        clip_x0: spec.sample.clip_x0,
        stream: if quality { "quality" } else { "sampling" },
        shape: [count, side, side, channels],
    };
    let bytes = to_nhwc_bytes(&pixels, [count, channels, side, side]);
    let json = serde_json::to_string_pretty(&record).expect("the record serialises");
    target.write(&bytes, record.shape, &json)?;
    Ok(record)
}

/// The EMA weights of checkpoint `step` (the newest if None) and that checkpoint's step.
fn load_checkpoint(
    folder: &RunFolder,
    spec: &Experiment,
    step: Option<u64>,
    device: &Device,
) -> Result<(UNet, u64), Failure> {
    let build = || Ok::<_, Failure>(spec.unet_config().init(device));
    match folder.load_ema(step, build)? {
        Some((model, state)) => Ok((model, state.step)),
        None => {
            let which = step.map_or("no checkpoint".to_string(), |s| {
                format!("no checkpoint of step {s}")
            });
            Err(Failure::BadInput(format!(
                "{}: {which}",
                folder.dir().display()
            )))
        }
    }
}

/// The run's spec with the request's sampler settings, checked as the spec's own would be.
fn sampling_spec(folder: &RunFolder, request: &SampleRequest) -> Result<Experiment, Failure> {
    let spec = load_resolved(&folder.spec_path())?;
    Ok(apply_choice(&spec, &request.choice)?.0)
}
