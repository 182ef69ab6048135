//! Every integration test, in one test crate (one link of Burn instead of one per file). Each
//! module is one former test file; `common` holds what they share. The backend-generic
//! modules run again on LibTorch's CPU device (scripts/test.sh names them).

mod ablate_cli;
mod bad_spec_corpus;
mod batching;
mod bound_math;
mod cli_run;
mod common;
mod data_cli;
mod data_fetch;
mod data_loaders;
mod device_cli;
mod faults;
mod flat_update;
mod http_server;
mod image_folders;
mod inception_fid;
mod interrupt_resume;
mod justfile;
mod libtorch_kernels;
mod model_shape;
mod objective_grid;
mod parquet_tables;
mod quality_eval;
mod quality_math;
mod report_cli;
mod report_math;
mod report_table2;
mod report_tables;
mod sample_cli;
mod samplers;
mod schedule_math;
mod slurm_cluster;
mod slurm_grid;
mod spec_loading;
mod streaming;
mod sweep_report;
mod sweeps;
mod tensorboard;
mod timestep_sampling;
mod weighting_math;
