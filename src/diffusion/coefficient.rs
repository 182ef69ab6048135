//! One schedule function's value for a batch of images: a [batch, 1, 1, 1] column when each
//! image has its own t (training), or one number when they all share t (sampling, the bound's
//! loop over t). A shared value is applied as a scalar: nothing is uploaded to the device and
//! no operand is broadcast.

use burn::prelude::*;

#[derive(Debug, Clone)]
pub enum Coefficient {
    PerImage(Tensor<4>),
    Shared(f64),
}

impl Coefficient {
    /// x · c.
    pub fn times(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::PerImage(c) => x * c.clone(),
            Self::Shared(c) => x.mul_scalar(*c),
        }
    }

    /// x / c.
    pub fn divides(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::PerImage(c) => x / c.clone(),
            Self::Shared(c) => x.div_scalar(*c),
        }
    }

    /// x − c.
    pub fn subtracted_from(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::PerImage(c) => x - c.clone(),
            Self::Shared(c) => x.sub_scalar(*c),
        }
    }

    /// c − other.
    pub fn minus(&self, other: &Self) -> Self {
        match (self, other) {
            (Self::Shared(a), Self::Shared(b)) => Self::Shared(a - b),
            (a, Self::PerImage(b)) => Self::PerImage(a.subtracted_from(b.clone()).neg()),
            (Self::PerImage(a), Self::Shared(b)) => Self::PerImage(a.clone().sub_scalar(*b)),
        }
    }

    /// c at every element of `like`'s shape.
    pub fn expanded(&self, like: &Tensor<4>) -> Tensor<4> {
        match self {
            Self::PerImage(c) => c.clone().expand(like.shape()),
            Self::Shared(c) => Tensor::full(like.shape(), *c, &like.device()),
        }
    }
}
