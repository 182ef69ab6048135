//! What a run leaves on disk: metadata, metrics, sample grids, schedule tables.

pub mod atomic;
pub mod best_fid;
pub mod checksum;
pub mod error;
pub mod eval_table;
pub mod grid;
pub mod image_export;
pub mod meta;
pub mod metrics;
pub mod parquet;
pub mod publish;
pub mod run_folder;
pub mod schedule_table;

pub use error::RecordError;
pub use meta::{Meta, Status};
pub use metrics::MetricRow;
pub use run_folder::RunFolder;
