//! Sample quality: FID, Inception Score and KID over the features of a feature network (the
//! harness's own per-dataset classifier, named in every score so that nobody reads it as
//! Inception FID).

pub mod cache;
pub mod extract;
pub mod feature_net;
pub mod features;
pub mod frechet;
pub mod inception_score;
pub mod kid;
pub mod score;
pub mod training;

pub use features::Features;
pub use frechet::{FeatureStats, frechet_distance};
pub use inception_score::inception_score;
pub use kid::kernel_inception_distance;
