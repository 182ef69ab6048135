//! The C allocator set to keep freed memory for reuse. By default glibc hands large blocks back
//! to the kernel when they are freed (its dynamic mmap and trim thresholds), so every training
//! step faults in its activations again: ~24k page faults (96 MB zeroed) a step at the cifar10
//! profile, batch 8, on libtorch-cpu, none with these settings (`/usr/bin/time -v`'s minor
//! faults, 1 step against 6). LibTorch's CPU tensors and flex's buffers both come from malloc.

/// Blocks up to this size come from the heap, and this much free heap is kept before trimming.
const KEPT_BYTES: i32 = 1 << 30;

/// Sets glibc's mmap and trim thresholds to [`KEPT_BYTES`], unless the user has set either
/// through the environment (then theirs hold). Elsewhere than glibc it does nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let chosen = [
            "MALLOC_MMAP_THRESHOLD_",
            "MALLOC_TRIM_THRESHOLD_",
            "GLIBC_TUNABLES",
        ]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
        if chosen {
            return;
        }
        // SAFETY: mallopt only changes the allocator's parameters; called before any threads.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, KEPT_BYTES);
            libc::mallopt(libc::M_TRIM_THRESHOLD, KEPT_BYTES);
        }
    }
}
