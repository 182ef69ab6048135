// LibTorch kernels that tch 0.22 does not bind, for ddpm-exp's custom autodiff ops
// (src/libtorch/). Each function takes and returns `at::Tensor*` (what tch's C_tensor is),
// never lets a C++ exception cross into Rust, and reports failure as a null result with the
// message kept for ddpm_kernels_last_error. Compiled by build.rs only with the `tch` feature.
#include <ATen/ATen.h>

#include <array>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace {
thread_local std::string last_error;

at::Tensor *boxed(at::Tensor &&tensor, bool wanted) {
    return wanted ? new at::Tensor(std::move(tensor)) : nullptr;
}

// Runs `body`: 0 when it returns, 1 with the message kept when it throws.
template <typename F>
int guarded(F body) {
    try {
        body();
        return 0;
    } catch (const std::exception &e) {
        last_error = e.what();
        return 1;
    }
}

// The three gradients of a backward kernel into `out` (null where not wanted).
void store(std::tuple<at::Tensor, at::Tensor, at::Tensor> &&grads, const bool *wanted,
           at::Tensor **out) {
    out[0] = boxed(std::move(std::get<0>(grads)), wanted[0]);
    out[1] = boxed(std::move(std::get<1>(grads)), wanted[1]);
    out[2] = boxed(std::move(std::get<2>(grads)), wanted[2]);
}

std::vector<at::Tensor> list(const at::Tensor *const *tensors, int64_t n) {
    std::vector<at::Tensor> out;
    out.reserve(n);
    for (int64_t i = 0; i < n; ++i) out.push_back(*tensors[i]);
    return out;
}
}  // namespace

extern "C" {

const char *ddpm_kernels_last_error() { return last_error.c_str(); }

// The three gradients of a 2-D convolution in one call (at::convolution_backward, which
// dispatches to cuDNN / oneDNN as PyTorch's own autograd does). `wanted` says which of
// (input, weight, bias) to compute; `out` receives them (null where not wanted).
// Returns 0, or 1 with the error kept.
int ddpm_conv2d_backward(const at::Tensor *grad_output, const at::Tensor *input,
                         const at::Tensor *weight, const int64_t *stride,
                         const int64_t *padding, const int64_t *dilation, int64_t groups,
                         const bool *wanted, at::Tensor **out) {
    return guarded([&] {
        std::array<int64_t, 1> bias_sizes{weight->size(0)};
        store(at::convolution_backward(
                  *grad_output, *input, *weight,
                  wanted[2] ? at::OptionalIntArrayRef(bias_sizes) : at::OptionalIntArrayRef(),
                  at::IntArrayRef(stride, 2), at::IntArrayRef(padding, 2),
                  at::IntArrayRef(dilation, 2), /*transposed=*/false, /*output_padding=*/{0, 0},
                  groups, {wanted[0], wanted[1], wanted[2]}),
              wanted, out);
    });
}

// The gradients of group normalisation (input, γ, β) from the forward's saved mean and
// 1/σ (at::native_group_norm_backward, the kernel PyTorch's autograd uses).
int ddpm_group_norm_backward(const at::Tensor *grad_output, const at::Tensor *input,
                             const at::Tensor *mean, const at::Tensor *rstd,
                             const at::Tensor *gamma, int64_t n, int64_t c, int64_t hxw,
                             int64_t groups, const bool *wanted, at::Tensor **out) {
    return guarded([&] {
        store(at::native_group_norm_backward(*grad_output, *input, *mean, *rstd, *gamma, n, c,
                                             hxw, groups, {wanted[0], wanted[1], wanted[2]}),
              wanted, out);
    });
}

// The global L2 norm over `n` gradient tensors (at::_foreach_norm, then the norm of the
// norms, as torch.nn.utils.clip_grad_norm_), read back into `norm`.
int ddpm_global_norm(const at::Tensor *const *grads, int64_t n, double *norm) {
    return guarded([&] {
        auto norms = at::_foreach_norm(list(grads, n), 2);
        *norm = at::stack(norms).norm().item<double>();
    });
}

// One Adam step in place over `n` parameters (at::_fused_adam_, torch.optim.Adam(fused=True)):
// the moments `m`, `v` and the parameters are updated where they are. Gradients are divided
// by `grad_scale` first (1: none); `step` is the step count after this one.
int ddpm_fused_adam(const at::Tensor *const *params, const at::Tensor *const *grads,
                    const at::Tensor *const *m, const at::Tensor *const *v, int64_t n,
                    double lr, double beta1, double beta2, double eps, int64_t step,
                    double grad_scale) {
    return guarded([&] {
        auto options = params[0]->options().dtype(at::kFloat);
        auto step_tensor = at::full({}, static_cast<double>(step), options);
        std::vector<at::Tensor> steps(n, step_tensor);
        std::optional<at::Tensor> scale;
        if (grad_scale != 1.0) scale = at::full({}, grad_scale, options);
        at::_fused_adam_(list(params, n), list(grads, n), list(m, n), list(v, n), {}, steps, lr,
                         beta1, beta2, /*weight_decay=*/0.0, eps, /*amsgrad=*/false,
                         /*maximize=*/false, scale, std::nullopt);
    });
}

}  // extern "C"
