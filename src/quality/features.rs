//! A set of feature vectors, one row per image, as the quality scores take them.

/// `rows` feature vectors of `dim` values each, row after row.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub dim: usize,
    pub values: Vec<f64>,
}

impl Features {
    /// Panics if `values` is not a whole number of rows (a caller's bug, not bad input).
    pub fn new(dim: usize, values: Vec<f64>) -> Self {
        assert!(dim > 0 && values.len() % dim == 0, "features: ragged rows");
        Self { dim, values }
    }

    pub fn rows(&self) -> usize {
        self.values.len() / self.dim
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }
}
