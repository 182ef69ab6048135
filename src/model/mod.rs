//! The UNet of the paper and its blocks.

pub mod blocks;
pub mod config;
pub mod kernels;
pub mod layers;
pub mod param_ids;
pub mod precision;
pub mod time_embedding;
pub mod unet;

pub use config::{UNetConfig, UNetShape};
pub use precision::{Precision, forward_at};
pub use unet::UNet;
