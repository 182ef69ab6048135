//! Clipping by the global norm over every parameter's gradient (TensorFlow's
//! `clip_by_global_norm`, which the paper's code uses); Burn's own clipping works per tensor.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// Sums the squared gradient entries of every parameter.
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

/// Multiplies every gradient by one factor.
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

/// The global gradient norm before clipping; scales `grads` down to `max_norm` when above it.
pub fn clip_global_norm<M: Module>(
    model: &M,
    grads: &mut GradientsParams,
    max_norm: Option<f64>,
) -> f64 {
    let mut visitor = SquaredNorm { grads, total: None };
    model.visit(&mut visitor);
    let norm = visitor.total.map_or(0.0, |t| t.into_scalar::<f64>().sqrt());
    if let Some(max) = max_norm
        && norm > max
        && norm.is_finite()
    {
        // TF adds no epsilon here: scale = max / global_norm.
        model.visit(&mut Scale {
            grads,
            factor: max / norm,
        });
    }
    norm
}
