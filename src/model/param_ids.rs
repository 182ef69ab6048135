//! Parameter ids fixed by each parameter's place in the module. Burn draws every `ParamId` at
//! random and writes it beside its tensor (and the optimiser keys its state by it), so two runs
//! of the same spec and seed wrote checkpoints with equal tensors but different bytes. With ids
//! derived from the parameter's path (e.g. `down.0.blocks.1.conv1.weight`), the same spec and
//! seed give the same checkpoint files, and their SHA-256s prove a reproduction.

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::prelude::*;
use sha2::{Digest, Sha256};

/// `module` with every parameter's id replaced by [`path_id`] of its path.
pub fn with_path_ids<M: Module>(module: M) -> M {
    module.map(&mut PathIds { path: Vec::new() })
}

/// The id of the parameter at `path` (field names and indices from the root module): the
/// first 8 bytes of a SHA-256, so distinct paths never share an id in practice.
pub fn path_id(path: &[String]) -> ParamId {
    let digest = Sha256::digest(format!("ddpm-exp parameter {}", path.join(".")));
    let bytes: [u8; 8] = digest[..8].try_into().expect("a SHA-256 has 32 bytes");
    ParamId::from(u64::from_le_bytes(bytes))
}

struct PathIds {
    path: Vec<String>,
}

impl ModuleMapper for PathIds {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.id = path_id(&self.path);
        param
    }

    fn map_int<const D: usize>(
        &mut self,
        mut param: Param<Tensor<D, Int>>,
    ) -> Param<Tensor<D, Int>> {
        param.id = path_id(&self.path);
        param
    }

    fn map_bool<const D: usize>(
        &mut self,
        mut param: Param<Tensor<D, Bool>>,
    ) -> Param<Tensor<D, Bool>> {
        param.id = path_id(&self.path);
        param
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{UNetConfig, UNetShape};

    /// Every parameter of the UNet gets its own id, the same on every build of the network.
    #[test]
    fn ids_are_distinct_and_repeat_across_inits() {
        let config = UNetConfig {
            in_channels: 1,
            out_channels: 1,
            image_size: 8,
            shape: UNetShape {
                channels: 8,
                channel_mult: vec![1, 2],
                num_res_blocks: 1,
                attention_resolutions: vec![4],
                dropout: 0.0,
                norm_groups: 4,
            },
        };
        let device = Device::flex();
        let ids = |net: crate::model::UNet| {
            burn::module::list_param_ids(&net)
                .into_iter()
                .map(|id| id.val())
                .collect::<Vec<u64>>()
        };
        let first = ids(config.init(&device));
        let mut distinct = first.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), first.len(), "two parameters share an id");
        assert!(first.len() > 20, "only {} parameters", first.len());
        assert_eq!(ids(config.init(&device)), first);
    }
}
