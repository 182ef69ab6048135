//! Figures drawn with a run's model (the EMA weights of its newest checkpoint): the sample
//! grid, progressive generation (Fig 10), reconstructions from several t (Fig 11) and
//! interpolations in x_t beside pixel-space ones (Fig 12). Every figure draws from the
//! report's own seed, so grids of different cells start from the same x_T and z.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use super::collect::RunRecord;
use super::image_figure::{ImageFigure, ImageRow};
use crate::data::{self, Split};
use crate::diffusion::{AncestralSampler, DiffusionSchedule, StepCoefficients};
use crate::model::UNet;
use crate::progress::Progress;
use crate::record::RecordError;
use crate::record::RunFolder;
use crate::report::ReportError;
use crate::rng::{Stream, normal_tensor, stream, stream_at};
use crate::spec::Experiment;

/// What the caller chose for these figures.
#[derive(Debug, Clone, Copy)]
pub struct ModelFigureSettings {
    /// Root of the figures' random streams (the same for every run of the report).
    pub seed: u64,
    /// Images in the sample grid.
    pub samples: usize,
}

/// Rows of progressive generation (the first samples of the grid's chain).
const PROGRESSIVE_ROWS: usize = 8;
/// Columns of progressive generation: x̂_0 at every T/10 steps, then the final x_0.
const PROGRESSIVE_COLUMNS: usize = 10;
/// Samples drawn from each shared x_t of the reconstruction figure.
const RECONSTRUCTIONS_PER_T: usize = 6;
/// Interpolation weights λ = 0, 1/8, …, 1.
const INTERPOLATION_STEPS: usize = 8;

/// A figure written for a run: a caption for people and its PNG (an SVG lies beside it).
pub struct WrittenFigure {
    pub caption: String,
    pub png: PathBuf,
}

/// The figures of one run, and what could not be drawn (with why).
#[derive(Default)]
pub struct RunFigures {
    pub figures: Vec<WrittenFigure>,
    pub notes: Vec<String>,
}

struct Context<'a> {
    model: UNet,
    spec: &'a Experiment,
    schedule: DiffusionSchedule,
    device: Device,
    channels: usize,
    side: usize,
}

impl Context<'_> {
    fn sampler(&self) -> AncestralSampler<'_> {
        self.spec.sampler(&self.schedule)
    }

    fn image_len(&self) -> usize {
        self.channels * self.side * self.side
    }

    /// Splits a [n, c, h, w] tensor into n flattened images.
    fn images(&self, x: Tensor<4>) -> Vec<Vec<f32>> {
        let flat = x.into_data().try_to_vec::<f32>().expect("images are f32");
        flat.chunks(self.image_len()).map(<[f32]>::to_vec).collect()
    }

    fn tensor(&self, images: &[&[f32]]) -> Tensor<4> {
        let flat: Vec<f32> = images.iter().flat_map(|i| i.iter().copied()).collect();
        Tensor::from_data(
            TensorData::new(flat, [images.len(), self.channels, self.side, self.side]),
            &self.device,
        )
    }

    fn figure(
        &self,
        title: String,
        column_labels: Vec<String>,
        rows: Vec<ImageRow>,
    ) -> ImageFigure {
        ImageFigure {
            title,
            column_labels,
            rows,
            channels: self.channels,
            side: self.side,
        }
    }
}

/// Draws every model figure of `run` into `out_dir`.
pub fn draw_run_figures(
    run: &RunRecord,
    out_dir: &Path,
    settings: ModelFigureSettings,
) -> Result<RunFigures, ReportError> {
    let device = run.spec.device.device()?;
    let build = || Ok::<_, ReportError>(run.spec.unet_config().init(&device));
    let Some((model, state)) = RunFolder::at(&run.dir).load_newest_ema(build)? else {
        return Err(ReportError::NoCheckpoint(run.dir.clone()));
    };
    let (channels, side) = run.spec.data.image_shape();
    let ctx = Context {
        model,
        spec: &run.spec,
        schedule: run.spec.schedule(),
        device,
        channels,
        side,
    };
    std::fs::create_dir_all(out_dir)
        .map_err(|e| RecordError::unwritable(out_dir, format!("cannot create: {e}")))?;
    let step = state.step;
    let mut done = RunFigures::default();
    let (grid, progressive) = samples_and_progressive(&ctx, settings, &run.run_id, step);
    done.figures.push(WrittenFigure {
        caption: format!(
            "{} samples (EMA weights, step {step}, report seed {})",
            settings.samples, settings.seed
        ),
        png: grid.save(&out_dir.join("samples"))?,
    });
    done.figures.push(WrittenFigure {
        caption:
            "Progressive generation: x_0 predicted from x_t every T/10 steps (one row per sample)"
                .into(),
        png: progressive.save(&out_dir.join("progressive"))?,
    });
    test_image_figures(&ctx, run, settings, out_dir, &mut done)?;
    Ok(done)
}

/// Reconstructions (Fig 11) and interpolations (Fig 12) of the first two test images, or a note
/// saying why there are none.
fn test_image_figures(
    ctx: &Context,
    run: &RunRecord,
    settings: ModelFigureSettings,
    out_dir: &Path,
    done: &mut RunFigures,
) -> Result<(), ReportError> {
    let data = &run.spec.data;
    let test = match data::load(&data.request(), Split::Test) {
        Ok(test) if test.len() >= 2 => test,
        Ok(_) => {
            done.notes.push(
                "the test split has fewer than two images: no reconstructions or interpolations"
                    .into(),
            );
            return Ok(());
        }
        Err(e) => {
            done.notes
                .push(format!("no reconstructions or interpolations: {e}"));
            return Ok(());
        }
    };
    let rec = reconstructions(ctx, settings, test.image(0));
    done.figures.push(WrittenFigure {
        caption: "One test image diffused to t = T, 3T/4, T/2, T/4, T/10 and sampled back; each row shares its x_t".into(),
        png: rec.save(&out_dir.join("reconstruction"))?,
    });
    let interp = interpolations(ctx, settings, test.image(0), test.image(1));
    done.figures.push(WrittenFigure {
        caption: "Two test images interpolated in pixel space (top) and in x_t at t = T/10, T/4, T/2, 3T/4, decoded with one z for every λ".into(),
        png: interp.save(&out_dir.join("interpolation"))?,
    });
    Ok(())
}

/// The sample grid and, from the same chain, x̂_0 of its first rows every T/10 steps.
fn samples_and_progressive(
    ctx: &Context,
    settings: ModelFigureSettings,
    run_id: &str,
    step: u64,
) -> (ImageFigure, ImageFigure) {
    let count = settings.samples.max(1);
    let rows = PROGRESSIVE_ROWS.min(count);
    let t_max = ctx.schedule.timesteps();
    let every = (t_max / PROGRESSIVE_COLUMNS).max(1);
    let sampler = ctx.sampler();
    let mut rng = stream(settings.seed, Stream::Sampling);
    let mut snapshots: Vec<(usize, Vec<Vec<f32>>)> = Vec::new();
    let mut progress = Progress::new(&format!("{run_id}: report samples"), 0, t_max as u64);
    let samples = sampler.sample(
        [count, ctx.channels, ctx.side, ctx.side],
        &ctx.device,
        &mut rng,
        |x, t| {
            let out = ctx.model.forward(x.clone(), &vec![t; count]);
            if (t_max - t) % every == 0 && snapshots.len() < PROGRESSIVE_COLUMNS {
                let x0 =
                    sampler.predicted_x0(out.clone().narrow(0, 0, rows), x.narrow(0, 0, rows), t);
                snapshots.push((t, ctx.images(x0)));
            }
            out
        },
        |t| progress.update((t_max - t + 1) as u64, ""),
    );
    progress.finish();
    let samples = ctx.images(samples);
    let grid = sample_grid(ctx, &samples, step);
    let progressive = progressive_figure(ctx, &snapshots, &samples[..rows]);
    (grid, progressive)
}

/// The samples in a square-ish grid.
fn sample_grid(ctx: &Context, samples: &[Vec<f32>], step: u64) -> ImageFigure {
    let columns = (samples.len() as f64).sqrt().ceil() as usize;
    let grid_rows = samples
        .chunks(columns)
        .map(|chunk| ImageRow {
            label: String::new(),
            images: chunk.to_vec(),
        })
        .collect();
    ctx.figure(
        format!("{} · samples at step {step}", ctx.spec.name),
        Vec::new(),
        grid_rows,
    )
}

/// One row per sample: its x̂_0 at each snapshot (t, images), then the sample itself.
fn progressive_figure(
    ctx: &Context,
    snapshots: &[(usize, Vec<Vec<f32>>)],
    samples: &[Vec<f32>],
) -> ImageFigure {
    let mut labels: Vec<String> = snapshots.iter().map(|(t, _)| format!("t={t}")).collect();
    labels.push("x_0".into());
    let progressive_rows = (0..samples.len())
        .map(|r| ImageRow {
            label: format!("sample {}", r + 1),
            images: snapshots
                .iter()
                .map(|(_, imgs)| imgs[r].clone())
                .chain(std::iter::once(samples[r].clone()))
                .collect(),
        })
        .collect();
    ctx.figure(
        format!(
            "{} · progressive generation: predicted x_0 along the chain",
            ctx.spec.name
        ),
        labels,
        progressive_rows,
    )
}

/// The timesteps reconstructions start from: T, 3T/4, T/2, T/4, T/10.
fn reconstruction_steps(t_max: usize) -> Vec<usize> {
    let mut ts: Vec<usize> = [1.0, 0.75, 0.5, 0.25, 0.1]
        .iter()
        .map(|f| ((t_max as f64 * f).round() as usize).max(1))
        .collect();
    ts.dedup();
    ts
}

/// x_0, then for each t: x_t ~ q(x_t|x_0) and samples of p_θ(x_0|x_t) from that one x_t.
fn reconstructions(ctx: &Context, settings: ModelFigureSettings, x0: &[f32]) -> ImageFigure {
    let sampler = ctx.sampler();
    let mut rng = stream_at(settings.seed, Stream::Sampling, 2);
    let x0 = ctx.tensor(&[x0]);
    let eps = normal_tensor(&mut rng, x0.dims(), &ctx.device);
    let mut rows = vec![ImageRow {
        label: "x_0 (test)".into(),
        images: ctx.images(x0.clone()),
    }];
    let n = RECONSTRUCTIONS_PER_T;
    for t in reconstruction_steps(ctx.schedule.timesteps()) {
        let coef = StepCoefficients::gather(&ctx.schedule, &[t], &ctx.device);
        let x_t = coef.q_sample(x0.clone(), eps.clone());
        let mut progress = Progress::new(&format!("reconstructions from t={t}"), 0, t as u64);
        let out = sampler.sample_from(
            x_t.clone().repeat_dim(0, n),
            t,
            |x, s| ctx.model.forward(x, &vec![s; n]),
            |shape| normal_tensor(&mut rng, shape, &ctx.device),
            |s| progress.update((t - s + 1) as u64, ""),
        );
        progress.finish();
        let mut images = ctx.images(x_t);
        images.extend(ctx.images(out));
        rows.push(ImageRow {
            label: format!("from t={t}"),
            images,
        });
    }
    let mut labels = vec!["x_t".to_string()];
    labels.extend((1..=n).map(|i| format!("sample {i}")));
    ctx.figure(
        format!(
            "{} · reconstructions: x_0 → x_t → samples sharing x_t",
            ctx.spec.name
        ),
        labels,
        rows,
    )
}

/// (1 − λ) p + λ q for every λ, stacked along the batch.
fn mix_by(lambdas: &[f32], p: &Tensor<4>, q: &Tensor<4>) -> Tensor<4> {
    let mixed = lambdas
        .iter()
        .map(|&l| p.clone().mul_scalar(1.0 - l) + q.clone().mul_scalar(l))
        .collect();
    Tensor::cat(mixed, 0)
}

/// Pixel-space interpolation, then for t = T/10, T/4, T/2, 3T/4: x_t and x'_t drawn with one
/// noise, mixed (1 − λ) x_t + λ x'_t and decoded with the same z for every λ.
fn interpolations(
    ctx: &Context,
    settings: ModelFigureSettings,
    a: &[f32],
    b: &[f32],
) -> ImageFigure {
    let sampler = ctx.sampler();
    let mut rng = stream_at(settings.seed, Stream::Sampling, 3);
    let lambdas: Vec<f32> = (0..=INTERPOLATION_STEPS)
        .map(|i| i as f32 / INTERPOLATION_STEPS as f32)
        .collect();
    let n = lambdas.len();
    let mix = |p: &Tensor<4>, q: &Tensor<4>| mix_by(&lambdas, p, q);
    let (xa, xb) = (ctx.tensor(&[a]), ctx.tensor(&[b]));
    let eps_a = normal_tensor(&mut rng, xa.dims(), &ctx.device);
    let eps_b = normal_tensor(&mut rng, xb.dims(), &ctx.device);
    let mut rows = vec![ImageRow {
        label: "pixel space".into(),
        images: ctx.images(mix(&xa, &xb)),
    }];
    let t_max = ctx.schedule.timesteps();
    for t in [t_max / 10, t_max / 4, t_max / 2, 3 * t_max / 4]
        .into_iter()
        .filter(|&t| t >= 1)
    {
        let coef = StepCoefficients::gather(&ctx.schedule, &[t], &ctx.device);
        let (za, zb) = (
            coef.q_sample(xa.clone(), eps_a.clone()),
            coef.q_sample(xb.clone(), eps_b.clone()),
        );
        let mut progress = Progress::new(&format!("interpolations at t={t}"), 0, t as u64);
        let out = sampler.sample_from(
            mix(&za, &zb),
            t,
            |x, s| ctx.model.forward(x, &vec![s; n]),
            |[_, c, h, w]| normal_tensor(&mut rng, [1, c, h, w], &ctx.device).repeat_dim(0, n),
            |s| progress.update((t - s + 1) as u64, ""),
        );
        progress.finish();
        rows.push(ImageRow {
            label: format!("x_t, t={t}"),
            images: ctx.images(out),
        });
    }
    ctx.figure(
        format!(
            "{} · interpolation in pixel space and in x_t (shared noise)",
            ctx.spec.name
        ),
        lambdas.iter().map(|l| format!("λ={l:.2}")).collect(),
        rows,
    )
}
