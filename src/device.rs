//! Turning the spec's `device` string into a Burn device. The backend is picked at run time
//! by the device; the rest of the code never names a backend.

use burn::prelude::*;

pub const AVAILABLE_HELP: &str = "this build offers `cpu` (the pure-Rust flex backend)";

pub fn is_known_device(name: &str) -> bool {
    parse_device(name).is_ok()
}

/// The device for `name`, without autodiff.
pub fn parse_device(name: &str) -> Result<Device, String> {
    match name {
        "cpu" | "flex" => Ok(Device::flex()),
        other => Err(format!("unknown device {other:?}; {AVAILABLE_HELP}")),
    }
}

/// The backend's name as recorded in `meta.json`.
pub fn backend_name(name: &str) -> &'static str {
    match name {
        "cpu" | "flex" => "burn-flex",
        _ => "unknown",
    }
}
