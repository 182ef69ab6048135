//! Plots for the report (plotters), each drawn to PNG and SVG from one piece of code.

pub mod canvas;
pub mod curves;
pub mod fid_steps;
pub mod rate_distortion;
pub mod schedule;
pub mod sweep_metrics;
