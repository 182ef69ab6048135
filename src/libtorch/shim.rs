//! The Rust side of csrc/libtorch_kernels.cpp: LibTorch kernels that tch 0.22 does not bind.
//! Tensors cross as tch's own `at::Tensor*` handles; results come back as new handles that
//! the returned `tch::Tensor`s own (and free on drop).

use std::ffi::{CStr, c_char, c_int, c_void};

use burn::tensor::ops::ConvOptions;
use tch::Tensor;

unsafe extern "C" {
    fn ddpm_kernels_last_error() -> *const c_char;
    fn ddpm_conv2d_backward(
        grad_output: *const c_void,
        input: *const c_void,
        weight: *const c_void,
        stride: *const i64,
        padding: *const i64,
        dilation: *const i64,
        groups: i64,
        wanted: *const bool,
        out: *mut *mut c_void,
    ) -> c_int;
    fn ddpm_group_norm_backward(
        grad_output: *const c_void,
        input: *const c_void,
        mean: *const c_void,
        rstd: *const c_void,
        gamma: *const c_void,
        n: i64,
        c: i64,
        hxw: i64,
        groups: i64,
        wanted: *const bool,
        out: *mut *mut c_void,
    ) -> c_int;
}

/// Up to three gradients, `None` where they were not asked for.
pub type Grads3 = [Option<Tensor>; 3];

fn handle(tensor: &Tensor) -> *const c_void {
    tensor.as_ptr().cast()
}

/// Takes ownership of the handles a shim call wrote, or panics with LibTorch's message: a
/// kernel failing mid-backward (out of memory, a shape bug) cannot be recovered from there,
/// and Burn's own LibTorch ops fail the same way.
fn collect(status: c_int, out: [*mut c_void; 3], kernel: &str) -> Grads3 {
    if status != 0 {
        let message = unsafe { CStr::from_ptr(ddpm_kernels_last_error()) };
        panic!("LibTorch {kernel} failed: {}", message.to_string_lossy());
    }
    // SAFETY: each non-null handle is a fresh `new at::Tensor` from the shim, owned by nobody.
    out.map(|ptr| (!ptr.is_null()).then(|| unsafe { Tensor::from_ptr(ptr.cast()) }))
}

/// ∂L/∂x, ∂L/∂w, ∂L/∂b of `y = conv2d(x, w, b)` from ∂L/∂y (at::convolution_backward).
/// `options` must be symmetric (the caller pads otherwise).
pub fn conv2d_backward(
    grad_output: &Tensor,
    input: &Tensor,
    weight: &Tensor,
    options: &ConvOptions<2>,
    wanted: [bool; 3],
) -> Grads3 {
    let to_i64 = |v: [usize; 2]| v.map(|x| x as i64);
    let (stride, padding) = (to_i64(options.stride), to_i64(options.padding_begin()));
    let dilation = to_i64(options.dilation);
    let mut out = [std::ptr::null_mut(); 3];
    let status = unsafe {
        ddpm_conv2d_backward(
            handle(grad_output),
            handle(input),
            handle(weight),
            stride.as_ptr(),
            padding.as_ptr(),
            dilation.as_ptr(),
            options.groups as i64,
            wanted.as_ptr(),
            out.as_mut_ptr(),
        )
    };
    collect(status, out, "convolution_backward")
}

/// ∂L/∂x, ∂L/∂γ, ∂L/∂β of group normalisation (at::native_group_norm_backward), from the
/// forward's saved mean, 1/σ and (batch, channels, positions per channel, groups).
pub fn group_norm_backward(
    grad_output: &Tensor,
    input: &Tensor,
    gamma: &Tensor,
    (mean, rstd, shape): (&Tensor, &Tensor, [i64; 4]),
    wanted: [bool; 3],
) -> Grads3 {
    let [n, c, hxw, groups] = shape;
    let mut out = [std::ptr::null_mut(); 3];
    let status = unsafe {
        ddpm_group_norm_backward(
            handle(&grad_output.contiguous()),
            handle(&input.contiguous()),
            handle(mean),
            handle(rstd),
            handle(gamma),
            n,
            c,
            hxw,
            groups,
            wanted.as_ptr(),
            out.as_mut_ptr(),
        )
    };
    collect(status, out, "native_group_norm_backward")
}
