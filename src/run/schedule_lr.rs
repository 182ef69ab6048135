//! Learning-rate warm-up: linear from 0 to the base rate over `warmup` steps, then constant
//! (the paper's 5000-step warm-up).

/// The rate for the update that completes step `step` (1-based).
pub fn warmup_lr(base: f64, warmup: u64, step: u64) -> f64 {
    if warmup == 0 {
        base
    } else {
        base * (step as f64 / warmup as f64).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::warmup_lr;

    #[test]
    fn rises_linearly_then_holds() {
        assert_eq!(warmup_lr(2e-4, 0, 1), 2e-4);
        assert!((warmup_lr(2e-4, 5000, 2500) - 1e-4).abs() < 1e-18);
        assert_eq!(warmup_lr(2e-4, 5000, 5000), 2e-4);
        assert_eq!(warmup_lr(2e-4, 5000, 9000), 2e-4);
    }
}
