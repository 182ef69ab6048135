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

/// Columns and zoom of the sample grid a run writes for `count` images of `side` pixels.
fn grid_geometry(count: usize, side: usize) -> (usize, usize) {
    ((count as f64).sqrt().ceil() as usize, (64 / side).max(1))
}

/// The first `take` images of a grid [`write_grid`] wrote (count, channels and side as it was
/// given), each [channels, side, side] in [−1, 1]; an error names a file that is not such a grid.
pub fn read_grid(
    path: &Path,
    (count, channels, side): (usize, usize, usize),
    take: usize,
) -> Result<Vec<Vec<f32>>, RecordError> {
    let img = image::open(path)
        .map_err(|e| RecordError::unreadable(path, format!("cannot read PNG: {e}")))?
        .to_rgb8();
    let (columns, zoom) = grid_geometry(count, side);
    let columns = columns.max(1).min(count.max(1));
    let gap = (zoom / 2).max(1);
    let cell = side * zoom + gap;
    let size = |n: usize| (n * cell + gap) as u32;
    if img.dimensions() != (size(columns), size(count.div_ceil(columns))) {
        return Err(RecordError::unreadable(
            path,
            format!("is not a grid of {count} images of {side}×{side} pixels"),
        ));
    }
    let value = |byte: u8| byte as f32 / 127.5 - 1.0;
    let images = (0..take.min(count))
        .map(|k| {
            let (x0, y0) = ((k % columns) * cell + gap, (k / columns) * cell + gap);
            let mut image = vec![0.0f32; channels * side * side];
            for c in 0..channels {
                for y in 0..side {
                    for x in 0..side {
                        let px = img.get_pixel((x0 + x * zoom) as u32, (y0 + y * zoom) as u32);
                        image[c * side * side + y * side + x] = value(px[c.min(2)]);
                    }
                }
            }
            image
        })
        .collect();
    Ok(images)
}

/// The grid [`write_grid`] writes, as PNG bytes, with its (width, height).
pub fn grid_png(
    pixels: &[f32],
    count: usize,
    channels: usize,
    side: usize,
) -> Result<(Vec<u8>, (u32, u32)), image::ImageError> {
    let (columns, zoom) = grid_geometry(count, side);
    let img = render_grid(pixels, count, channels, side, columns, zoom);
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )?;
    Ok((bytes, img.dimensions()))
}

/// Writes the grid to `path` atomically.
pub fn write_grid(
    path: &Path,
    pixels: &[f32],
    count: usize,
    channels: usize,
    side: usize,
) -> Result<(), RecordError> {
    let (bytes, _) = grid_png(pixels, count, channels, side)
        .map_err(|e| RecordError::unwritable(path, format!("cannot encode PNG: {e}")))?;
    write_atomic(path, &bytes)
        .map_err(|e| RecordError::unwritable(path, format!("cannot write: {e}")))
}
