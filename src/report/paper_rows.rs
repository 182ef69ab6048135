//! The rows of the paper's Table 2 in its order (μ̃ prediction, then ε prediction; learned Σ,
//! fixed Σ, the MSE objective), which cell objective fills each, their labels, and the
//! paper's own CIFAR10 figures. report::table2 lays our cells out on them.

use crate::diffusion::{LossKind, MeanKind, VarianceKind};

/// A row of the paper's Table 2, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PaperRow {
    MuLearned,
    MuFixed,
    MuMse,
    EpsLearned,
    EpsFixed,
    EpsSimple,
}

/// What the paper reports for a row (CIFAR10, Inception-v3 on 50k samples).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperFigures {
    /// IS mean and std over its splits.
    pub is: Option<(f64, f64)>,
    pub fid: Option<f64>,
    /// Test NLL bound in bits/dim, from the paper's Table 1 (given for the ε cells it lists).
    pub nll: Option<f64>,
}

impl PaperRow {
    /// The row a cell's objective fills: mean × variance × loss as the paper ablates them.
    pub fn of(mean: MeanKind, variance: VarianceKind, loss: LossKind) -> Option<Self> {
        let fixed = matches!(
            variance,
            VarianceKind::FixedLarge | VarianceKind::FixedSmall
        );
        let learned = variance == VarianceKind::Learned;
        Some(match (mean, loss) {
            (MeanKind::Mu, LossKind::Vlb) if learned => Self::MuLearned,
            (MeanKind::Mu, LossKind::Vlb) if fixed => Self::MuFixed,
            (MeanKind::Mu, LossKind::Simple) if fixed => Self::MuMse,
            (MeanKind::Eps, LossKind::Vlb) if learned => Self::EpsLearned,
            (MeanKind::Eps, LossKind::Vlb) if fixed => Self::EpsFixed,
            (MeanKind::Eps, LossKind::Simple) if fixed => Self::EpsSimple,
            _ => return None,
        })
    }

    /// The paper's group heading above the row.
    pub fn group(self) -> &'static str {
        match self {
            Self::MuLearned | Self::MuFixed | Self::MuMse => "μ̃ prediction (baseline)",
            _ => "ε prediction (ours)",
        }
    }

    /// The row's objective as the paper writes it.
    pub fn objective(self) -> &'static str {
        match self {
            Self::MuLearned | Self::EpsLearned => "L, learned diagonal Σ",
            Self::MuFixed | Self::EpsFixed => "L, fixed isotropic Σ",
            Self::MuMse => "‖μ̃ − μ̃_θ‖²",
            Self::EpsSimple => "‖ε̃ − ε_θ‖² (L_simple)",
        }
    }

    /// [`Self::group`] for LaTeX.
    pub fn group_latex(self) -> &'static str {
        match self {
            Self::MuLearned | Self::MuFixed | Self::MuMse => r"$\tilde\mu$ prediction (baseline)",
            _ => r"$\epsilon$ prediction (ours)",
        }
    }

    /// [`Self::objective`] for LaTeX.
    pub fn objective_latex(self) -> &'static str {
        match self {
            Self::MuLearned | Self::EpsLearned => r"$L$, learned diagonal $\Sigma$",
            Self::MuFixed | Self::EpsFixed => r"$L$, fixed isotropic $\Sigma$",
            Self::MuMse => r"$\|\tilde\mu - \tilde\mu_\theta\|^2$",
            Self::EpsSimple => r"$\|\tilde\epsilon - \epsilon_\theta\|^2$ ($L_\mathrm{simple}$)",
        }
    }

    /// The paper's figures: Table 2 (IS, FID; "–" for the cells that trained unstably) and
    /// Table 1 (NLL ≤ 3.70 for L with fixed Σ, ≤ 3.75 for L_simple).
    pub fn paper(self) -> PaperFigures {
        let (is, fid, nll) = match self {
            Self::MuLearned => (Some((7.28, 0.10)), Some(23.69), None),
            Self::MuFixed => (Some((8.06, 0.09)), Some(13.22), None),
            Self::MuMse | Self::EpsLearned => (None, None, None),
            Self::EpsFixed => (Some((7.67, 0.13)), Some(13.51), Some(3.70)),
            Self::EpsSimple => (Some((9.46, 0.11)), Some(3.17), Some(3.75)),
        };
        PaperFigures { is, fid, nll }
    }
}
