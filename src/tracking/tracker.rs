//! One session's event file in a run folder. A resumed run opens a new file beside the earlier
//! ones and writes nothing TensorBoard already has: for each tag, only steps after the newest
//! one the earlier files hold (the steps replayed after the last checkpoint have the same
//! values, the run being deterministic). A SessionLog START marks where the new file begins.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use prost::Message;

use super::event_file::{frame, read_records};
use super::proto::{
    DT_STRING, Event, Image, PluginData, SESSION_START, SessionLog, Summary, SummaryMetadata,
    SummaryValue, TensorDim, TensorProto, TensorShape, event, summary_value,
};
use crate::record::RecordError;

/// What every event file's name holds, as TensorBoard finds them.
pub const EVENT_FILE_MARK: &str = "tfevents";

pub struct RunTracker {
    inner: Mutex<Inner>,
}

struct Inner {
    path: PathBuf,
    file: File,
    /// Tag → the newest step the earlier files of this run hold.
    written: BTreeMap<String, i64>,
    /// The step and time of the last `train/` scalars, for steps/s.
    last_log: Option<(u64, Instant)>,
}

fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The event files of `dir`, oldest first (their names start with the time they were made).
pub fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(EVENT_FILE_MARK))
        })
        .collect();
    files.sort();
    files
}

/// Every event the files of `dir` hold, in order.
pub fn read_events(dir: &Path) -> Result<Vec<Event>, RecordError> {
    let mut events = Vec::new();
    for path in event_files(dir) {
        let bytes = std::fs::read(&path).map_err(|e| RecordError::unreadable(&path, e))?;
        for record in read_records(&bytes) {
            let event = Event::decode(record)
                .map_err(|e| RecordError::unreadable(&path, format!("not an event: {e}")))?;
            events.push(event);
        }
    }
    Ok(events)
}

/// Tag → newest step among `events`' summary values.
fn newest_steps(events: &[Event]) -> BTreeMap<String, i64> {
    let mut newest: BTreeMap<String, i64> = BTreeMap::new();
    for e in events {
        if let Some(event::What::Summary(summary)) = &e.what {
            for v in &summary.value {
                let step = newest.entry(v.tag.clone()).or_insert(e.step);
                *step = (*step).max(e.step);
            }
        }
    }
    newest
}

impl RunTracker {
    /// A new event file in `dir`; where earlier ones exist, a START at the step after their
    /// newest.
    pub fn open(dir: &Path) -> Result<Self, RecordError> {
        let earlier = read_events(dir)?;
        let written = newest_steps(&earlier);
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let name = format!(
            "events.out.{EVENT_FILE_MARK}.{secs:010}.{:04}.ddpm-exp.{}",
            event_files(dir).len(),
            std::process::id()
        );
        let path = dir.join(name);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| RecordError::unwritable(&path, format!("cannot create: {e}")))?;
        let tracker = Self {
            inner: Mutex::new(Inner {
                path,
                file,
                written,
                last_log: None,
            }),
        };
        tracker.write(0, event::What::FileVersion("brain.Event:2".into()))?;
        // Earlier files mean a resume: TensorBoard's new data starts after their newest step.
        if let Some(step) = earlier.iter().map(|e| e.step).max() {
            let log = SessionLog {
                status: SESSION_START,
                ..Default::default()
            };
            tracker.write(step + 1, event::What::SessionLog(log))?;
        }
        Ok(tracker)
    }

    fn write(&self, step: i64, what: event::What) -> Result<(), RecordError> {
        let event = Event {
            wall_time: wall_time(),
            step,
            what: Some(what),
        };
        let mut inner = self.inner.lock().expect("no panic while writing");
        let record = frame(&event.encode_to_vec());
        let path = inner.path.clone();
        inner
            .file
            .write_all(&record)
            .map_err(|e| RecordError::unwritable(&path, format!("cannot write: {e}")))
    }

    /// Writes the values TensorBoard does not have yet (see the module's note).
    fn summary(&self, step: u64, values: Vec<SummaryValue>) -> Result<(), RecordError> {
        let step = step as i64;
        let values: Vec<SummaryValue> = {
            let inner = self.inner.lock().expect("no panic while writing");
            let new = |v: &SummaryValue| inner.written.get(&v.tag).is_none_or(|&s| step > s);
            values.into_iter().filter(new).collect()
        };
        if values.is_empty() {
            return Ok(());
        }
        self.write(step, event::What::Summary(Summary { value: values }))
    }

    /// Scalars at `step`, by tag.
    pub fn scalars(&self, step: u64, scalars: &[(String, f64)]) -> Result<(), RecordError> {
        let values = scalars
            .iter()
            .map(|(tag, value)| SummaryValue {
                tag: tag.clone(),
                metadata: None,
                value: Some(summary_value::Value::SimpleValue(*value as f32)),
            })
            .collect();
        self.summary(step, values)
    }

    /// The training rows logged at `step` as `train/NAME`, with `train/steps_per_second`
    /// since the previous log line of this session.
    pub fn train_rows(&self, step: u64, rows: &[(String, f64)]) -> Result<(), RecordError> {
        let mut scalars: Vec<(String, f64)> = rows
            .iter()
            .map(|(name, v)| (format!("train/{name}"), *v))
            .collect();
        let now = Instant::now();
        let last = self
            .inner
            .lock()
            .expect("no panic while writing")
            .last_log
            .replace((step, now));
        if let Some((before, at)) = last.filter(|(before, _)| step > *before) {
            let rate = (step - before) as f64 / now.duration_since(at).as_secs_f64().max(1e-9);
            scalars.push(("train/steps_per_second".into(), rate));
        }
        self.scalars(step, &scalars)
    }

    /// A PNG image (as the file holds it) of `width` × `height` RGB pixels.
    pub fn image(
        &self,
        tag: &str,
        step: u64,
        png: Vec<u8>,
        (width, height): (u32, u32),
    ) -> Result<(), RecordError> {
        let image = Image {
            height: height as i32,
            width: width as i32,
            colorspace: 3,
            encoded_image_string: png,
        };
        let value = SummaryValue {
            tag: tag.into(),
            metadata: None,
            value: Some(summary_value::Value::Image(image)),
        };
        self.summary(step, vec![value])
    }

    /// Text for TensorBoard's text plugin (it renders Markdown).
    pub fn text(&self, tag: &str, step: u64, text: &str) -> Result<(), RecordError> {
        let tensor = TensorProto {
            dtype: DT_STRING,
            tensor_shape: Some(TensorShape {
                dim: vec![TensorDim { size: 1 }],
            }),
            string_val: vec![text.as_bytes().to_vec()],
        };
        let plugin = PluginData {
            plugin_name: "text".into(),
            content: Vec::new(),
        };
        let metadata = SummaryMetadata {
            plugin_data: Some(plugin),
            ..Default::default()
        };
        let value = SummaryValue {
            tag: tag.into(),
            metadata: Some(metadata),
            value: Some(summary_value::Value::Tensor(tensor)),
        };
        self.summary(step, vec![value])
    }

    /// Pushes what was written to the file, so TensorBoard sees it now.
    pub fn flush(&self) -> Result<(), RecordError> {
        let mut inner = self.inner.lock().expect("no panic while writing");
        let path = inner.path.clone();
        inner
            .file
            .flush()
            .map_err(|e| RecordError::unwritable(&path, format!("cannot write: {e}")))
    }
}
