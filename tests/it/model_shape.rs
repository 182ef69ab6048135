//! The UNet: the paper's parameter count and output shapes.

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use ddpm_exp::model::{UNetConfig, UNetShape};

#[test]
fn paper_cifar10_unet_has_35_7m_parameters() {
    // Ho et al. 2020, Appendix B: "Our CIFAR10 model has 35.7 million parameters". The exact
    // 35,746,307 was counted layer by layer (convs k·k·in·out + out, dense in·out + out,
    // GroupNorm 2c, attention GN + four c×c dense) in a separate script over the same layout.
    let model = UNetConfig::paper_cifar10().init(&crate::common::device());
    assert_eq!(model.num_params(), 35_746_307);
}

/// A one-channel 8×8 UNet of two levels, small enough to run anywhere.
fn tiny() -> UNetConfig {
    UNetConfig {
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
    }
}

#[test]
fn output_matches_input_shape_and_doubles_for_learned_variance() {
    let device = crate::common::device();
    let mut config = tiny();
    assert!(config.problems().is_empty());
    let x = Tensor::<4>::zeros([3, 1, 8, 8], &device);
    assert_eq!(
        config
            .init(&device)
            .forward(x.clone(), &[1, 500, 1000])
            .dims(),
        [3, 1, 8, 8]
    );
    config.out_channels = 2;
    assert_eq!(
        config.init(&device).forward(x, &[1, 2, 3]).dims(),
        [3, 2, 8, 8]
    );
}

#[test]
fn freshly_built_net_predicts_almost_zero() {
    // The output conv starts near zero (official init scale 1e-10), so the first ε prediction
    // is ~0 and the first L_simple ≈ E[ε²] = 1.
    let device = crate::common::device();
    let config = tiny();
    let out = config
        .init(&device)
        .forward(Tensor::ones([2, 1, 8, 8], &device), &[10, 20]);
    let max = out.abs().max().into_scalar::<f32>();
    assert!(max < 1e-3, "max |output| = {max}");
}

#[test]
fn a_batch_at_one_timestep_gives_what_the_per_image_path_gives() {
    // A batch whose images all stand at one t embeds it once and broadcasts the embedding
    // (unet.rs); one image at another t sends the batch down the per-image path.
    let device = crate::common::device();
    // Every weight O(0.1) instead of the near-zero branch ends of a fresh net, so that the
    // output depends on t.
    let model = tiny().init(&device).map(&mut Scrambled(0));
    let pixels: Vec<f32> = (0..4 * 64)
        .map(|i| (i * 37 % 101) as f32 / 50.0 - 1.0)
        .collect();
    let x = Tensor::<4>::from_data(TensorData::new(pixels, [4, 1, 8, 8]), &device);
    let shared = model.forward(x.clone(), &[300; 4]);
    let mixed = model.forward(x, &[300, 300, 300, 7]);
    let scale = shared.clone().abs().max().into_scalar::<f32>();
    let first_three = |out: &Tensor<4>| out.clone().narrow(0, 0, 3);
    let gap = (first_three(&shared) - first_three(&mixed))
        .abs()
        .max()
        .into_scalar::<f32>();
    assert!(
        scale > 0.0 && gap <= 1e-5 * scale,
        "off by {gap} of {scale}"
    );
    let other_t = (shared.narrow(0, 3, 1) - mixed.narrow(0, 3, 1))
        .abs()
        .max()
        .into_scalar::<f32>();
    assert!(
        other_t > 1e-3 * scale,
        "t = 7 and t = 300 gave the same output"
    );
}

/// Sets every float parameter to fixed pseudo-random values in ±0.2.
struct Scrambled(usize);

impl ModuleMapper for Scrambled {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.0 += 1;
        let salt = self.0;
        param.map(|tensor| {
            let shape = tensor.shape();
            let values: Vec<f32> = (0..shape.num_elements())
                .map(|i| 0.2 * ((salt * 7919 + i * 104_729) as f32 * 0.618).sin())
                .collect();
            Tensor::from_data(TensorData::new(values, shape), &tensor.device())
        })
    }
}
