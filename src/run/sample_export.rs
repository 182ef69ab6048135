//! `ddpm-exp sample RUN_DIR --out PATH`: samples of a run's EMA weights for other tools, as an
//! `.npz` or a folder of PNGs (record::image_export), with a `sampling.json` beside them that
//! says how they were drawn. The same run, checkpoint, seed, batch and sampler give the same
//! bytes.

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use serde::Serialize;

use super::sampling::{apply_choice, draw_samples_from};
use crate::error::Failure;
use crate::model::UNet;
use crate::record::RecordError;
use crate::record::RunFolder;
use crate::record::atomic::write_atomic;
use crate::record::image_export::{to_nhwc_bytes, write_npz, write_png_folder};
use crate::rng::{Stream, stream};
use crate::spec::{Experiment, SamplerChoice, load_resolved};

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
    let target = ExportTarget::of(out);
    target.check_free()?;
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
    target.write(&bytes, &record)?;
    Ok(record)
}

/// The run's spec with the request's sampler settings, checked as the spec's own would be.
fn sampling_spec(folder: &RunFolder, request: &SampleRequest) -> Result<Experiment, Failure> {
    let spec = load_resolved(&folder.spec_path())?;
    Ok(apply_choice(&spec, &request.choice)?.0)
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

/// Where an export goes: `out.npz` with `out.npz.json` beside it, or a folder `out` of PNGs
/// with its `sampling.json`.
enum ExportTarget<'a> {
    Npz { file: &'a Path, sidecar: PathBuf },
    PngFolder { dir: &'a Path },
}

impl<'a> ExportTarget<'a> {
    fn of(out: &'a Path) -> Self {
        let is_npz = out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
        if is_npz {
            let sidecar = PathBuf::from(format!("{}.json", out.display()));
            Self::Npz { file: out, sidecar }
        } else {
            Self::PngFolder { dir: out }
        }
    }

    /// Refuses, before anything is sampled, a target that exists (`sample` never overwrites)
    /// and makes the folder it goes in, so a bad `--out` costs no sampling.
    fn check_free(&self) -> Result<(), Failure> {
        let (out, taken) = match self {
            Self::Npz { file, sidecar } => (*file, [*file, sidecar.as_path()]),
            Self::PngFolder { dir } => (*dir, [*dir, *dir]),
        };
        if let Some(path) = taken.iter().find(|p| p.exists()) {
            return Err(Failure::BadInput(format!(
                "{}: already exists; `sample` never overwrites (choose another --out)",
                path.display()
            )));
        }
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent {
            std::fs::create_dir_all(parent).map_err(|e| {
                Failure::BadInput(format!(
                    "{}: cannot create the folder: {e}",
                    parent.display()
                ))
            })?;
        }
        Ok(())
    }

    /// Writes the samples and their record. Nothing half-written stays at the target: the npz
    /// is renamed into place whole (and removed again if its record cannot be written); the
    /// PNGs are written into `.partial-NAME` beside the target and renamed when all are there.
    fn write(&self, bytes: &[u8], record: &SampleRecord) -> Result<(), RecordError> {
        let json = serde_json::to_string_pretty(record).expect("the record serialises");
        match self {
            Self::Npz { file, sidecar } => {
                write_npz(file, bytes, record.shape)?;
                write_atomic(sidecar, json.as_bytes()).map_err(|e| {
                    let _ = std::fs::remove_file(file);
                    RecordError::unwritable(sidecar, format!("cannot write: {e}"))
                })
            }
            Self::PngFolder { dir } => {
                let partial = partial_sibling(dir);
                // What a killed export left there is not part of this one.
                let _ = std::fs::remove_dir_all(&partial);
                let written = write_png_folder(&partial, bytes, record.shape).and_then(|()| {
                    let sidecar = partial.join("sampling.json");
                    write_atomic(&sidecar, json.as_bytes())
                        .and_then(|()| std::fs::rename(&partial, dir))
                        .map_err(|e| RecordError::unwritable(dir, format!("cannot write: {e}")))
                });
                if written.is_err() {
                    let _ = std::fs::remove_dir_all(&partial);
                }
                written
            }
        }
    }
}

/// `.partial-NAME` in the same folder as `path`.
fn partial_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".partial-{name}"))
}
