//! The optimisation step after backward, over flat buffers: global-norm clipping, Adam and the
//! EMA of the weights as a handful of whole-buffer ops (flat_update.rs), with the buffers'
//! layout (flat_layout.rs). Math only: the checkpoint format is record's.

pub mod flat_layout;
pub mod flat_update;

pub use flat_layout::{FlatLayout, Slot};
pub use flat_update::{AdamSettings, Clipped, FlatUpdate, Gradients, Moments};
