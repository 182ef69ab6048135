//! Where each float parameter of a module sits in one flat buffer: the order the module visits
//! its parameters in, with each one's id, path and shape. The flat update (flat_update.rs)
//! keeps the weights, Adam's moments and the EMA in such buffers, so a step is a handful of
//! ops over three contiguous tensors instead of a dozen per parameter tensor.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// One parameter's place in the buffer.
#[derive(Debug, Clone)]
pub struct Slot {
    pub id: ParamId,
    /// Field names from the root (`down.0.blocks.1.conv1.weight`).
    pub path: String,
    pub shape: Vec<usize>,
    pub offset: usize,
}

impl Slot {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
}

#[derive(Debug, Clone)]
pub struct FlatLayout {
    slots: Vec<Slot>,
    index: HashMap<ParamId, usize>,
    total: usize,
}

struct Lay {
    path: Vec<String>,
    slots: Vec<Slot>,
    total: usize,
}

impl ModuleVisitor for Lay {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let shape = param.shape().to_vec();
        let slot = Slot {
            id: param.id,
            path: self.path.join("."),
            offset: self.total,
            shape,
        };
        self.total += slot.len();
        self.slots.push(slot);
    }
}

/// Every float parameter's value (detached from autodiff), flattened, by id.
struct Values {
    found: HashMap<ParamId, Tensor<1>>,
}

impl ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let flat = param.val().inner().reshape([-1]);
        self.found.insert(param.id, flat);
    }
}

/// Replaces each parameter by its slice of `flat`; under autodiff it keeps tracking the
/// parameters that were tracked.
struct FromFlat<'a> {
    layout: &'a FlatLayout,
    flat: &'a Tensor<1>,
    autodiff: bool,
}

impl ModuleMapper for FromFlat<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(slot) = self.layout.slot(param.id) else {
            return param;
        };
        let (id, tensor, mapper) = param.consume();
        let range = slot.offset..slot.offset + slot.len();
        let value: Tensor<D> = self.flat.clone().slice(range).reshape(tensor.shape());
        let value = if self.autodiff {
            let tracked = tensor.is_require_grad();
            let value = Tensor::from_inner(value);
            if tracked { value.require_grad() } else { value }
        } else {
            value
        };
        Param::from_mapped_value(id, value, mapper)
    }
}

impl FlatLayout {
    /// The layout of `module`'s float parameters, in its visiting order.
    pub fn of<M: Module>(module: &M) -> Self {
        let mut lay = Lay {
            path: Vec::new(),
            slots: Vec::new(),
            total: 0,
        };
        module.visit(&mut lay);
        let index = lay
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id, i))
            .collect();
        Self {
            slots: lay.slots,
            index,
            total: lay.total,
        }
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn slot(&self, id: ParamId) -> Option<&Slot> {
        self.index.get(&id).map(|&i| &self.slots[i])
    }

    /// Total number of values.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// `module`'s parameters in one buffer (on the inner, non-autodiff backend).
    pub fn flatten<M: Module>(&self, module: &M) -> Tensor<1> {
        let mut values = Values {
            found: HashMap::new(),
        };
        module.visit(&mut values);
        let parts = self.slots.iter().map(|slot| {
            values
                .found
                .remove(&slot.id)
                .expect("the module has the layout's parameters")
        });
        Tensor::cat(parts.collect(), 0)
    }

    /// The gradients in one buffer, zeros for a parameter that got none.
    pub fn flatten_grads(&self, grads: &GradientsParams, device: &Device) -> Tensor<1> {
        let parts = self.slots.iter().map(|slot| {
            flat_grad(grads, slot).unwrap_or_else(|| Tensor::zeros([slot.len()], device))
        });
        Tensor::cat(parts.collect(), 0)
    }

    /// `module` with every parameter replaced by its slice of `flat` (views where the backend
    /// has them). `autodiff`: `module` is on an autodiff device and `flat` on its inner one.
    pub fn unflatten<M: Module>(&self, module: M, flat: &Tensor<1>, autodiff: bool) -> M {
        module.map(&mut FromFlat {
            layout: self,
            flat,
            autodiff,
        })
    }
}

/// A parameter's gradient, flattened (GradientsParams is typed by rank; the UNet's are 1–4).
fn flat_grad(grads: &GradientsParams, slot: &Slot) -> Option<Tensor<1>> {
    match slot.shape.len() {
        1 => grads.get::<1>(slot.id),
        2 => grads.get::<2>(slot.id).map(|g| g.reshape([-1])),
        3 => grads.get::<3>(slot.id).map(|g| g.reshape([-1])),
        4 => grads.get::<4>(slot.id).map(|g| g.reshape([-1])),
        rank => panic!("a rank-{rank} parameter ({}) in the flat update", slot.path),
    }
}
