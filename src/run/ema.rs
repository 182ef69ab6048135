//! Exponential moving average of the weights: θ_ema ← d·θ_ema + (1 − d)·θ (the paper samples
//! with an EMA of decay 0.9999).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;

/// Collects every float parameter, flattened and detached from autodiff.
struct Collect {
    values: HashMap<ParamId, Tensor<1>>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let flat = param.val().inner().flatten::<1>(0, D - 1);
        self.values.insert(param.id, flat);
    }
}

/// Blends each EMA parameter towards the online parameter with the same id.
struct Blend {
    online: HashMap<ParamId, Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(online) = self.online.remove(&param.id) else {
            return param;
        };
        let decay = self.decay;
        param.map(|ema| {
            let shape = ema.shape();
            ema.mul_scalar(decay) + online.reshape(shape).mul_scalar(1.0 - decay)
        })
    }
}

/// Returns `ema` moved one step towards `online`.
pub fn ema_update<M: Module>(ema: M, online: &M, decay: f64) -> M {
    let mut collect = Collect {
        values: HashMap::new(),
    };
    online.visit(&mut collect);
    ema.map(&mut Blend {
        online: collect.values,
        decay,
    })
}
