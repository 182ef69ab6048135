//! Labelled grids of images (samples, progressive generation, reconstructions,
//! interpolations): one layout, written as PNG (pixels with the embedded font's text) and as
//! SVG (the same pixels embedded as PNG, the labels as real text).

use std::path::{Path, PathBuf};

use base64::Engine;
use plotters::prelude::*;

use super::plot::canvas::{encode_png, plot_err, register_embedded_font, text, write_png};
use super::tables::html_escape;
use crate::record::RecordError;
use crate::record::atomic::write_atomic;
use crate::record::grid::paint_image;
use crate::report::ReportError;
use image::{Rgb, RgbImage};

/// A row of images with its label (e.g. "t = 500").
pub struct ImageRow {
    pub label: String,
    /// Each image flattened [channels, side, side], values in [−1, 1].
    pub images: Vec<Vec<f32>>,
}

pub struct ImageFigure {
    pub title: String,
    /// Labels over the columns (may be empty).
    pub column_labels: Vec<String>,
    pub rows: Vec<ImageRow>,
    pub channels: usize,
    pub side: usize,
}

const GAP: u32 = 4;
const TITLE_HEIGHT: u32 = 30;
const COLUMN_LABEL_HEIGHT: u32 = 20;

/// Positions of everything on the figure, in pixels.
struct Layout {
    zoom: u32,
    tile: u32,
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

impl ImageFigure {
    fn layout(&self) -> Layout {
        let zoom = (48 / self.side as u32).max(1);
        let tile = self.side as u32 * zoom;
        let columns = self.rows.iter().map(|r| r.images.len()).max().unwrap_or(0) as u32;
        // Row labels are 12 px DejaVu Sans: under 7 px a character.
        let longest = self.rows.iter().map(|r| r.label.chars().count()).max();
        let left = match longest {
            Some(n) if n > 0 => (n as u32 * 7 + 12).max(118),
            _ => GAP,
        };
        let top = TITLE_HEIGHT
            + if self.column_labels.is_empty() {
                0
            } else {
                COLUMN_LABEL_HEIGHT
            };
        // Wide enough for the title (DejaVu Sans at 17 px averages under 10 px a character).
        let title_width = self.title.chars().count() as u32 * 10 + 2 * GAP;
        let width = (left + columns * (tile + GAP) + GAP).max(title_width);
        let height = top + self.rows.len() as u32 * (tile + GAP) + GAP;
        Layout {
            zoom,
            tile,
            left,
            top,
            width,
            height,
        }
    }

    fn tile_origin(&self, l: &Layout, row: usize, column: usize) -> (u32, u32) {
        (
            l.left + column as u32 * (l.tile + GAP),
            l.top + row as u32 * (l.tile + GAP),
        )
    }

    /// The images on a white page, without text, as RGB bytes.
    fn raster(&self, l: &Layout) -> Vec<u8> {
        let mut page = RgbImage::from_pixel(l.width, l.height, Rgb([255, 255, 255]));
        for (r, row) in self.rows.iter().enumerate() {
            for (c, image) in row.images.iter().enumerate() {
                let (x0, y0) = self.tile_origin(l, r, c);
                let origin = (x0 as usize, y0 as usize);
                paint_image(
                    &mut page,
                    image,
                    self.channels,
                    self.side,
                    l.zoom as usize,
                    origin,
                );
            }
        }
        page.into_raw()
    }

    /// (text, x, y, size, centred) of every label.
    fn labels(&self, l: &Layout) -> Vec<(String, i32, i32, u32, bool)> {
        let mut out = vec![(self.title.clone(), GAP as i32, 6, 17, false)];
        for (c, label) in self.column_labels.iter().enumerate() {
            let (x, _) = self.tile_origin(l, 0, c);
            let y = (TITLE_HEIGHT + 2) as i32;
            out.push((label.clone(), (x + l.tile / 2) as i32, y, 11, true));
        }
        for (r, row) in self.rows.iter().enumerate() {
            let (_, y) = self.tile_origin(l, r, 0);
            let y = (y + l.tile / 2) as i32 - 7;
            out.push((row.label.clone(), 6, y, 12, false));
        }
        out
    }

    /// Writes `<stem>.png` and `<stem>.svg`; returns the PNG's path.
    pub fn save(&self, stem: &Path) -> Result<PathBuf, ReportError> {
        register_embedded_font();
        let l = self.layout();
        let plain = self.raster(&l);
        let mut with_text = plain.clone();
        {
            let root =
                BitMapBackend::with_buffer(&mut with_text, (l.width, l.height)).into_drawing_area();
            for (label, x, y, size, centred) in self.labels(&l) {
                let mut style = text(size);
                if centred {
                    style = style.pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Top,
                    ));
                }
                root.draw_text(&label, &style, (x, y)).map_err(plot_err)?;
            }
            root.present().map_err(plot_err)?;
        }
        let png = stem.with_extension("png");
        write_png(&png, l.width, l.height, with_text)?;

        let embedded = encode_png(l.width, l.height, plain)?;
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
             <image x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,{data}\"/>\n",
            w = l.width,
            h = l.height,
            data = base64::engine::general_purpose::STANDARD.encode(embedded),
        );
        for (label, x, y, size, centred) in self.labels(&l) {
            svg.push_str(&format!(
                "<text x=\"{x}\" y=\"{y}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"{size}\" dominant-baseline=\"hanging\"{anchor}>{}</text>\n",
                html_escape(&label),
                anchor = if centred { " text-anchor=\"middle\"" } else { "" },
            ));
        }
        svg.push_str("</svg>\n");
        let svg_path = stem.with_extension("svg");
        write_atomic(&svg_path, svg.as_bytes())
            .map_err(|e| RecordError::unwritable(&svg_path, format!("cannot write: {e}")))?;
        Ok(png)
    }
}
