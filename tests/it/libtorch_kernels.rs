//! The UNet's LibTorch kernels (src/libtorch/: convolution, group normalisation, SiLU,
//! softmax, upsampling and dropout with LibTorch's own backward) against Burn's own decomposition of the same op on the same
//! device: forward and every gradient within a relative error of 1e-5 in fp32, on the shapes
//! the UNet uses. Built only with the `tch` feature (scripts/test.sh runs it).
#![cfg(feature = "tch")]
#![allow(deprecated)] // Device::libtorch: burn-tch is deprecated upstream

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::Distribution;
use ddpm_exp::libtorch;
use ddpm_exp::model::kernels;

const TOLERANCE: f64 = 1e-5;

fn device() -> Device {
    Device::libtorch().autodiff()
}

/// max |a − b| / max |b|.
fn relative_error<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f64 {
    let scale = b.clone().abs().max().into_scalar::<f32>() as f64;
    let diff = (a - b).abs().max().into_scalar::<f32>() as f64;
    diff / scale.max(f64::MIN_POSITIVE)
}

fn assert_close<const D: usize>(what: &str, ours: Tensor<D>, burns: Tensor<D>) {
    let error = relative_error(ours, burns);
    assert!(
        error <= TOLERANCE,
        "{what}: relative error {error:e} > {TOLERANCE:e}"
    );
}

fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// A seeded convolution like the UNet's (layers.rs `conv`), with random (non-zero) bias.
fn conv(c_in: usize, c_out: usize, kernel: usize, stride: usize, bias: bool) -> Conv2d {
    let p = kernel / 2;
    let mut conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(bias)
        .init(&device());
    if let Some(b) = conv.bias.take() {
        conv.bias = Some(b.map(|b| random([c_out], &b.device()).require_grad()));
    }
    conv
}

/// Checks `ours(x)` against `burns(x)` and the gradients of Σ y·r (random r) with respect to
/// x and every parameter in `params` (named).
fn check_op<const D: usize>(
    name: &str,
    routed: impl Fn(Tensor<D>) -> bool,
    x: Tensor<D>,
    ours: impl Fn(Tensor<D>) -> Tensor<D>,
    burns: impl Fn(Tensor<D>) -> Tensor<D>,
    params: &[(&str, Tensor<1>)],
    weights: &[(&str, Tensor<4>)],
) {
    let x = x.require_grad();
    assert!(
        routed(x.clone()),
        "{name}: not routed to LibTorch's kernels"
    );
    let (y_ours, y_burn) = (ours(x.clone()), burns(x.clone()));
    assert_close(&format!("{name} forward"), y_ours.clone(), y_burn.clone());
    let r = random(y_burn.dims(), &y_burn.device());
    let grads_ours = (y_ours * r.clone()).sum().backward();
    let grads_burn = (y_burn * r).sum().backward();
    let grad = |t: &Tensor<D>, g| t.grad(g).expect("a gradient");
    assert_close(
        &format!("{name} ∂x"),
        grad(&x, &grads_ours),
        grad(&x, &grads_burn),
    );
    for (what, p) in params {
        let (a, b) = (p.grad(&grads_ours).unwrap(), p.grad(&grads_burn).unwrap());
        assert_close(&format!("{name} ∂{what}"), a, b);
    }
    for (what, w) in weights {
        let (a, b) = (w.grad(&grads_ours).unwrap(), w.grad(&grads_burn).unwrap());
        assert_close(&format!("{name} ∂{what}"), a, b);
    }
}

fn check_conv(batch: usize, side: usize, conv: Conv2d) {
    let [c_out, c_in, k, _] = conv.weight.dims();
    let name = format!(
        "conv {k}×{k} stride {} {c_in}→{c_out} batch {batch}",
        conv.stride[0]
    );
    let x = random([batch, c_in, side, side], &device());
    let mut params = Vec::new();
    if let Some(bias) = &conv.bias {
        params.push(("bias", bias.val()));
    }
    check_op(
        &name,
        |x| libtorch::conv2d(&conv, x).is_ok(),
        x,
        |x| kernels::conv2d(&conv, x),
        |x| conv.forward(x),
        &params,
        &[("weight", conv.weight.val())],
    );
}

#[test]
fn convolutions_match_burns_forward_and_gradients() {
    Device::libtorch().seed(7);
    check_conv(3, 8, conv(32, 64, 3, 1, true));
    check_conv(3, 8, conv(64, 64, 3, 2, true));
    check_conv(3, 8, conv(64, 32, 1, 1, true));
    check_conv(1, 16, conv(3, 32, 3, 1, false));
    check_conv(5, 4, conv(32, 32, 1, 1, false));
}

fn group_norm(groups: usize, channels: usize) -> GroupNorm {
    let mut norm = GroupNormConfig::new(groups, channels).init(&device());
    // Not the identity initialisation, so ∂γ and ∂β are exercised at general values.
    norm.gamma = norm
        .gamma
        .map(|g| g.map(|g| random([channels], &g.device()).require_grad()));
    norm.beta = norm
        .beta
        .map(|b| b.map(|b| random([channels], &b.device()).require_grad()));
    norm
}

#[test]
fn group_norm_matches_burns_forward_and_gradients() {
    Device::libtorch().seed(11);
    for (batch, channels, side) in [(3, 64, 8), (1, 32, 16), (5, 128, 4)] {
        let norm = group_norm(32, channels);
        let x = random([batch, channels, side, side], &device())
            .mul_scalar(3.0)
            .add_scalar(1.0);
        let params = [
            ("γ", norm.gamma.as_ref().unwrap().val()),
            ("β", norm.beta.as_ref().unwrap().val()),
        ];
        let name = format!("group norm 32 groups {channels} channels batch {batch}");
        check_op(
            &name,
            |x| libtorch::group_norm(&norm, x).is_ok(),
            x,
            |x| kernels::group_norm(&norm, x),
            |x| norm.forward(x),
            &params,
            &[],
        );
    }
}

#[test]
fn silu_matches_burns_forward_and_gradient() {
    Device::libtorch().seed(13);
    let x = random([3, 16, 8, 8], &device()).mul_scalar(4.0);
    check_op(
        "silu",
        |x| libtorch::silu(x).is_ok(),
        x,
        kernels::silu,
        burn::tensor::activation::silu,
        &[],
        &[],
    );
}

#[test]
fn softmax_matches_burns_forward_and_gradient() {
    Device::libtorch().seed(19);
    // The attention's weights: [batch, h·w, h·w] over the last dimension, odd batch.
    let x = random([3, 64, 64], &device()).mul_scalar(3.0);
    check_op(
        "softmax",
        |x| libtorch::softmax(x, 2).is_ok(),
        x,
        |x| kernels::softmax(x, 2),
        |x| burn::tensor::activation::softmax(x, 2),
        &[],
        &[],
    );
}

#[test]
fn upsampling_matches_burns_forward_and_gradient() {
    Device::libtorch().seed(23);
    // Each value repeated over a 2×2, as Burn's reshape and expand give it.
    let repeated = |x: Tensor<4>| {
        let [b, c, h, w] = x.dims();
        x.reshape([b, c, h, 1, w, 1])
            .expand([b, c, h, 2, w, 2])
            .reshape([b, c, 2 * h, 2 * w])
    };
    for shape in [[3, 32, 4, 4], [1, 8, 16, 8]] {
        check_op(
            "upsample ×2",
            |x| libtorch::upsample_nearest(x).is_ok(),
            random(shape, &device()),
            kernels::upsample_nearest,
            repeated,
            &[],
            &[],
        );
    }
}

#[test]
fn sampling_without_autodiff_uses_the_same_kernels() {
    // The inference path (no autodiff): the plain LibTorch implementations.
    let device = Device::libtorch();
    device.seed(17);
    let conv = Conv2dConfig::new([8, 8], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&device);
    let norm = GroupNormConfig::new(4, 8).init(&device);
    let x = random([3, 8, 8, 8], &device);
    assert!(libtorch::conv2d(&conv, x.clone()).is_ok());
    let ours = kernels::conv2d(&conv, kernels::silu(kernels::group_norm(&norm, x.clone())));
    let burns = conv.forward(burn::tensor::activation::silu(norm.forward(x)));
    assert_close("GN → SiLU → conv without autodiff", ours, burns);
    let scores = random([3, 16, 16], &device);
    assert!(libtorch::softmax(scores.clone(), 2).is_ok());
    let ours = kernels::softmax(scores.clone(), 2);
    let burns = burn::tensor::activation::softmax(scores, 2);
    assert_close("softmax without autodiff", ours, burns);
}

#[test]
fn dropout_keeps_scales_and_backpropagates_through_the_same_mask() {
    let dropout = burn::nn::DropoutConfig::new(0.25).init();
    let x = random([4, 16, 8, 8], &device()).add_scalar(10.0); // never 0
    let draw = |seed: u64| {
        let x = x.clone().require_grad();
        assert!(
            libtorch::dropout(&dropout, x.clone()).is_ok(),
            "not routed to LibTorch"
        );
        kernels::seed_dropout(&device(), seed);
        (x.clone(), kernels::dropout(&dropout, x))
    };
    let (x, y) = draw(5);
    let kept = y.clone().not_equal_elem(0.0).float();
    let fraction = kept.clone().mean().into_scalar::<f32>() as f64;
    assert!((fraction - 0.75).abs() < 0.03, "kept {fraction}");
    // Kept values are x / (1 − p).
    let expected = x.clone().mul_scalar(1.0 / 0.75) * kept.clone();
    assert_close("dropout forward", y.clone(), expected);
    // ∂(Σ y·r)/∂x = r · mask / (1 − p).
    let r = random(y.dims(), &device());
    let grads = (y.clone() * r.clone()).sum().backward();
    let want = (r * kept.clone()).mul_scalar(1.0 / 0.75).inner();
    assert_close("dropout ∂x", x.grad(&grads).unwrap(), want);
    // The step's seed decides the mask: the CPU masks come from this thread's stream.
    let mask = |seed| draw(seed).1.not_equal_elem(0.0).float();
    let same = (mask(5) - kept.clone()).abs().sum().into_scalar::<f32>();
    assert_eq!(same, 0.0, "seed 5 twice gave different masks");
    let other = (mask(6) - kept).abs().sum().into_scalar::<f32>();
    assert!(other > 0.0, "seeds 5 and 6 gave the same mask");
    // Without autodiff (sampling) it is the identity, as Burn's.
    let plain = random([2, 4, 4, 4], &Device::libtorch());
    assert!(libtorch::dropout(&dropout, plain.clone()).is_err());
}

#[test]
fn dropout_masks_do_not_depend_on_the_thread_count_and_continue_the_stream() {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    let n = 300_001; // several parallel chunks, the last one short
    let flags = |threads| {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let first = libtorch::dropout_mask::draw_keep(&mut rng, n, 0.1, threads);
        (
            first,
            libtorch::dropout_mask::draw_keep(&mut rng, n, 0.1, threads),
        )
    };
    let (one, next) = flags(1);
    assert_eq!(flags(3), (one.clone(), next.clone()));
    // Two draws of n are the first 2n words of the stream, so no word is used twice.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let both = libtorch::dropout_mask::draw_keep(&mut rng, 2 * n, 0.1, 2);
    assert_eq!(both, [one.clone(), next].concat());
    let kept = one.iter().map(|&k| k as f64).sum::<f64>() / n as f64;
    assert!((kept - 0.9).abs() < 0.003, "kept {kept}");
}
