//! Sample grids as PNG: images in [−1, 1] tiled row by row on a grey background, each pixel
//! scaled up so 8×8 digits are visible.

use std::path::Path;

use image::{ImageBuffer, Rgb, RgbImage};

use super::atomic::write_atomic;
use super::error::RecordError;

/// Tiles `count` images ([count, channels, side, side] flattened) into a grid of `columns`,
/// each pixel drawn as a `zoom`×`zoom` block; 1-channel images become grey.
pub fn render_grid(
    pixels: &[f32],
    count: usize,
    channels: usize,
    side: usize,
    columns: usize,
    zoom: usize,
) -> ImageBuffer<Rgb<u8>, Vec<u8>> {
    let columns = columns.max(1).min(count.max(1));
    let rows = count.div_ceil(columns);
    let gap = (zoom / 2).max(1);
    let cell = side * zoom + gap;
    let background = Rgb([128u8, 128, 128]);
    let mut img = ImageBuffer::from_pixel(
        (columns * cell + gap) as u32,
        (rows * cell + gap) as u32,
        background,
    );
    for k in 0..count {
        let origin = ((k % columns) * cell + gap, (k / columns) * cell + gap);
        let image = &pixels[k * channels * side * side..(k + 1) * channels * side * side];
        paint_image(&mut img, image, channels, side, zoom, origin);
    }
    img
}

/// Draws one image ([channels, side, side] in [−1, 1]) with its top-left corner at `origin`,
/// each pixel as a `zoom`×`zoom` block; 1-channel images become grey.
pub fn paint_image(
    img: &mut RgbImage,
    image: &[f32],
    channels: usize,
    side: usize,
    zoom: usize,
    (x0, y0): (usize, usize),
) {
    let to_byte = |v: f32| ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8;
    for y in 0..side * zoom {
        for x in 0..side * zoom {
            let (sy, sx) = (y / zoom, x / zoom);
            let channel = |c: usize| to_byte(image[c * side * side + sy * side + sx]);
            let rgb = if channels == 3 {
                [channel(0), channel(1), channel(2)]
            } else {
                [channel(0); 3]
            };
            img.put_pixel((x0 + x) as u32, (y0 + y) as u32, Rgb(rgb));
        }
    }
}

/// Writes the grid to `path` atomically.
pub fn write_grid(
    path: &Path,
    pixels: &[f32],
    count: usize,
    channels: usize,
    side: usize,
) -> Result<(), RecordError> {
    let columns = (count as f64).sqrt().ceil() as usize;
    let zoom = (64 / side).max(1);
    let img = render_grid(pixels, count, channels, side, columns, zoom);
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(|e| RecordError::unwritable(path, format!("cannot encode PNG: {e}")))?;
    write_atomic(path, &bytes)
        .map_err(|e| RecordError::unwritable(path, format!("cannot write: {e}")))
}
