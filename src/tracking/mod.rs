//! TensorBoard event files in every run folder, written as training goes, so that
//! `tensorboard --logdir results` shows runs while they train: the logged scalars, the
//! evaluations as they come, the sample grid, and the resolved spec and metadata as text.
//! The format is small enough to write here (TFRecord framing, protobuf messages derived with
//! prost); see the README for why no TensorBoard crate is used.

pub mod event_file;
pub mod hparams;
pub mod proto;
pub mod tracker;

pub use tracker::RunTracker;
