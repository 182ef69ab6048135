//! TensorBoard's HParams data for a grid, so its cells line up in the HParams table: in each
//! run folder a session (its swept keys, seed and cell; how it ended), and at the grid's folder
//! the experiment (every key, and the metrics to show: the scalar tags the runs logged under
//! `eval/`, and `train/loss`). The messages are TensorBoard's plugins/hparams protos; the
//! files are rewritten whole each time a grid's summary is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prost::Message;

use super::event_file::frame;
use super::proto::{
    Event, PluginData, Summary, SummaryMetadata, SummaryValue, TensorDim, TensorProto, TensorShape,
    event, summary_value,
};
use super::tracker::{event_files, read_events};
use crate::record::RecordError;
use crate::record::atomic::write_atomic;

/// The HParams file's name: it holds "tfevents", so TensorBoard reads it beside the others.
pub const HPARAMS_FILE: &str = "events.out.tfevents.hparams.ddpm-exp";

#[derive(Clone, PartialEq, prost::Message)]
pub struct HParamsPluginData {
    #[prost(int32, tag = "1")]
    pub version: i32,
    #[prost(oneof = "plugin_data::Data", tags = "2, 3, 4")]
    pub data: Option<plugin_data::Data>,
}

pub mod plugin_data {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Data {
        #[prost(message, tag = "2")]
        Experiment(super::Experiment),
        #[prost(message, tag = "3")]
        SessionStartInfo(super::SessionStartInfo),
        #[prost(message, tag = "4")]
        SessionEndInfo(super::SessionEndInfo),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Experiment {
    #[prost(string, tag = "1")]
    pub description: String,
    #[prost(message, repeated, tag = "4")]
    pub hparam_infos: Vec<HParamInfo>,
    #[prost(message, repeated, tag = "5")]
    pub metric_infos: Vec<MetricInfo>,
}

/// DataType: DATA_TYPE_STRING 1, DATA_TYPE_FLOAT64 3.
const STRING: i32 = 1;
const FLOAT64: i32 = 3;
/// Status: STATUS_SUCCESS 1, STATUS_FAILURE 2.
const SUCCESS: i32 = 1;
const FAILURE: i32 = 2;

#[derive(Clone, PartialEq, prost::Message)]
pub struct HParamInfo {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(int32, tag = "4")]
    pub r#type: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricInfo {
    #[prost(message, optional, tag = "1")]
    pub name: Option<MetricName>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricName {
    #[prost(string, tag = "1")]
    pub group: String,
    #[prost(string, tag = "2")]
    pub tag: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionStartInfo {
    #[prost(btree_map = "string, message", tag = "1")]
    pub hparams: BTreeMap<String, HParamValue>,
    #[prost(string, tag = "4")]
    pub group_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionEndInfo {
    #[prost(int32, tag = "1")]
    pub status: i32,
}

/// google.protobuf.Value, the two kinds a hyperparameter takes here.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HParamValue {
    #[prost(oneof = "hparam_value::Kind", tags = "2, 3")]
    pub kind: Option<hparam_value::Kind>,
}

pub mod hparam_value {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Kind {
        #[prost(double, tag = "2")]
        Number(f64),
        #[prost(string, tag = "3")]
        Text(String),
    }
}

/// One run of the grid, as the HParams table shows it.
pub struct Session {
    pub run_dir: PathBuf,
    /// The cell: every seed of it is one group.
    pub group: String,
    /// (key, value as given): the swept keys, the seed, the cell's name.
    pub hparams: Vec<(String, String)>,
    pub ok: bool,
}

fn value_of(text: &str) -> HParamValue {
    let kind = match text.parse::<f64>() {
        Ok(number) => hparam_value::Kind::Number(number),
        Err(_) => hparam_value::Kind::Text(text.to_string()),
    };
    HParamValue { kind: Some(kind) }
}

/// An event at step 0 holding `data` under `tag`, as TensorBoard's hparams summaries are.
fn hparams_event(tag: &str, data: plugin_data::Data) -> Event {
    let content = HParamsPluginData {
        version: 0,
        data: Some(data),
    }
    .encode_to_vec();
    let plugin = PluginData {
        plugin_name: "hparams".into(),
        content,
    };
    // TensorBoard's NULL_TENSOR: an empty float vector, the value carries only metadata.
    let null = TensorProto {
        dtype: 1,
        tensor_shape: Some(TensorShape {
            dim: vec![TensorDim { size: 0 }],
        }),
        string_val: Vec::new(),
    };
    let value = SummaryValue {
        tag: tag.into(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(plugin),
            ..Default::default()
        }),
        value: Some(summary_value::Value::Tensor(null)),
    };
    let summary = event::What::Summary(Summary { value: vec![value] });
    Event {
        wall_time: 0.0,
        step: 0,
        what: Some(summary),
    }
}

fn write_events(dir: &Path, events: &[Event]) -> Result<(), RecordError> {
    let version = Event {
        wall_time: 0.0,
        step: 0,
        what: Some(event::What::FileVersion("brain.Event:2".into())),
    };
    let bytes: Vec<u8> = std::iter::once(&version)
        .chain(events)
        .flat_map(|e| frame(&e.encode_to_vec()))
        .collect();
    let path = dir.join(HPARAMS_FILE);
    write_atomic(&path, &bytes)
        .map_err(|e| RecordError::unwritable(&path, format!("cannot write: {e}")))
}

/// Writes each session's file in its run folder, and the experiment in `grid_dir`. Runs that
/// wrote no event files of their own (TensorBoard off) are left out.
pub fn write_hparams(grid_dir: &Path, sessions: &[Session]) -> Result<(), RecordError> {
    let tracked = |s: &&Session| {
        event_files(&s.run_dir)
            .iter()
            .any(|p| !p.ends_with(HPARAMS_FILE))
    };
    let sessions: Vec<&Session> = sessions.iter().filter(tracked).collect();
    if sessions.is_empty() {
        return Ok(());
    }
    let mut types: BTreeMap<String, i32> = BTreeMap::new();
    let mut metrics: Vec<String> = vec!["train/loss".into()];
    for s in &sessions {
        write_session(s)?;
        for (key, value) in &s.hparams {
            // A key is a number only if every session's value is one.
            let kind = if value.parse::<f64>().is_ok() {
                FLOAT64
            } else {
                STRING
            };
            let t = types.entry(key.clone()).or_insert(kind);
            *t = (*t).min(kind);
        }
        for tag in eval_tags(&s.run_dir)? {
            if !metrics.contains(&tag) {
                metrics.push(tag);
            }
        }
    }
    let experiment = Experiment {
        description: "ddpm-exp grid".into(),
        hparam_infos: types
            .into_iter()
            .map(|(name, r#type)| HParamInfo { name, r#type })
            .collect(),
        metric_infos: metrics
            .into_iter()
            .map(|tag| MetricInfo {
                name: Some(MetricName {
                    group: String::new(),
                    tag,
                }),
            })
            .collect(),
    };
    let event = hparams_event(
        "_hparams_/experiment",
        plugin_data::Data::Experiment(experiment),
    );
    write_events(grid_dir, &[event])
}

/// A session's start (its hyperparameters and group) and end (how it ended) in its folder.
fn write_session(s: &Session) -> Result<(), RecordError> {
    let hparams = s
        .hparams
        .iter()
        .map(|(k, v)| (k.clone(), value_of(v)))
        .collect();
    let start = SessionStartInfo {
        hparams,
        group_name: s.group.clone(),
    };
    let status = if s.ok { SUCCESS } else { FAILURE };
    let end = SessionEndInfo { status };
    let events = [
        hparams_event(
            "_hparams_/session_start_info",
            plugin_data::Data::SessionStartInfo(start),
        ),
        hparams_event(
            "_hparams_/session_end_info",
            plugin_data::Data::SessionEndInfo(end),
        ),
    ];
    write_events(&s.run_dir, &events)
}

/// The scalar tags under `eval/` that a run's event files hold.
fn eval_tags(run_dir: &Path) -> Result<Vec<String>, RecordError> {
    let mut tags = Vec::new();
    for e in read_events(run_dir)? {
        if let Some(event::What::Summary(summary)) = e.what {
            for v in summary.value {
                if v.tag.starts_with("eval/") && !tags.contains(&v.tag) {
                    tags.push(v.tag);
                }
            }
        }
    }
    Ok(tags)
}
