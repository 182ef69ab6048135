//! Mixed precision (bf16): the weights, Adam's moments and the EMA stay in f32; each forward
//! pass runs on a bf16 copy of the weights made inside the autodiff graph, so gradients flow
//! back through the cast to the f32 weights — what `torch.autocast(dtype=bfloat16)` does,
//! except that Burn has no per-op policy, so normalisation and softmax also run in bf16.

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use burn::tensor::FloatDType;
use serde::{Deserialize, Serialize};

use super::UNet;

/// The arithmetic of the network's forward and backward passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    #[default]
    Fp32,
    /// bf16 compute, f32 weights and optimiser state.
    Bf16,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
        }
    }
}

/// Casts every float parameter, keeping it in the graph (Param::map keeps the tensor's node).
struct CastFloats(FloatDType);

impl ModuleMapper for CastFloats {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dtype = self.0;
        param.map(|tensor| tensor.cast(dtype))
    }
}

/// The network output for x_t at timesteps `t` in f32, computed at `precision`.
pub fn forward_at(model: &UNet, x: Tensor<4>, t: &[usize], precision: Precision) -> Tensor<4> {
    match precision {
        Precision::Fp32 => model.forward(x, t),
        Precision::Bf16 => model
            .clone()
            .map(&mut CastFloats(FloatDType::BF16))
            .forward(x.cast(FloatDType::BF16), t)
            .cast(FloatDType::F32),
    }
}
