//! Adam's moments on disk, in the layout Burn 0.22's `ModuleOptimizer` writes for Adam (what
//! checkpoints held before the flat update): per parameter `<id>.momentum.moment_1` and
//! `.moment_2` tensors of the parameter's shape, scalars `<id>.momentum.time` and
//! `<id>.__rank`, and metadata `<id>` → the parameter's path. Checkpoints written before and
//! after the flat update resume either way. Tensors are written in name order, so the same
//! state always gives the same bytes.

use std::collections::HashMap;
use std::path::Path;

use burn::prelude::*;
use burn_pack::Scalar;

use crate::optim::{FlatLayout, Moments, Slot};

fn moment_name(slot: &Slot, which: u8) -> String {
    format!("{}.momentum.moment_{which}", slot.id.val())
}

fn time_key(slot: &Slot) -> String {
    format!("{}.momentum.time", slot.id.val())
}

/// A flat moment's values on the host.
fn host_values(moment: &Tensor<1>) -> Vec<f32> {
    moment
        .clone()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("an f32 moment")
}

/// Writes `moments` (none before the first step: an empty record, as Burn writes) to `path`.
pub fn save(
    layout: &FlatLayout,
    moments: Option<&Moments>,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut tensors = Vec::new();
    let mut writer_scalars = Vec::new();
    if let Some(Moments { m, v, time }) = moments {
        for (which, values) in [(1, host_values(m)), (2, host_values(v))] {
            for slot in layout.slots() {
                let part = values[slot.offset..slot.offset + slot.len()].to_vec();
                let (bytes, shape, dtype) = TensorData::new(part, slot.shape.clone()).into_parts();
                let name = moment_name(slot, which);
                let id = Some(slot.id.val());
                tensors.push(burn_pack::Tensor::new(name, dtype, shape, id, bytes));
            }
        }
        for slot in layout.slots() {
            let rank = format!("{}.__rank", slot.id.val());
            writer_scalars.push((rank, Scalar::from(slot.shape.len() as u64)));
            writer_scalars.push((time_key(slot), Scalar::from(*time as u64)));
        }
    }
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    let mut writer = burn_pack::Writer::new(tensors).auto_extension(false);
    for (key, value) in &writer_scalars {
        writer = writer.with_scalar(key, *value);
    }
    if moments.is_some() {
        for slot in layout.slots() {
            writer = writer.with_metadata(&slot.id.val().to_string(), &slot.path);
        }
    }
    Ok(writer.write_to_file(path)?)
}

/// The moments in `path` as flat buffers in `layout`'s order on `device`; `None` for a record
/// written before the first step. Every parameter must have its state, of its shape, at the
/// same step: a resume must continue exactly where the run stopped.
pub fn load(layout: &FlatLayout, path: &Path, device: &Device) -> Result<Option<Moments>, String> {
    let reader = burn_pack::Reader::from_file(path).map_err(|e| e.to_string())?;
    let scalars = reader.scalars().clone();
    let mut found = HashMap::new();
    for tensor in reader.into_tensors().map_err(|e| e.to_string())? {
        let (name, dtype, shape, _, bytes) = tensor.into_parts().map_err(|e| e.to_string())?;
        found.insert(name, TensorData::from_bytes(bytes, shape, dtype));
    }
    if found.is_empty() {
        return Ok(None);
    }
    let mut time = None;
    for slot in layout.slots() {
        let t = match scalars.get(&time_key(slot)).map(|s| u64::try_from(*s)) {
            Some(Ok(t)) => t as usize,
            _ => return Err(format!("no Adam step count for parameter {}", slot.path)),
        };
        if time.is_some_and(|first| first != t) {
            return Err(format!(
                "parameter {} is at Adam step {t}, others are not",
                slot.path
            ));
        }
        time = Some(t);
    }
    let m = flat_moment(layout, &found, 1, device)?;
    let v = flat_moment(layout, &found, 2, device)?;
    Ok(Some(Moments {
        m,
        v,
        time: time.unwrap_or(0),
    }))
}

/// One moment's per-parameter tensors joined into one buffer.
fn flat_moment(
    layout: &FlatLayout,
    found: &HashMap<String, TensorData>,
    which: u8,
    device: &Device,
) -> Result<Tensor<1>, String> {
    let mut values = Vec::with_capacity(layout.len());
    for slot in layout.slots() {
        let data = found
            .get(&moment_name(slot, which))
            .ok_or_else(|| format!("no Adam moment {which} for parameter {}", slot.path))?;
        if data.shape().as_slice() != slot.shape.as_slice() {
            let (got, want) = (data.shape().as_slice(), &slot.shape);
            return Err(format!(
                "Adam moment {which} of {} has shape {got:?}, the model's is {want:?}",
                slot.path
            ));
        }
        let part = data
            .as_slice::<f32>()
            .map_err(|e| format!("{}: {e:?}", slot.path))?;
        values.extend_from_slice(part);
    }
    Ok(Tensor::from_data(
        TensorData::new(values, [layout.len()]),
        device,
    ))
}
