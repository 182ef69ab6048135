//! The flat update (src/optim/: global-norm clipping, Adam and the EMA over one buffer each)
//! against the implementation it replaced: Burn 0.22's Adam (`ModuleOptimizer`) after the
//! per-tensor global-norm clipping and per-tensor EMA that ddpm-exp used before (kept here
//! as the reference). Also: checkpoints in Burn's Adam layout load both ways.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use ddpm_exp::model::{UNet, UNetConfig, UNetShape};
use ddpm_exp::optim::{AdamSettings, FlatLayout, FlatUpdate};
use ddpm_exp::record::run_folder::adam_state;
use ddpm_exp::rng::{Stream, normal_tensor, stream_at};

const BETAS: (f32, f32, f32) = (0.9, 0.999, 1e-8);
const LR: f64 = 2e-3;
const CLIP: f64 = 1.0;
const EMA_DECAY: f64 = 0.9;

fn settings() -> AdamSettings {
    AdamSettings {
        beta_1: BETAS.0,
        beta_2: BETAS.1,
        epsilon: BETAS.2,
    }
}

fn burns_adam() -> ModuleOptimizer {
    AdamConfig::new()
        .with_beta_1(BETAS.0)
        .with_beta_2(BETAS.1)
        .with_epsilon(BETAS.2)
        .init()
}

/// A two-level 16-channel UNet (4 groups, attention at 4×4), without dropout.
/// The model, and a second one with the same weights. (Two inits would not do: Burn draws
/// the weights from the device's generator, which other tests of this process seed too.)
fn twins(device: &Device) -> (UNet, UNet) {
    let model = config().init(device);
    let _ = FlatLayout::of(&model).flatten(&model); // Burn draws weights when first read
    (model.clone(), model)
}

fn config() -> UNetConfig {
    UNetConfig {
        in_channels: 1,
        out_channels: 1,
        image_size: 8,
        shape: UNetShape {
            channels: 16,
            channel_mult: vec![1, 2],
            num_res_blocks: 1,
            attention_resolutions: vec![4],
            dropout: 0.0,
            norm_groups: 4,
        },
    }
}

/// The previous implementation's clipping and EMA, per parameter tensor.
mod reference {
    use super::*;

    struct SquaredNorm<'a> {
        grads: &'a GradientsParams,
        total: Option<Tensor<1>>,
    }

    impl ModuleVisitor for SquaredNorm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                let s = g.square().sum();
                self.total = Some(match self.total.take() {
                    Some(t) => t + s,
                    None => s,
                });
            }
        }
    }

    struct Scale<'a> {
        grads: &'a mut GradientsParams,
        factor: f64,
    }

    impl ModuleVisitor for Scale<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.remove::<D>(param.id) {
                self.grads.register(param.id, g.mul_scalar(self.factor));
            }
        }
    }

    /// TF's clip_by_global_norm over every tensor's gradient; returns the norm.
    pub fn clip(model: &UNet, grads: &mut GradientsParams, max: f64) -> f64 {
        let mut visitor = SquaredNorm { grads, total: None };
        model.visit(&mut visitor);
        let norm = visitor.total.map_or(0.0, |t| t.into_scalar::<f64>().sqrt());
        if norm > max {
            model.visit(&mut Scale {
                grads,
                factor: max / norm,
            });
        }
        norm
    }

    struct Collect(HashMap<ParamId, Tensor<1>>);

    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.insert(param.id, param.val().inner().reshape([-1]));
        }
    }

    struct Blend(HashMap<ParamId, Tensor<1>>, f64);

    impl ModuleMapper for Blend {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let online = self.0.remove(&param.id).unwrap();
            let decay = self.1;
            param.map(|ema| {
                let shape = ema.shape();
                ema.mul_scalar(decay) + online.reshape(shape).mul_scalar(1.0 - decay)
            })
        }
    }

    /// θ_ema ← d·θ_ema + (1 − d)·θ, tensor by tensor.
    pub fn ema(ema: UNet, online: &UNet, decay: f64) -> UNet {
        let mut collect = Collect(HashMap::new());
        online.visit(&mut collect);
        ema.map(&mut Blend(collect.0, decay))
    }
}

/// One batch's ε-prediction loss, the same inputs for both implementations at `step`: one
/// fixed x_0, fresh ε each step.
/// (Drawn on the host from a ChaCha stream: the device's generator is shared by every test.)
fn loss(model: &UNet, step: usize, device: &Device) -> Tensor<1> {
    let x0 = normal_tensor(&mut stream_at(7, Stream::Data, 0), [3, 1, 8, 8], device);
    let noise = normal_tensor(
        &mut stream_at(7, Stream::Noise, step as u64),
        [3, 1, 8, 8],
        device,
    );
    // x_t of q(x_t | x_0) at ᾱ = 0.36: the network can learn to find ε in it.
    let x = x0.mul_scalar(0.6) + noise.clone().mul_scalar(0.8);
    let t = [1 + step % 7, 40 + step, 900 - step];
    (model.forward(x, &t) - noise).square().mean()
}

/// max |a − b| / max |b| over every parameter.
fn relative_error(a: &UNet, b: &UNet) -> f64 {
    let layout = FlatLayout::of(b);
    let (fa, fb) = (layout.flatten(a), layout.flatten(b));
    let scale = fb.clone().abs().max().into_scalar::<f64>();
    (fa - fb).abs().max().into_scalar::<f64>() / scale
}

#[test]
fn flat_clip_adam_and_ema_equal_the_per_tensor_implementation_over_20_steps() {
    // Both take the same gradients each step (the reference model's), so what is compared is
    // the update's arithmetic alone, not how two trainings drift apart.
    let device = crate::common::device().autodiff();
    let (mut ours, mut theirs) = twins(&device);
    let start = theirs.clone();
    let mut update = FlatUpdate::new(&ours, &ours.valid(), None, settings());
    let (mut optimizer, mut ema) = (burns_adam(), theirs.valid());
    let mut clipped = 0;
    for step in 0..20 {
        // Twice the same gradients: LibTorch's fused Adam unscales its input in place.
        let grads_of = |model: &UNet| {
            GradientsParams::from_grads(loss(model, step, &device).backward(), model)
        };
        let (ours_grads, mut grads) = (grads_of(&theirs), grads_of(&theirs));
        let clip = update.clip(&ours_grads, Some(CLIP));
        let norm = clip.norm;
        update.adam(clip, LR);
        ours = update.model(ours);
        update.ema_step(EMA_DECAY);

        let norm_theirs = reference::clip(&theirs, &mut grads, CLIP);
        theirs = optimizer.step(LR, theirs, grads);
        ema = reference::ema(ema, &theirs, EMA_DECAY);
        let relative = (norm - norm_theirs).abs() / norm_theirs;
        assert!(
            relative <= 1e-5,
            "step {step}: global norm {norm} vs {norm_theirs}"
        );
        clipped += usize::from(norm_theirs > CLIP);
    }
    assert!(
        clipped > 0,
        "no step was clipped: the test would not cover clipping"
    );
    let weights = relative_error(&ours, &theirs);
    assert!(weights <= 1e-6, "weights differ by {weights:e}");
    let averaged = relative_error(&update.ema_module(&ours), &ema);
    assert!(averaged <= 1e-6, "EMA weights differ by {averaged:e}");
    assert!(
        relative_error(&ours, &start) > 1e-3,
        "training moved nothing"
    );
}

#[test]
fn a_short_training_run_has_the_previous_implementations_loss_curve() {
    // Each trains on its own gradients: float noise (the global norm's summation order)
    // compounds, so the curves agree to float noise, not to the bit.
    let device = crate::common::device().autodiff();
    let (mut ours, mut theirs) = twins(&device);
    let mut update = FlatUpdate::new(&ours, &ours.valid(), None, settings());
    let mut optimizer = burns_adam();
    let (mut first, mut last) = (0.0, 0.0);
    for step in 0..30 {
        let (loss_ours, loss_theirs) = (loss(&ours, step, &device), loss(&theirs, step, &device));
        let (a, b) = (
            loss_ours.clone().into_scalar::<f64>(),
            loss_theirs.clone().into_scalar::<f64>(),
        );
        assert!((a - b).abs() <= 1e-4 * b, "step {step}: loss {a} vs {b}");
        (first, last) = (if step == 0 { b } else { first }, b);

        let grads = GradientsParams::from_grads(loss_ours.backward(), &ours);
        update.adam(update.clip(&grads, Some(CLIP)), LR);
        ours = update.model(ours);

        let mut grads = GradientsParams::from_grads(loss_theirs.backward(), &theirs);
        reference::clip(&theirs, &mut grads, CLIP);
        theirs = optimizer.step(LR, theirs, grads);
    }
    assert!(
        last < 0.9 * first,
        "the loss did not fall: {first} → {last}"
    );
}

/// Trains `steps` with Burn's Adam from `model`; returns the model and the optimiser.
fn train_with_burn(mut model: UNet, steps: usize, device: &Device) -> (UNet, ModuleOptimizer) {
    let mut optimizer = burns_adam();
    for step in 0..steps {
        let grads = GradientsParams::from_grads(loss(&model, step, device).backward(), &model);
        model = optimizer.step(LR, model, grads);
    }
    (model, optimizer)
}

#[test]
fn adam_checkpoints_in_burns_layout_resume_both_ways() {
    let device = crate::common::device().autodiff();
    let dir = tempfile::tempdir().unwrap();
    let (model, mut optimizer) = train_with_burn(twins(&device).0, 3, &device);
    // A checkpoint as the previous implementation wrote it (Burn's own writer).
    let burns_file = dir.path().join("burn.bpk");
    optimizer.save(&burns_file).unwrap();
    let layout = FlatLayout::of(&model);
    let inner = device.clone().inner();
    let moments = adam_state::load(&layout, &burns_file, &inner).unwrap();
    assert_eq!(moments.as_ref().map(|m| m.time), Some(3));
    let mut update = FlatUpdate::new(&model, &model.valid(), moments, settings());

    // Both continue one step from the same state.
    let grads = GradientsParams::from_grads(loss(&model, 3, &device).backward(), &model);
    update.adam(update.clip(&grads, None), LR);
    let ours = update.model(model.clone());
    let grads = GradientsParams::from_grads(loss(&model, 3, &device).backward(), &model);
    let theirs = optimizer.step(LR, model.clone(), grads);
    let error = relative_error(&ours, &theirs);
    assert!(error <= 1e-6, "after resuming Burn's record: {error:e}");

    // Our file: read back exactly, and Burn's Adam reads it too.
    let ours_file = dir.path().join("ours.bpk");
    adam_state::save(&layout, update.moments(), &ours_file).unwrap();
    let again = adam_state::load(&layout, &ours_file, &inner)
        .unwrap()
        .unwrap();
    let saved = update.moments().unwrap();
    assert_eq!(again.time, 4);
    assert_eq!(again.m.into_data(), saved.m.clone().into_data());
    assert_eq!(again.v.into_data(), saved.v.clone().into_data());
    let burn_reads_ours = burns_adam().load(&ours_file).unwrap();
    let grads = GradientsParams::from_grads(loss(&ours, 4, &device).backward(), &ours);
    let clipped = update.clip(&grads, None);
    let mut twin = burn_reads_ours;
    let theirs = twin.step(LR, ours.clone(), grads);
    update.adam(clipped, LR);
    let error = relative_error(&update.model(ours), &theirs);
    assert!(error <= 1e-6, "Burn resuming our record: {error:e}");
}

#[test]
fn a_record_missing_a_parameter_is_refused_by_name() {
    let device = crate::common::device().autodiff();
    let dir = tempfile::tempdir().unwrap();
    let (trained, optimizer) = train_with_burn(twins(&device).0, 1, &device);
    let file = dir.path().join("small.bpk");
    optimizer.save(&file).unwrap();
    // A model with a third level: its extra parameters have no state in the file.
    let mut config = config();
    config.shape.channel_mult = vec![1, 2, 2];
    let larger = FlatLayout::of(&config.init(&device));
    let err = adam_state::load(&larger, &file, &device.clone().inner()).unwrap_err();
    assert!(err.starts_with("no Adam "), "{err}");
    assert!(FlatLayout::of(&trained).len() < larger.len());
}
