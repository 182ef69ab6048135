//! `ddpm-exp eval RUN_DIR --nll`: the test-set bound of a run's newest checkpoint, with the
//! EMA weights, written to the run's `eval.parquet`.

use std::path::Path;

use burn::prelude::*;

use super::data_check::{check_data, digest_data};
use crate::data::{self, Split};
use crate::diffusion::bound::{BoundSums, evaluate_bound};
use crate::error::Failure;
use crate::model::UNet;
use crate::progress::Progress;
use crate::record::RunFolder;
use crate::record::eval_table::EvalRow;
use crate::rng::{Stream, stream};
use crate::spec::{Experiment, load_resolved};

/// What one NLL evaluation found.
#[derive(Debug, Clone)]
pub struct NllReport {
    pub step: u64,
    pub images: usize,
    pub total_bits_per_dim: f64,
    pub prior_bits_per_dim: f64,
}

/// The bound of the first `spec.eval.nll_images` test images (all when 0) under `model`.
pub fn nll_of_model(
    model: &UNet,
    spec: &Experiment,
    device: &Device,
) -> Result<BoundSums, Failure> {
    let test = data::load(&spec.data.request(), Split::Test)?;
    let n = if spec.eval.nll_images == 0 {
        test.len()
    } else {
        spec.eval.nll_images.min(test.len())
    };
    let schedule = spec.schedule();
    let objective = spec.objective();
    let t_max = schedule.timesteps();
    let batches = n.div_ceil(spec.eval.batch_size);
    let mut rng = stream(spec.seed, Stream::Evaluation);
    let mut progress = Progress::new(
        &format!("{}: test NLL", spec.name),
        0,
        (batches * t_max) as u64,
    );
    let mut sums = BoundSums::new(t_max);
    let mut done = 0u64;
    for start in (0..n).step_by(spec.eval.batch_size) {
        let end = (start + spec.eval.batch_size).min(n);
        let pixels: Vec<f32> = (start..end)
            .flat_map(|i| test.image(i).iter().copied())
            .collect();
        let x0 = Tensor::from_data(
            TensorData::new(
                pixels,
                [end - start, test.channels, test.height, test.width],
            ),
            device,
        );
        let batch = evaluate_bound(
            &schedule,
            &objective,
            x0,
            &mut rng,
            |x, ts| model.forward(x, ts),
            |_| {
                done += 1;
                progress.update(done, "");
            },
        );
        sums.add(&batch);
    }
    progress.finish();
    Ok(sums)
}

/// Rows of `eval.parquet` for one bound evaluation at checkpoint `step`.
pub fn nll_rows(sums: &BoundSums, step: u64) -> Vec<EvalRow> {
    let n = sums.images as f64;
    let row = |name: &str, t: Option<u64>, value: f64| EvalRow {
        step,
        split: "test".into(),
        name: name.into(),
        t,
        value,
    };
    let mut rows = vec![
        row("nll_bpd", None, sums.total_bits_per_dim()),
        row("prior_bpd", None, sums.prior_bits_per_dim()),
        row("nll_images", None, n),
    ];
    for i in 0..sums.vb.len() {
        let t = Some(i as u64 + 1);
        rows.push(row("vb", t, sums.vb[i] / n));
        rows.push(row("x0_mse", t, sums.x0_mse[i] / n));
        rows.push(row("eps_mse", t, sums.eps_mse[i] / n));
    }
    rows
}

/// Evaluates the NLL of `model` (the EMA weights at `step`) and records it in the run's folder.
pub fn record_nll(
    model: &UNet,
    spec: &Experiment,
    folder: &RunFolder,
    step: u64,
    device: &Device,
) -> Result<NllReport, Failure> {
    let sums = nll_of_model(model, spec, device)?;
    folder.merge_eval(&nll_rows(&sums, step))?;
    Ok(NllReport {
        step,
        images: sums.images,
        total_bits_per_dim: sums.total_bits_per_dim(),
        prior_bits_per_dim: sums.prior_bits_per_dim(),
    })
}

/// `ddpm-exp eval RUN_DIR --nll`: evaluates the newest checkpoint's EMA weights.
pub fn eval_nll(run_dir: &Path, images: Option<usize>) -> Result<NllReport, Failure> {
    let folder = RunFolder::open(run_dir)?;
    let mut spec = load_resolved(&folder.spec_path())?;
    if let Some(n) = images {
        spec.eval.nll_images = n;
    }
    check_run_data(&folder, &spec)?;
    let (model, step, device) = newest_ema(&folder, &spec)?;
    record_nll(&model, &spec, &folder, step, &device)
}

/// Fails when the run's data changed since it started (see `data_check`).
pub fn check_run_data(folder: &RunFolder, spec: &Experiment) -> Result<(), Failure> {
    let meta = folder.read_meta()?;
    check_data(folder, &meta, &digest_data(spec)?.1)
}

/// The EMA weights of the run's newest checkpoint, its step, and the device they are on.
pub fn newest_ema(folder: &RunFolder, spec: &Experiment) -> Result<(UNet, u64, Device), Failure> {
    let device = spec.device.device()?;
    let build = || Ok::<_, Failure>(spec.unet_config().init(&device));
    let Some((model, state)) = folder.load_newest_ema(build)? else {
        return Err(Failure::BadInput(format!(
            "{}: no checkpoint to evaluate",
            folder.dir().display()
        )));
    };
    Ok((model, state.step, device))
}
