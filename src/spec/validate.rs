//! Value checks that the YAML types alone cannot express. Each problem is (key path, reason);
//! the loader turns the key into a file:line:col.

use super::schema::{Experiment, SampleSpec};
use crate::data::streaming::BATCHES_IN_USE;
use crate::data::{DatasetName, LoaderMode};
use crate::diffusion::SamplerKind;
use crate::diffusion::{ScheduleKind, WeightingKind};

/// Every problem with `e`'s values, in the order of the spec's sections.
pub fn check_values(e: &Experiment) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bad = |key: &str, msg: String| out.push((key.to_string(), msg));
    check_data_dir(e, &mut bad);
    check_image_folder(e, &mut bad);
    check_loader(e, &mut bad);
    check_diffusion(e, &mut bad);
    check_model(e, &mut bad);
    check_train(e, &mut bad);
    check_eval(e, &mut bad);
    out
}

/// Records one problem: (key path, reason).
type Bad<'a> = dyn FnMut(&str, String) + 'a;

/// `data.loader` and `data.memory_mb`: only a folder streams, and a streamed batch must fit the
/// budget with room to decode ahead (data/streaming.rs).
fn check_loader(e: &Experiment, bad: &mut Bad) {
    let d = &e.data;
    if d.memory_mb == 0 {
        bad("data.memory_mb", "at least 1 MiB".into());
        return;
    }
    if d.dataset != DatasetName::ImageFolder {
        if d.loader == LoaderMode::Stream {
            let why = format!(
                "`stream` is for image_folder; {} is read into memory",
                d.dataset.name()
            );
            bad("data.loader", why);
        }
        return;
    }
    let (channels, side) = d.image_shape();
    if d.loader == LoaderMode::Memory || !(1..=MAX_IMAGE_SIZE).contains(&side) {
        return;
    }
    let batch_bytes = (e.train.batch_size * channels * side * side * 4) as u64;
    let needed = (BATCHES_IN_USE + 1) * batch_bytes;
    if d.memory_mb.saturating_mul(1 << 20) < needed {
        let why = format!(
            "{} MiB cannot stream batches of {} images at {channels}×{side}×{side} ({:.1} MiB \
             each, decoded): give at least {} MiB, or data.loader: memory",
            d.memory_mb,
            e.train.batch_size,
            batch_bytes as f64 / (1 << 20) as f64,
            needed.div_ceil(1 << 20)
        );
        bad("data.memory_mb", why);
    }
}

/// `data.dir` (`device` is checked as it is read: a `DeviceName`).
fn check_data_dir(e: &Experiment, bad: &mut Bad) {
    if let Some(dir) = &e.data.dir
        && !dir.is_dir()
    {
        bad(
            "data.dir",
            format!("dataset folder {} does not exist", dir.display()),
        );
    }
}

/// The image-folder keys: needed by `image_folder`, meaningless for a named dataset.
fn check_image_folder(e: &Experiment, bad: &mut Bad) {
    let d = &e.data;
    if d.dataset != DatasetName::ImageFolder {
        for (key, set) in [
            ("data.image_size", d.image_size.is_some()),
            ("data.channels", d.channels.is_some()),
            ("data.held_out", d.held_out != 0.0),
        ] {
            if set {
                let name = d.dataset.name();
                let why = format!("only for `dataset: image_folder`; {name} has a fixed shape");
                bad(key, why);
            }
        }
        return;
    }
    check_folder_shape(e, bad);
    if e.eval.nll_at_end && d.held_out == 0.0 {
        let why = "the test NLL needs held-out images: set data.held_out (e.g. 0.05)";
        bad("eval.nll_at_end", why.into());
    }
    if e.eval.inception_weights.is_none() {
        if e.eval.quality_at_end {
            bad("eval.quality_at_end", FOLDER_QUALITY_NEEDS_INCEPTION.into());
        }
        if e.eval.quality_every > 0 {
            bad("eval.quality_every", FOLDER_QUALITY_NEEDS_INCEPTION.into());
        }
    }
}

/// Why an image folder's samples cannot be scored without Inception-v3.
pub const FOLDER_QUALITY_NEEDS_INCEPTION: &str = "an image folder is scored through Inception-v3 \
    only: set eval.inception_weights to pytorch-fid's weights (FID and KID need no labels; the \
    harness's classifier, and the IS it gives, need a labelled set)";

/// The largest side an image folder is scaled to (the paper's largest is 256).
pub const MAX_IMAGE_SIZE: usize = 4096;

fn check_folder_shape(e: &Experiment, bad: &mut Bad) {
    let d = &e.data;
    if d.dir.is_none() {
        let why = "image_folder reads the images under data.dir: give the folder";
        bad("data.dir", why.into());
    }
    match d.image_size {
        None => bad(
            "data.image_size",
            "image_folder needs the side of its square images".into(),
        ),
        Some(s) if !(4..=MAX_IMAGE_SIZE).contains(&s) => bad(
            "data.image_size",
            format!("{s} px: between 4 and {MAX_IMAGE_SIZE}"),
        ),
        _ => {}
    }
    if let Some(c) = d.channels
        && c != 1
        && c != 3
    {
        bad("data.channels", format!("1 (grey) or 3 (RGB), got {c}"));
    }
    if !(0.0..1.0).contains(&d.held_out) {
        let why = format!("a fraction in [0, 1), got {}", d.held_out);
        bad("data.held_out", why);
    }
}

fn check_diffusion(e: &Experiment, bad: &mut Bad) {
    let d = &e.diffusion;
    if d.timesteps == 0 {
        bad("diffusion.timesteps", "T must be at least 1".into());
    }
    let in_unit = |b: f64| b > 0.0 && b < 1.0;
    if matches!(d.schedule, ScheduleKind::Linear | ScheduleKind::Quadratic) {
        if !in_unit(d.beta_start) {
            bad(
                "diffusion.beta_start",
                format!("β must lie in (0, 1), got {}", d.beta_start),
            );
        }
        if in_unit(d.beta_start) && in_unit(d.beta_end) && d.beta_start > d.beta_end {
            bad(
                "diffusion.beta_start",
                format!("β_1 = {} exceeds β_T = {}", d.beta_start, d.beta_end),
            );
        }
    }
    if matches!(
        d.schedule,
        ScheduleKind::Linear | ScheduleKind::Quadratic | ScheduleKind::Constant
    ) && !in_unit(d.beta_end)
    {
        bad(
            "diffusion.beta_end",
            format!("β must lie in (0, 1), got {}", d.beta_end),
        );
    }
    if d.schedule == ScheduleKind::Cosine {
        if !(d.cosine_s > 0.0) {
            bad(
                "diffusion.cosine_s",
                format!("must be positive, got {}", d.cosine_s),
            );
        }
        if !(d.max_beta > 0.0 && d.max_beta < 1.0) {
            bad(
                "diffusion.max_beta",
                format!("must lie in (0, 1), got {}", d.max_beta),
            );
        }
    }
    check_weighting(e, bad);
    if let Some((key, reason)) = e.objective().unsupported_reason() {
        bad(key, reason);
    }
    if !(d.vlb_weight.is_finite() && d.vlb_weight >= 0.0) {
        bad(
            "diffusion.vlb_weight",
            format!("must be a non-negative number, got {}", d.vlb_weight),
        );
    }
}

/// `diffusion.weighting`'s numbers: only the kind's own, each in its range (k > 0 keeps p2's
/// weight finite at SNR = 0).
fn check_weighting(e: &Experiment, bad: &mut Bad) {
    let w = &e.diffusion.weighting;
    let kind = w.kind.name();
    let (has_gamma, has_k) = match w.kind {
        WeightingKind::Uniform => (false, false),
        WeightingKind::MinSnr => (true, false),
        WeightingKind::P2 => (true, true),
    };
    for (key, value, allowed) in [("gamma", w.gamma, has_gamma), ("k", w.k, has_k)] {
        let Some(value) = value else { continue };
        let key = format!("diffusion.weighting.{key}");
        if !allowed {
            bad(&key, format!("`{kind}` has no {key}; leave it out"));
        } else if !(value.is_finite() && value > 0.0) {
            bad(&key, format!("must be a positive number, got {value}"));
        }
    }
}

fn check_model(e: &Experiment, bad: &mut Bad) {
    let m = &e.model;
    if m.num_res_blocks == 0 {
        bad("model.num_res_blocks", "must be at least 1".into());
    }
    for (key, msg) in e.unet_config().problems() {
        bad(&format!("model.{key}"), msg);
    }
}

fn check_train(e: &Experiment, bad: &mut Bad) {
    let t = &e.train;
    if t.steps == 0 {
        bad("train.steps", "must be at least 1".into());
    }
    if t.batch_size == 0 {
        bad("train.batch_size", "must be at least 1".into());
    }
    if !(t.lr.is_finite() && t.lr > 0.0) {
        bad(
            "train.lr",
            format!("must be a positive number, got {}", t.lr),
        );
    }
    if let Some(clip) = t.grad_clip
        && !(clip.is_finite() && clip > 0.0)
    {
        bad(
            "train.grad_clip",
            format!("must be positive (or null to disable), got {clip}"),
        );
    }
    if !(0.0..1.0).contains(&t.ema_decay) {
        bad(
            "train.ema_decay",
            format!("must lie in [0, 1), got {}", t.ema_decay),
        );
    }
    for (key, v) in [
        ("train.adam_beta1", t.adam_beta1),
        ("train.adam_beta2", t.adam_beta2),
    ] {
        if !(0.0..1.0).contains(&v) {
            bad(key, format!("must lie in [0, 1), got {v}"));
        }
    }
    if !(t.adam_eps > 0.0) {
        bad(
            "train.adam_eps",
            format!("must be positive, got {}", t.adam_eps),
        );
    }
    if t.log_every == 0 {
        bad("train.log_every", "must be at least 1".into());
    }
    if t.checkpoint_every == 0 {
        bad("train.checkpoint_every", "must be at least 1".into());
    }
    if t.keep_checkpoints == 0 {
        bad("train.keep_checkpoints", "must be at least 1".into());
    }
}

/// `sample.sampler`, `sample.steps`, `sample.eta` (see [`sampler_problem`]), then the same
/// for `eval.quality_sampler` laid over them.
fn check_sampler(e: &Experiment, bad: &mut Bad) {
    if let Some((key, why)) = sampler_problem(&e.sample, e.diffusion.timesteps) {
        bad(key, why);
    } else if let Err((key, why)) = e.with_sampler(&e.eval.quality_sampler) {
        let field = key.trim_start_matches("sample.");
        bad(&format!("eval.quality_sampler.{field}"), why);
    }
}

/// What is wrong with `sample`'s sampler settings for T = `t_max`, if anything (key, why):
/// `steps` within 1..=T; `eta` a DDIM setting, finite and ≥ 0.
pub fn sampler_problem(s: &SampleSpec, t_max: usize) -> Option<(&'static str, String)> {
    if let Some(steps) = s.steps
        && !(1..=t_max).contains(&steps)
    {
        let why = format!("must lie in 1..=T (T = {t_max}), got {steps}");
        return Some(("sample.steps", why));
    }
    if !(s.eta.is_finite() && s.eta >= 0.0) {
        return Some(("sample.eta", format!("must be ≥ 0, got {}", s.eta)));
    }
    if s.eta > 0.0 && s.sampler != SamplerKind::Ddim {
        let why = format!(
            "η is DDIM's; set sample.sampler: ddim, or leave eta at 0 (got {})",
            s.eta
        );
        return Some(("sample.eta", why));
    }
    None
}

/// `eval` and `sample`.
fn check_eval(e: &Experiment, bad: &mut Bad) {
    if e.eval.batch_size == 0 {
        bad("eval.batch_size", "must be at least 1".into());
    }
    let every = e.eval.quality_every;
    if every > 0 && e.train.checkpoint_every > 0 && every % e.train.checkpoint_every != 0 {
        bad(
            "eval.quality_every",
            format!(
                "must be a multiple of train.checkpoint_every ({}), so every score has its checkpoint; got {every}",
                e.train.checkpoint_every
            ),
        );
    }
    if let Some(weights) = &e.eval.inception_weights
        && !weights.is_file()
    {
        bad(
            "eval.inception_weights",
            format!(
                "{} does not exist. {}",
                weights.display(),
                crate::quality::inception::WEIGHTS_HELP
            ),
        );
    }
    if let Some(why) = too_few_quality_samples(e.eval.quality_samples) {
        bad("eval.quality_samples", why);
    }
    check_sampler(e, bad);
    if e.sample.count == 0 {
        bad("sample.count", "must be at least 1".into());
    }
}

/// Why `count` samples are too few to score (the Inception Score's splits), if they are.
pub fn too_few_quality_samples(count: usize) -> Option<String> {
    let splits = crate::quality::image_scores::IS_SPLITS;
    (count < splits).then(|| {
        format!(
            "the Inception Score is taken over {splits} splits: need at least {splits} samples, got {count}"
        )
    })
}
