//! `ddpm-exp data …`: find, fetch, verify, list, export a dataset; time an image folder's
//! decoding. Wiring only, as in main.rs.

use crate::Ended;
use crate::cli::{DataCommand, DataExportArgs, SplitArg};
use ddpm_exp::data::Split;
use ddpm_exp::data::image_folder::FolderOptions;
use ddpm_exp::error::Failure;
use ddpm_exp::run::data_export::export_data;
use ddpm_exp::run::{data_places, data_throughput};

pub fn data_command(command: DataCommand) -> Result<Ended, Failure> {
    match command {
        DataCommand::Export(args) => return data_export(args),
        DataCommand::Fetch(args) => {
            let dir = data_places::fetch(&args.dataset, args.dir.as_deref())?;
            println!("{}", dir.display());
        }
        DataCommand::Verify(args) => {
            let report = data_places::verify(&args.dataset_or_dir)?;
            for line in &report.lines {
                println!("{line}");
            }
            if let Some(problem) = report.problem {
                return Err(Failure::BadInput(problem));
            }
        }
        DataCommand::List => {
            for line in data_places::list()? {
                println!("{line}");
            }
        }
        DataCommand::Throughput(a) => {
            let options = FolderOptions {
                image_size: a.image_size,
                channels: a.channels,
                held_out: 0.0,
            };
            println!("{}", data_throughput::measure(&a.dir, options, a.passes)?);
            if let Some(batch_size) = a.batch_size {
                let loader = data_throughput::StreamedLoad {
                    batch_size,
                    memory_bytes: a.memory_mb.saturating_mul(1 << 20),
                };
                let streamed =
                    data_throughput::measure_streamed(&a.dir, options, loader, a.passes)?;
                println!("{streamed}");
            }
        }
    }
    Ok(Ended::Ok)
}

fn data_export(args: DataExportArgs) -> Result<Ended, Failure> {
    let split = match args.split {
        SplitArg::Train => Split::Train,
        SplitArg::Test => Split::Test,
    };
    let record = export_data(&args.dataset, args.dir.as_deref(), split, &args.out)?;
    eprintln!(
        "{} {} images of {} ({}×{}×{})",
        record.count,
        record.split,
        record.dataset,
        record.shape[1],
        record.shape[2],
        record.shape[3]
    );
    println!("{}", args.out.display());
    Ok(Ended::Ok)
}
