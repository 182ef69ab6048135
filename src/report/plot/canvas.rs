//! Where every plot is drawn: once into an RGB buffer (saved as PNG) and once into an SVG
//! string, from the same drawing code. Text uses the embedded DejaVu Sans through ab_glyph, so
//! rendering needs no fonts on the machine.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::record::RecordError;
use crate::record::atomic::write_atomic;
use crate::report::ReportError;

/// DejaVu Sans 2.37 (Bitstream Vera licence, see assets/fonts/LICENSE.md).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The family name plots ask for; SVG viewers fall back to their own sans-serif.
pub const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();

/// Makes the embedded font the one plotters uses for `FAMILY` (once per process).
pub fn register_embedded_font() {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The bytes are a valid TrueType font checked by the tests; a failure here
            // would only mean a corrupt checkout, which text-less plots still survive.
            let _ = register_font(FAMILY, style, FONT);
        }
    });
}

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// Width and height in pixels (the SVG uses the same units).
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError>;
}

/// Turns any plotters error into the report's error text.
pub fn plot_err<E: std::fmt::Debug>(e: E) -> ReportError {
    ReportError::Figure(format!("drawing a figure: {e:?}"))
}

/// Writes `<stem>.png` and `<stem>.svg`; returns the PNG's path.
pub fn save_figure(figure: &impl Figure, stem: &Path) -> Result<PathBuf, ReportError> {
    register_embedded_font();
    let (w, h) = figure.size();
    let mut pixels = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        figure.draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    let png = stem.with_extension("png");
    write_png(&png, w, h, pixels)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        figure.draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    let svg_path = stem.with_extension("svg");
    write_atomic(&svg_path, svg.as_bytes())
        .map_err(|e| RecordError::unwritable(&svg_path, format!("cannot write: {e}")))?;
    Ok(png)
}

/// Encodes an RGB buffer as PNG and writes it atomically.
pub fn write_png(path: &Path, w: u32, h: u32, pixels: Vec<u8>) -> Result<(), ReportError> {
    let bytes = encode_png(w, h, pixels)
        .map_err(|e| ReportError::Figure(format!("{}: cannot encode PNG: {e}", path.display())))?;
    write_atomic(path, &bytes)
        .map_err(|e| RecordError::unwritable(path, format!("cannot write: {e}")))?;
    Ok(())
}

/// PNG bytes of an RGB buffer.
pub fn encode_png(w: u32, h: u32, pixels: Vec<u8>) -> Result<Vec<u8>, ReportError> {
    let img = image::RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| ReportError::Figure("pixel buffer does not match the image size".into()))?;
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(|e| ReportError::Figure(e.to_string()))?;
    Ok(bytes)
}

/// The colour of the i-th series (a colour-blind-safe qualitative palette, Okabe–Ito).
pub fn series_colour(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 8] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
        RGBColor(0, 0, 0),
        RGBColor(240, 228, 66),
    ];
    PALETTE[i % PALETTE.len()]
}

/// Text style of the embedded font.
pub fn text(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// Every plot here has f64 axes.
pub type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart over the bounds of `points` (y padded by 5%), with its grid and axis labels.
pub fn chart_over<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    points: impl Iterator<Item = (f64, f64)>,
    descs: (&str, &str),
    format_y: &dyn Fn(&f64) -> String,
) -> Result<Chart<'a, DB>, ReportError> {
    chart_with_labels(area, points, descs, (&|x| short_number(*x), format_y))
}

/// [`chart_over`] with the x axis's labels formatted too (a log axis shows its powers).
pub fn chart_with_labels<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    points: impl Iterator<Item = (f64, f64)>,
    (x_desc, y_desc): (&str, &str),
    (format_x, format_y): (&dyn Fn(&f64) -> String, &dyn Fn(&f64) -> String),
) -> Result<Chart<'a, DB>, ReportError> {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (x, y) in points.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if !x0.is_finite() {
        return Err(ReportError::Figure("no finite values to plot".into()));
    }
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(66)
        .build_cartesian_2d(x0..x1.max(x0 + 1e-6), (y0 - pad)..(y1 + pad))
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(text(12))
        .axis_desc_style(text(14))
        .x_labels(7)
        .x_label_formatter(format_x)
        .y_label_formatter(format_y)
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(plot_err)?;
    Ok(chart)
}

/// A 2-pixel line (dashed if asked) with its legend entry.
pub fn labelled_line<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    points: Vec<(f64, f64)>,
    colour: RGBColor,
    dashed: bool,
    label: &str,
) -> Result<(), ReportError> {
    let style = colour.stroke_width(2);
    let drawn = if dashed {
        chart
            .draw_series(DashedLineSeries::new(points, 6, 4, style))
            .map_err(plot_err)?
    } else {
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(plot_err)?
    };
    drawn
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    Ok(())
}

/// The legend box of the labelled lines.
pub fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    position: SeriesLabelPosition,
) -> Result<(), ReportError> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .label_font(text(12))
        .draw()
        .map_err(plot_err)
}

/// "0.012", "3.1e-5": short labels for an axis that may be log-scaled.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
