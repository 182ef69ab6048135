//! `ddpm-exp data export DATASET --out X.npz|DIR [--split train|test] [--dir D]`: a dataset
//! split exactly as the harness reads it (8-bit images, the digits' 0–16 intensities on the
//! 8-bit grid, the fixed shuffled split), for external tools: pytorch-fid's reference folder,
//! an npz for guided-diffusion's evaluator.

use std::path::Path;

use serde::Serialize;

use super::export_target::ExportTarget;
use crate::data::{self, DatasetName, Split};
use crate::error::Failure;
use crate::record::image_export::to_nhwc_bytes;

/// What was exported: written beside the images (`X.npz.json` / `DIR/dataset.json`).
#[derive(Debug, Clone, Serialize)]
pub struct DataExportRecord {
    pub dataset: &'static str,
    pub split: &'static str,
    pub count: usize,
    /// N, H, W, C of the uint8 array.
    pub shape: [usize; 4],
}

/// The dataset `name` names (as `data.dataset` spells it), or bad input listing the names.
pub fn dataset_named(name: &str) -> Result<DatasetName, Failure> {
    DatasetName::named(name).ok_or_else(|| {
        let names: Vec<&str> = DatasetName::ALL.iter().map(|d| d.name()).collect();
        Failure::BadInput(format!(
            "unknown dataset `{name}`; expected one of: {}",
            names.join(", ")
        ))
    })
}

pub fn export_data(
    name: &str,
    dir: Option<&Path>,
    split: Split,
    out: &Path,
) -> Result<DataExportRecord, Failure> {
    let dataset = dataset_named(name)?;
    let target = ExportTarget::of(out, "dataset.json");
    target.check_free()?;
    if dataset == DatasetName::ImageFolder {
        return Err(Failure::BadInput(
            "image_folder: its images are the folder's own files; export a named dataset".into(),
        ));
    }
    let set = data::load(&data::DataRequest::named(dataset, dir), split)?;
    let (c, h, w) = (set.channels, set.height, set.width);
    let count = set.len();
    let record = DataExportRecord {
        dataset: dataset.name(),
        split: match split {
            Split::Train => "train",
            Split::Test => "test",
        },
        count,
        shape: [count, h, w, c],
    };
    let bytes = to_nhwc_bytes(&set.pixels, [count, c, h, w]);
    let json = serde_json::to_string_pretty(&record).expect("the record serialises");
    target.write(&bytes, record.shape, &json)?;
    Ok(record)
}
