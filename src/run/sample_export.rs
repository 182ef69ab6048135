//! `ddpm-exp sample RUN_DIR --out PATH`: samples of a run's EMA weights for other tools, as an
//! `.npz` or a folder of PNGs (record::image_export), with a `sampling.json` beside them that
//! says how they were drawn. The same run, checkpoint, seed, batch and sampler give the same
//! bytes.

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use serde::Serialize;

use super::sampling::{SamplerChoice, draw_samples_from};
use crate::error::Failure;
use crate::model::UNet;
use crate::record::RecordError;
use crate::record::RunFolder;
use crate::record::atomic::write_atomic;
use crate::record::image_export::{to_nhwc_bytes, write_npz, write_png_folder};
use crate::rng::{Stream, stream};
use crate::spec::{Experiment, load_resolved};

/// What to draw; `None` keeps the run's spec (its `sample` section, seed and eval batch size).
pub struct SampleRequest {
    pub run_dir: PathBuf,
    pub out: PathBuf,
    pub count: usize,
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
    /// N, H, W, C of the uint8 array.
    pub shape: [usize; 4],
}

pub fn export_samples(request: &SampleRequest) -> Result<SampleRecord, Failure> {
    let out = &request.out;
    if out.exists() {
        return Err(Failure::BadInput(format!(
            "{}: already exists; `sample` never overwrites (choose another --out)",
            out.display()
        )));
    }
    let folder = RunFolder::open(&request.run_dir)?;
    let spec = sampling_spec(&folder, request)?;
    let batch = request.batch.unwrap_or(spec.eval.batch_size);
    if request.count == 0 || batch == 0 {
        return Err(Failure::BadInput(
            "--count and --batch must be at least 1".into(),
        ));
    }
    let device = spec.device.device()?;
    let build = || Ok::<_, Failure>(spec.unet_config().init(&device));
    let Some((model, state)) = folder.load_ema(request.checkpoint, build)? else {
        let which = request.checkpoint.map_or("no checkpoint".to_string(), |s| {
            format!("no checkpoint of step {s}")
        });
        return Err(Failure::BadInput(format!(
            "{}: {which}",
            folder.dir().display()
        )));
    };
    let seed = request.seed.unwrap_or(spec.seed);
    let pixels = draw(&model, &spec, request.count, batch, seed, &device);
    let (channels, side) = spec.data.dataset.image_shape();
    let record = SampleRecord {
        run_id: folder.id(),
        checkpoint_step: state.step,
        count: request.count,
        seed,
        batch,
        sampler: spec.sample.sampler.name(),
        steps: spec.sample_steps(),
        eta: spec.sample.eta,
        clip_x0: spec.sample.clip_x0,
        shape: [request.count, side, side, channels],
    };
    let bytes = to_nhwc_bytes(&pixels, [request.count, channels, side, side]);
    write_export(out, &bytes, &record)?;
    Ok(record)
}

/// The run's spec with the request's sampler settings, checked as the spec's own would be.
fn sampling_spec(folder: &RunFolder, request: &SampleRequest) -> Result<Experiment, Failure> {
    let mut spec = load_resolved(&folder.spec_path())?;
    request.choice.apply(&mut spec)?;
    Ok(spec)
}

/// `count` samples, `batch` at a time from one continuing stream of `seed`.
fn draw(
    model: &UNet,
    spec: &Experiment,
    count: usize,
    batch: usize,
    seed: u64,
    device: &Device,
) -> Vec<f32> {
    let schedule = spec.schedule();
    let mut rng = stream(seed, Stream::Sampling);
    let mut pixels = Vec::new();
    let mut done = 0;
    while done < count {
        let n = batch.min(count - done);
        let label = format!("samples {}–{} of {count}", done + 1, done + n);
        pixels.extend(draw_samples_from(
            model, spec, &schedule, n, device, &mut rng, &label,
        ));
        done += n;
    }
    pixels
}

/// `out.npz` (+ `out.npz.json`) for a `.npz` name, else the folder `out` of PNGs (+ its
/// `sampling.json`).
fn write_export(out: &Path, bytes: &[u8], record: &SampleRecord) -> Result<(), RecordError> {
    let json = serde_json::to_string_pretty(record).expect("the record serialises");
    let is_npz = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    let sidecar = if is_npz {
        write_npz(out, bytes, record.shape)?;
        PathBuf::from(format!("{}.json", out.display()))
    } else {
        write_png_folder(out, bytes, record.shape)?;
        out.join("sampling.json")
    };
    write_atomic(&sidecar, json.as_bytes())
        .map_err(|e| RecordError::unwritable(&sidecar, format!("cannot write: {e}")))
}
