//! Clipping, Adam and the EMA over one contiguous buffer each, instead of Burn's dozen small
//! ops per parameter tensor (~300 tensors in the paper's UNet: ~4,000 kernel launches a step).
//! The arithmetic is Burn 0.22's, op for op (burn-optim `AdaptiveMomentum::transform`, f32
//! scalars), so a step equals Burn's up to the order the global norm's sum is taken in.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::FloatDType;

use super::flat_layout::FlatLayout;

/// Adam's constants, in f32 as Burn's `AdamConfig` holds them.
#[derive(Debug, Clone, Copy)]
pub struct AdamSettings {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
}

/// Adam's moment estimates m and v over the flat buffer, after `time` steps.
#[derive(Debug, Clone)]
pub struct Moments {
    pub m: Tensor<1>,
    pub v: Tensor<1>,
    pub time: usize,
}

/// A step's gradients, as [`FlatUpdate::clip`] found them.
pub enum Gradients {
    /// In one buffer, in the layout's order.
    Flat(Tensor<1>),
    /// One LibTorch tensor per slot, for LibTorch's multi-tensor kernels.
    #[cfg(feature = "tch")]
    LibTorch(Vec<tch::Tensor>),
}

/// The gradients, their global norm, and the factor (≤ 1) clipping scales them by.
pub struct Clipped {
    grads: Gradients,
    pub norm: f64,
    pub scale: f64,
}

/// The weights θ, their EMA and Adam's moments, each as one buffer in `layout`'s order, on
/// the training device's inner (non-autodiff) backend. The model's parameters are slices of
/// θ (views on LibTorch), rebuilt after each update where θ is a new buffer.
pub struct FlatUpdate {
    layout: FlatLayout,
    params: Tensor<1>,
    ema: Tensor<1>,
    moments: Option<Moments>,
    adam: AdamSettings,
    /// The model [`Self::model`] last returned is views of θ, and θ was updated in place since
    /// (LibTorch): that model already holds the new weights.
    model_is_current: bool,
}

impl FlatUpdate {
    /// The state of `model`, its `ema` (same layout) and Adam's `moments` (None before the
    /// first step).
    pub fn new<M: Module>(
        model: &M,
        ema: &M,
        moments: Option<Moments>,
        adam: AdamSettings,
    ) -> Self {
        let layout = FlatLayout::of(model);
        // Own copies (× 1 keeps every bit): LibTorch updates these buffers in place, and a
        // one-parameter module's "flat" buffer could be a view of the parameter itself.
        let params = layout.flatten(model).mul_scalar(1.0);
        let ema = layout.flatten(ema).mul_scalar(1.0);
        Self {
            layout,
            params,
            ema,
            moments,
            adam,
            model_is_current: false,
        }
    }

    pub fn layout(&self) -> &FlatLayout {
        &self.layout
    }

    pub fn moments(&self) -> Option<&Moments> {
        self.moments.as_ref()
    }

    /// The step's gradients, their global norm ‖g‖₂ (read back: it is logged, and a
    /// non-finite norm stops the step before anything changes) and the factor that clips
    /// them: TensorFlow's `clip_by_global_norm` (the paper's code), max/‖g‖ when ‖g‖ > max,
    /// no epsilon.
    pub fn clip(&self, grads: &GradientsParams, max_norm: Option<f64>) -> Clipped {
        let (grads, norm) = self.gradients(grads);
        let scale = match max_norm {
            Some(max) if norm > max && norm.is_finite() => max / norm,
            _ => 1.0,
        };
        Clipped { grads, norm, scale }
    }

    /// The gradients: as LibTorch left them on LibTorch (its fused kernels take lists),
    /// else in one buffer. The flat sum of squares is taken in f64: one f32 sum over the
    /// whole buffer was measured 1e-5 off on flex, where per-tensor sums were closer.
    fn gradients(&self, grads: &GradientsParams) -> (Gradients, f64) {
        #[cfg(feature = "tch")]
        if let Some(list) =
            crate::libtorch::fused_update::slot_grads(&self.layout, grads, &self.params)
        {
            let norm = crate::libtorch::fused_update::global_norm(&list);
            return (Gradients::LibTorch(list), norm);
        }
        let g = self.layout.flatten_grads(grads, &self.params.device());
        let squares = g.clone().cast(FloatDType::F64).square().sum();
        (Gradients::Flat(g), squares.into_scalar::<f64>().sqrt())
    }

    /// One Adam step on θ with the clipped gradient g at learning rate `lr`:
    /// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr · m·c / (√v + ε√(1−β₂ᵗ)),
    /// c = √(1−β₂ᵗ)/(1−β₁ᵗ).
    pub fn adam(&mut self, clipped: Clipped, lr: f64) {
        match clipped.grads {
            Gradients::Flat(g) => {
                let g = if clipped.scale == 1.0 {
                    g
                } else {
                    g.mul_scalar(clipped.scale)
                };
                self.adam_flat(g, lr);
            }
            #[cfg(feature = "tch")]
            Gradients::LibTorch(list) => self.adam_fused(&list, clipped.scale, lr),
        }
    }

    fn adam_flat(&mut self, g: Tensor<1>, lr: f64) {
        let AdamSettings {
            beta_1,
            beta_2,
            epsilon,
        } = self.adam;
        let (m, v, time) = match self.moments.take() {
            Some(Moments { m, v, time }) => (
                m.mul_scalar(beta_1).add(g.clone().mul_scalar(1.0 - beta_1)),
                v.mul_scalar(beta_2)
                    .add(g.square().mul_scalar(1.0 - beta_2)),
                time + 1,
            ),
            None => (
                g.clone().mul_scalar(1.0 - beta_1),
                g.square().mul_scalar(1.0 - beta_2),
                1,
            ),
        };
        let t = time as i32;
        let correction_2 = (1.0 - beta_2.powi(t)).sqrt();
        let factor = correction_2 / (1.0 - beta_1.powi(t));
        let step = m
            .clone()
            .mul_scalar(factor)
            .div(v.clone().sqrt().add_scalar(epsilon * correction_2));
        self.params = self.params.clone() - step.mul_scalar(lr);
        self.moments = Some(Moments { m, v, time });
        self.model_is_current = false;
    }

    /// The same step as LibTorch's `_fused_adam_` (torch.optim.Adam(fused=True)), in place.
    #[cfg(feature = "tch")]
    fn adam_fused(&mut self, grads: &[tch::Tensor], scale: f64, lr: f64) {
        let zeros = || Tensor::zeros([self.layout.len()], &self.params.device());
        let Moments { m, v, time } = self.moments.take().unwrap_or_else(|| Moments {
            m: zeros(),
            v: zeros(),
            time: 0,
        });
        let AdamSettings {
            beta_1,
            beta_2,
            epsilon,
        } = self.adam;
        let step = crate::libtorch::shim::AdamStep {
            lr,
            beta_1: beta_1 as f64,
            beta_2: beta_2 as f64,
            epsilon: epsilon as f64,
            step: time + 1,
            grad_scale: 1.0 / scale,
        };
        crate::libtorch::fused_update::adam(&self.layout, [&self.params, &m, &v], grads, &step);
        self.moments = Some(Moments {
            m,
            v,
            time: time + 1,
        });
    }

    /// θ_ema ← d·θ_ema + (1 − d)·θ (the paper samples with decay 0.9999); on LibTorch as
    /// θ_ema + (1 − d)(θ − θ_ema), one kernel, in place.
    pub fn ema_step(&mut self, decay: f64) {
        #[cfg(feature = "tch")]
        if crate::libtorch::fused_update::on_libtorch(&self.ema) {
            crate::libtorch::fused_update::lerp_in_place(&self.ema, &self.params, 1.0 - decay);
            return;
        }
        let online = self.params.clone().mul_scalar(1.0 - decay);
        self.ema = self.ema.clone().mul_scalar(decay) + online;
    }

    /// `model` (on an autodiff device) with the current θ, still tracked for gradients. Pass
    /// the model this returned last (any model before the first call): after an in-place
    /// update that model is returned as it is, its parameters being views of θ already —
    /// re-slicing ~300 parameters every step was launch overhead on the training step.
    pub fn model<M: Module>(&mut self, model: M) -> M {
        if self.model_is_current {
            return model;
        }
        #[cfg(feature = "tch")]
        {
            self.model_is_current = crate::libtorch::fused_update::on_libtorch(&self.params);
        }
        self.layout.unflatten(model, &self.params, true)
    }

    /// The EMA weights as a module shaped like `model` (on the inner backend, for sampling,
    /// evaluation and checkpoints).
    pub fn ema_module<M: Module>(&self, model: &M) -> M {
        self.layout.unflatten(model.valid(), &self.ema, false)
    }
}
