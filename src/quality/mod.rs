//! Sample quality: FID, Inception Score and KID over the features of a scoring network: the
//! harness's own per-dataset classifier, or Inception-v3 from the user's pytorch-fid weights.
//! Every score is named after its network, so nobody reads a classifier FID as Inception FID.

pub mod classifier_cache;
pub mod error;
pub mod extract;
pub mod feature_net;
pub mod features;
pub mod frechet;
pub mod image_scores;
pub mod inception;
pub mod inception_blocks;
pub mod inception_cache;
pub mod inception_score;
pub mod kid;
pub mod scorer;
pub mod training;

pub use error::QualityError;
pub use features::Features;
pub use frechet::{FeatureStats, FrechetReference, frechet_distance};
pub use inception_score::inception_score;
pub use kid::kernel_inception_distance;
