//! The flat update's clipping, Adam and EMA on LibTorch's own multi-tensor kernels, as
//! `torch.optim.Adam(fused=True)` and `clip_grad_norm_` run them: the global norm from
//! `_foreach_norm` over the gradients as autodiff left them (no copy into one buffer), Adam as
//! one `_fused_adam_` over views of the flat θ, m and v (updated in place), and the EMA as one
//! `lerp` over the flat buffers. On the CPU this keeps each tensor's update in cache; on a GPU
//! it is a handful of launches instead of thousands.

use burn::backend::LibTorch;
use burn::optim::GradientsParams;
use burn::prelude::*;

use super::shim::{self, AdamStep};
use crate::optim::{FlatLayout, Slot};

/// Whether a buffer lives on LibTorch.
pub fn on_libtorch(flat: &Tensor<1>) -> bool {
    super::on_libtorch(flat.clone()).is_ok()
}

/// The LibTorch tensor behind a plain (non-autodiff) float tensor on LibTorch, else None.
fn torch_tensor<const D: usize>(tensor: Tensor<D>) -> Option<tch::Tensor> {
    let tensor = Tensor::<D>::from_dispatch(super::on_libtorch(tensor).ok()?);
    let primitive = tensor.try_into_primitive::<LibTorch>().ok()?;
    Some(primitive.tensor)
}

/// A slot's gradient, contiguous: the fused kernels walk a gradient's memory in its
/// parameter's order (PyTorch's autograd lays gradients out so; convolution_backward's weight
/// gradient may come in another memory format).
fn slot_grad(grads: &GradientsParams, slot: &Slot) -> Option<tch::Tensor> {
    let grad = match slot.shape.len() {
        1 => torch_tensor(grads.get::<1>(slot.id)?),
        2 => torch_tensor(grads.get::<2>(slot.id)?),
        3 => torch_tensor(grads.get::<3>(slot.id)?),
        4 => torch_tensor(grads.get::<4>(slot.id)?),
        _ => None,
    };
    grad.map(|g| g.contiguous())
}

/// Every slot's gradient as a LibTorch tensor (zeros where autodiff gave none), or None if
/// `flat` (any of the update's buffers) is not on LibTorch.
pub fn slot_grads(
    layout: &FlatLayout,
    grads: &GradientsParams,
    flat: &Tensor<1>,
) -> Option<Vec<tch::Tensor>> {
    let like = torch_tensor(flat.clone())?;
    let found = layout.slots().iter().map(|slot| {
        slot_grad(grads, slot).unwrap_or_else(|| {
            let shape: Vec<i64> = slot.shape.iter().map(|&d| d as i64).collect();
            tch::Tensor::zeros(shape.as_slice(), (like.kind(), like.device()))
        })
    });
    Some(found.collect())
}

/// ‖g‖₂ over every gradient.
pub fn global_norm(grads: &[tch::Tensor]) -> f64 {
    shim::global_norm(grads)
}

/// Each slot's view of a flat buffer, shaped as its parameter.
fn views(layout: &FlatLayout, flat: &Tensor<1>) -> Vec<tch::Tensor> {
    let flat = torch_tensor(flat.clone()).expect("the flat buffers live on LibTorch");
    let view = |slot: &Slot| {
        let shape: Vec<i64> = slot.shape.iter().map(|&d| d as i64).collect();
        flat.narrow(0, slot.offset as i64, slot.len() as i64)
            .view(shape.as_slice())
    };
    layout.slots().iter().map(view).collect()
}

/// One Adam step, in place in the flat `params`, `m` and `v`.
pub fn adam(
    layout: &FlatLayout,
    [params, m, v]: [&Tensor<1>; 3],
    grads: &[tch::Tensor],
    step: &AdamStep,
) {
    let (p, m, v) = (views(layout, params), views(layout, m), views(layout, v));
    shim::fused_adam(&p, grads, &m, &v, step);
}

/// θ_ema ← θ_ema + w·(θ − θ_ema), in place (a fresh 143 MB buffer each step cost more than
/// the arithmetic on the CPU: its pages are faulted in anew). The EMA buffer is the update's
/// own; modules made from it are used and dropped before the next step.
pub fn lerp_in_place(ema: &Tensor<1>, params: &Tensor<1>, weight: f64) {
    let (e, p) = (torch_tensor(ema.clone()), torch_tensor(params.clone()));
    let (mut e, p) = (e.expect("on LibTorch"), p.expect("on LibTorch"));
    let _ = e.lerp_(&p, weight);
}
