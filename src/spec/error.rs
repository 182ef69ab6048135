//! One-line spec errors: where (file:line:col, or the `--set` that caused it), which key, why.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{location}: {}{}", key_part(key), message.replace('\n', " "))] // one line, whatever the parser said
pub struct SpecError {
    /// `path:line:col`, `path`, or `--set key=value`.
    pub location: String,
    /// The dotted key path, where one is known.
    pub key: Option<String>,
    pub message: String,
}

impl SpecError {
    pub fn new(
        location: impl Into<String>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            location: location.into(),
            key,
            message: message.into(),
        }
    }
}

/// Every spec error is the user's input.
impl crate::error::Cause for SpecError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

fn key_part(key: &Option<String>) -> String {
    key.as_ref()
        .map(|key| format!("key `{key}`: "))
        .unwrap_or_default()
}
