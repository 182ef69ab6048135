//! One-line spec errors: where (file:line:col, or the `--set` that caused it), which key, why.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
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

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        // Keep it one line whatever the parser said.
        write!(f, "{}", self.message.replace('\n', " "))
    }
}

impl std::error::Error for SpecError {}
