//! The Rust side of csrc/libtorch_kernels.cpp: LibTorch kernels that tch 0.22 does not bind.
//! Tensors cross as tch's own `at::Tensor*` handles; results come back as new handles that
//! the returned `tch::Tensor`s own (and free on drop).

use std::ffi::{CStr, c_char, c_int, c_void};

use burn::tensor::ops::ConvOptions;
use tch::Tensor;

/// Up to three gradients, `None` where they were not asked for.
pub type Grads3 = [Option<Tensor>; 3];

fn handle(tensor: &Tensor) -> *const c_void {
    tensor.as_ptr().cast()
}

/// Takes ownership of the handles a shim call wrote, or panics with LibTorch's message: a
/// kernel failing mid-backward (out of memory, a shape bug) cannot be recovered from there,
/// and Burn's own LibTorch ops fail the same way.
fn collect(status: c_int, out: [*mut c_void; 3], kernel: &str) -> Grads3 {
    check(status, kernel);
    // SAFETY: each non-null handle is a fresh `new at::Tensor` from the shim, owned by nobody.
    out.map(|ptr| (!ptr.is_null()).then(|| unsafe { Tensor::from_ptr(ptr.cast()) }))
}

/// Panics with LibTorch's message unless `status` is 0 (see [`collect`]).
fn check(status: c_int, kernel: &str) {
    if status != 0 {
        let message = unsafe { CStr::from_ptr(ddpm_kernels_last_error()) };
        panic!("LibTorch {kernel} failed: {}", message.to_string_lossy());
    }
}

fn handles(tensors: &[Tensor]) -> Vec<*const c_void> {
    tensors.iter().map(handle).collect()
}

/// ‖(g_1, …, g_n)‖₂ over every gradient tensor, read back.
pub fn global_norm(grads: &[Tensor]) -> f64 {
    let mut norm = 0.0;
    let list = handles(grads);
    check(
        unsafe { ddpm_global_norm(list.as_ptr(), list.len() as i64, &mut norm) },
        "_foreach_norm",
    );
    norm
}

/// Adam's constants and this step's count and learning rate, for [`fused_adam`].
pub struct AdamStep {
    pub lr: f64,
    pub beta_1: f64,
    pub beta_2: f64,
    pub epsilon: f64,
    /// Steps taken, this one included.
    pub step: usize,
    /// The gradients are divided by this first (1: none).
    pub grad_scale: f64,
}

/// One Adam step in place: `params`, `m` and `v` (views into the flat buffers) are updated
/// where they are (at::_fused_adam_).
pub fn fused_adam(params: &[Tensor], grads: &[Tensor], m: &[Tensor], v: &[Tensor], s: &AdamStep) {
    let n = params.len();
    assert!(
        grads.len() == n && m.len() == n && v.len() == n,
        "one of each per parameter"
    );
    let (p, g, m, v) = (handles(params), handles(grads), handles(m), handles(v));
    let status = unsafe {
        ddpm_fused_adam(
            p.as_ptr(),
            g.as_ptr(),
            m.as_ptr(),
            v.as_ptr(),
            n as i64,
            s.lr,
            s.beta_1,
            s.beta_2,
            s.epsilon,
            s.step as i64,
            s.grad_scale,
        )
    };
    check(status, "_fused_adam_");
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

// The shim's functions (csrc/libtorch_kernels.cpp), last in the file.
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
    fn ddpm_global_norm(grads: *const *const c_void, n: i64, norm: *mut f64) -> c_int;
    fn ddpm_fused_adam(
        params: *const *const c_void,
        grads: *const *const c_void,
        m: *const *const c_void,
        v: *const *const c_void,
        n: i64,
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        step: i64,
        grad_scale: f64,
    ) -> c_int;
}
