// LibTorch kernels that tch 0.22 does not bind, for ddpm-exp's custom autodiff ops
// (src/libtorch/). Each function takes and returns `at::Tensor*` (what tch's C_tensor is),
// never lets a C++ exception cross into Rust, and reports failure as a null result with the
// message kept for ddpm_kernels_last_error. Compiled by build.rs only with the `tch` feature.
#include <ATen/ATen.h>

#include <array>
#include <string>

namespace {
thread_local std::string last_error;

at::Tensor *boxed(at::Tensor &&tensor, bool wanted) {
    return wanted ? new at::Tensor(std::move(tensor)) : nullptr;
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
    try {
        std::array<int64_t, 1> bias_sizes{weight->size(0)};
        auto grads = at::convolution_backward(
            *grad_output, *input, *weight,
            wanted[2] ? at::OptionalIntArrayRef(bias_sizes) : at::OptionalIntArrayRef(),
            at::IntArrayRef(stride, 2), at::IntArrayRef(padding, 2),
            at::IntArrayRef(dilation, 2), /*transposed=*/false, /*output_padding=*/{0, 0},
            groups, {wanted[0], wanted[1], wanted[2]});
        out[0] = boxed(std::move(std::get<0>(grads)), wanted[0]);
        out[1] = boxed(std::move(std::get<1>(grads)), wanted[1]);
        out[2] = boxed(std::move(std::get<2>(grads)), wanted[2]);
        return 0;
    } catch (const std::exception &e) {
        last_error = e.what();
        return 1;
    }
}

// The gradients of group normalisation (input, γ, β) from the forward's saved mean and
// 1/σ (at::native_group_norm_backward, the kernel PyTorch's autograd uses).
int ddpm_group_norm_backward(const at::Tensor *grad_output, const at::Tensor *input,
                             const at::Tensor *mean, const at::Tensor *rstd,
                             const at::Tensor *gamma, int64_t n, int64_t c, int64_t hxw,
                             int64_t groups, const bool *wanted, at::Tensor **out) {
    try {
        auto grads = at::native_group_norm_backward(
            *grad_output, *input, *mean, *rstd, *gamma, n, c, hxw, groups,
            {wanted[0], wanted[1], wanted[2]});
        out[0] = boxed(std::move(std::get<0>(grads)), wanted[0]);
        out[1] = boxed(std::move(std::get<1>(grads)), wanted[1]);
        out[2] = boxed(std::move(std::get<2>(grads)), wanted[2]);
        return 0;
    } catch (const std::exception &e) {
        last_error = e.what();
        return 1;
    }
}

}  // extern "C"
