//! The UNet's convolution, group normalisation and SiLU as Burn backend-extension ops on
//! LibTorch: forward on LibTorch's own kernels, and under autodiff a backward that is one call
//! to the kernel PyTorch's autograd uses (at::convolution_backward,
//! at::native_group_norm_backward, silu_backward) instead of Burn's decomposition
//! (burn-backend's conv2d_weight_backward, burn-nn's elementwise GroupNorm).

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, NodeGuard, Ops, OpsKind};
use burn::backend::libtorch::TchTensor;
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, LibTorch, backend_extension};
use burn::tensor::ops::ConvOptions;

use super::dropout_mask;
use super::shim::{self, Grads3};

/// The saved statistics and shape of one group-normalisation forward pass.
#[derive(Debug, Clone)]
struct GroupNormSaved {
    mean: TchTensor,
    rstd: TchTensor,
    /// (batch, channels, positions per channel, groups)
    shape: [i64; 4],
}

#[backend_extension(Autodiff, LibTorch)]
pub trait LibTorchKernels: Backend {
    /// 2-D convolution with a bias and symmetric padding.
    fn conv2d_native(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
    /// The same without a bias.
    fn conv2d_native_unbiased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
    /// Group normalisation of [batch, channels, …] with per-channel γ and β.
    fn group_norm_native(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        groups: usize,
        epsilon: f64,
    ) -> FloatTensor<Self>;
    /// x·sigmoid(x) in one kernel.
    fn silu_native(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// Softmax over `dim` in one kernel (Burn's is five, each with its own backward).
    fn softmax_native(x: FloatTensor<Self>, dim: usize) -> FloatTensor<Self>;
    /// Training-time dropout: each value zeroed with probability `prob`, the rest scaled by
    /// 1/(1 − prob); the mask as `dropout_with_mask` draws it.
    fn dropout_native(x: FloatTensor<Self>, prob: f64) -> FloatTensor<Self>;
}

/// (batch, channels, positions per channel, groups) of a group-norm input.
fn group_norm_shape(x: &tch::Tensor, groups: usize) -> [i64; 4] {
    let size = x.size();
    let (n, c) = (size[0], size[1]);
    [n, c, size[2..].iter().product(), groups as i64]
}

fn native_group_norm(
    x: &TchTensor,
    gamma: &TchTensor,
    beta: &TchTensor,
    groups: usize,
    epsilon: f64,
) -> (TchTensor, GroupNormSaved) {
    let shape = group_norm_shape(&x.tensor, groups);
    let [n, c, hxw, groups] = shape;
    let (out, mean, rstd) = x.tensor.native_group_norm(
        Some(&gamma.tensor),
        Some(&beta.tensor),
        n,
        c,
        hxw,
        groups,
        epsilon,
    );
    let saved = GroupNormSaved {
        mean: TchTensor::new(mean),
        rstd: TchTensor::new(rstd),
        shape,
    };
    (TchTensor::new(out), saved)
}

impl LibTorchKernels for LibTorch {
    fn conv2d_native(
        x: TchTensor,
        weight: TchTensor,
        bias: TchTensor,
        options: ConvOptions<2>,
    ) -> TchTensor {
        <LibTorch as ModuleOps<LibTorch>>::conv2d(x, weight, Some(bias), options)
    }

    fn conv2d_native_unbiased(
        x: TchTensor,
        weight: TchTensor,
        options: ConvOptions<2>,
    ) -> TchTensor {
        <LibTorch as ModuleOps<LibTorch>>::conv2d(x, weight, None, options)
    }

    fn group_norm_native(
        x: TchTensor,
        gamma: TchTensor,
        beta: TchTensor,
        groups: usize,
        epsilon: f64,
    ) -> TchTensor {
        native_group_norm(&x, &gamma, &beta, groups, epsilon).0
    }

    fn silu_native(x: TchTensor) -> TchTensor {
        TchTensor::new(x.tensor.silu())
    }

    fn softmax_native(x: TchTensor, dim: usize) -> TchTensor {
        TchTensor::new(x.tensor.internal_softmax(dim as i64, false))
    }

    fn dropout_native(x: TchTensor, prob: f64) -> TchTensor {
        TchTensor::new(dropout_with_mask(&x.tensor, prob).0)
    }
}

/// Dropout's output x·mask/(1 − prob) and its keep mask: the mask from this thread's seeded
/// stream on the CPU (dropout_mask.rs), else from LibTorch's generator.
fn dropout_with_mask(x: &tch::Tensor, prob: f64) -> (tch::Tensor, tch::Tensor) {
    match dropout_mask::keep_mask(x, prob) {
        Some(mask) => {
            let out = tch::Tensor::native_dropout_backward(x, &mask, 1.0 / (1.0 - prob));
            (out, mask)
        }
        None => x.native_dropout(prob, true),
    }
}

/// The node ids of the parents that want a gradient.
fn tracked<S, const N: usize>(ops: &Ops<S, N>) -> [Option<NodeId>; N] {
    ops.parents
        .each_ref()
        .map(|parent| parent.as_ref().map(|node| node.id))
}

/// Registers each computed gradient on its parent's node.
fn register<const N: usize>(grads: &mut Gradients, parents: [Option<NodeId>; N], computed: Grads3) {
    for (parent, grad) in parents.into_iter().zip(computed) {
        if let (Some(id), Some(grad)) = (parent, grad) {
            grads.register::<LibTorch>(id, TchTensor::new(grad));
        }
    }
}

/// The convolution's backward: x, weight (and bias, when N = 3) in one call.
#[derive(Debug)]
struct Conv2dBackward<const N: usize>;

impl<const N: usize> Backward<LibTorch, N> for Conv2dBackward<N> {
    type State = (TchTensor, TchTensor, ConvOptions<2>);

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<LibTorch>(&ops.node);
        let parents = tracked(&ops);
        let (x, weight, options) = ops.state;
        let wanted = [0, 1, 2].map(|i| parents.get(i).is_some_and(Option::is_some));
        let computed =
            shim::conv2d_backward(&grad.tensor, &x.tensor, &weight.tensor, &options, wanted);
        register(grads, parents, computed);
    }
}

fn conv2d_tracked<C: CheckpointStrategy, const N: usize>(
    nodes: [NodeGuard; N],
    x: TchTensor,
    weight: TchTensor,
    bias: Option<TchTensor>,
    options: ConvOptions<2>,
) -> FloatTensor<Autodiff<LibTorch, C>> {
    let output = |x, weight, bias, options| {
        <LibTorch as ModuleOps<LibTorch>>::conv2d(x, weight, bias, options)
    };
    match Conv2dBackward::<N>
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let out = output(x.clone(), weight.clone(), bias, options.clone());
            prep.finish((x, weight, options), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(output(x, weight, bias, options)),
    }
}

/// Group normalisation's backward from the forward's saved mean and 1/σ.
#[derive(Debug)]
struct GroupNormBackward;

impl Backward<LibTorch, 3> for GroupNormBackward {
    type State = (TchTensor, TchTensor, GroupNormSaved);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<LibTorch>(&ops.node);
        let parents = tracked(&ops);
        let (x, gamma, saved) = ops.state;
        let wanted = parents.map(|id| id.is_some());
        let stats = (&saved.mean.tensor, &saved.rstd.tensor, saved.shape);
        let computed =
            shim::group_norm_backward(&grad.tensor, &x.tensor, &gamma.tensor, stats, wanted);
        register(grads, parents, computed);
    }
}

/// SiLU's backward, σ(x)(1 + x(1 − σ(x))) in one kernel.
#[derive(Debug)]
struct SiluBackward;

impl Backward<LibTorch, 1> for SiluBackward {
    type State = TchTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<LibTorch>(&ops.node);
        if let [Some(node)] = &ops.parents {
            let grad_x = ops.state.tensor.silu_backward(&grad.tensor);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad_x));
        }
    }
}

/// Softmax's backward from its output y: y·(g − Σ g·y) in one kernel.
#[derive(Debug)]
struct SoftmaxBackward;

impl Backward<LibTorch, 1> for SoftmaxBackward {
    /// The output and the dimension.
    type State = (TchTensor, usize);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<LibTorch>(&ops.node);
        if let [Some(node)] = &ops.parents {
            let (y, dim) = &ops.state;
            let grad_x = tch::Tensor::internal_softmax_backward_data(
                &grad.tensor,
                &y.tensor,
                *dim as i64,
                y.tensor.kind(),
            );
            grads.register::<LibTorch>(node.id, TchTensor::new(grad_x));
        }
    }
}

/// Dropout's backward: the gradient through the kept values, scaled as they were.
#[derive(Debug)]
struct DropoutBackward;

impl Backward<LibTorch, 1> for DropoutBackward {
    /// The keep mask and 1/(1 − prob).
    type State = (TchTensor, f64);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<LibTorch>(&ops.node);
        if let [Some(node)] = &ops.parents {
            let (mask, scale) = &ops.state;
            let grad_x = tch::Tensor::native_dropout_backward(&grad.tensor, &mask.tensor, *scale);
            grads.register::<LibTorch>(node.id, TchTensor::new(grad_x));
        }
    }
}

impl<C: CheckpointStrategy> LibTorchKernels for Autodiff<LibTorch, C> {
    fn conv2d_native(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        conv2d_tracked::<C, 3>(
            [x.node(), weight.node(), bias.node()],
            x.into_primitive(),
            weight.into_primitive(),
            Some(bias.into_primitive()),
            options,
        )
    }

    fn conv2d_native_unbiased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let nodes = [x.node(), weight.node()];
        conv2d_tracked::<C, 2>(
            nodes,
            x.into_primitive(),
            weight.into_primitive(),
            None,
            options,
        )
    }

    fn group_norm_native(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        groups: usize,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let nodes = [x.node(), gamma.node(), beta.node()];
        let (x, gamma, beta) = (
            x.into_primitive(),
            gamma.into_primitive(),
            beta.into_primitive(),
        );
        match GroupNormBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (out, saved) = native_group_norm(&x, &gamma, &beta, groups, epsilon);
                prep.finish((x, gamma, saved), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(native_group_norm(&x, &gamma, &beta, groups, epsilon).0)
            }
        }
    }

    fn silu_native(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match SiluBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let x = x.into_primitive();
                let out = LibTorch::silu_native(x.clone());
                prep.finish(x, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(LibTorch::silu_native(x.into_primitive())),
        }
    }

    fn softmax_native(x: FloatTensor<Self>, dim: usize) -> FloatTensor<Self> {
        match SoftmaxBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = LibTorch::softmax_native(x.into_primitive(), dim);
                prep.finish((y.clone(), dim), y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(LibTorch::softmax_native(x.into_primitive(), dim))
            }
        }
    }

    fn dropout_native(x: FloatTensor<Self>, prob: f64) -> FloatTensor<Self> {
        let scale = 1.0 / (1.0 - prob);
        match DropoutBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (out, mask) = dropout_with_mask(&x.into_primitive().tensor, prob);
                let state = (TchTensor::new(mask), scale);
                prep.finish(state, TchTensor::new(out))
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(LibTorch::dropout_native(x.into_primitive(), prob))
            }
        }
    }
}
