//! The figures' look: the embedded font, each label's colour, and SVG documents safe for XML, rasterised to PNG.

use std::fmt::Write as _;

use anyhow::{Context, Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// The family name inside the embedded font file.
const EMBEDDED_FAMILY: &str = "DejaVu Sans";

/// Colour families (Tableau shades): a label's colour says what it is, so a reader knows a curve
/// without the legend, and the same label has the same colour in every report.
const FREE_THREADED: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
    RGBColor(107, 174, 214),
];

/// A free-threaded build with the GIL forced on (`+gil`).
const GIL_FORCED: [RGBColor; 4] = [
    RGBColor(255, 127, 14),
    RGBColor(214, 39, 40),
    RGBColor(253, 174, 107),
    RGBColor(166, 54, 3),
];

const GIL_BUILD: [RGBColor; 5] = [
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(188, 189, 34),
    RGBColor(227, 119, 194),
];

pub(super) const GREY: RGBColor = RGBColor(150, 150, 150);

/// Every label's colour, in label order: native black; free-threaded labels blue shades, `+gil`
/// variants orange/red, GIL builds green/purple/brown. Within a family a stable hash of the label
/// picks the shade (the next free one if an earlier label of the file took it), so a label keeps
/// its colour from report to report.
pub(crate) fn label_colours(variants: &[crate::results::VariantRecord]) -> Vec<RGBColor> {
    let mut used: Vec<RGBColor> = Vec::new();
    variants
        .iter()
        .map(|v| {
            if v.source == crate::interpreter::InterpreterSource::Native {
                return BLACK;
            }
            let family: &[RGBColor] = match (v.info.free_threaded, v.expects_gil) {
                (true, false) => &FREE_THREADED,
                (true, true) => &GIL_FORCED,
                _ => &GIL_BUILD,
            };
            let hash = crate::format::stable_hash(&v.label);
            let start = (hash % family.len() as u64) as usize;
            let colour = (0..family.len())
                .map(|k| family[(start + k) % family.len()])
                .find(|c| !used.contains(c))
                .unwrap_or(family[start]);
            used.push(colour);
            colour
        })
        .collect()
}

/// An SVG document of `size` pixels, as `draw` draws it (safe for XML, see [`xml_safe`]).
pub(crate) fn svg_document(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    Ok(xml_safe(&text))
}

/// An SVG document without the characters XML forbids (C0 controls other than tab, newline and
/// carriage return, and U+FFFE/U+FFFF): labels come from results files, which may come from
/// anyone, and one escape character makes the whole document unreadable. Each is written as
/// its visible escape (`\u{1b}`), as the terminal output does.
pub(super) fn xml_safe(svg: &str) -> String {
    if !svg.chars().any(forbidden_in_xml) {
        return svg.to_string();
    }
    let mut out = String::with_capacity(svg.len());
    for c in svg.chars() {
        if forbidden_in_xml(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

fn forbidden_in_xml(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{fffe}' | '\u{ffff}')
        // Not forbidden by XML, but they would turn a label around inside the report's page.
        || crate::output::bidirectional(c)
}

/// Rasterise an SVG document to PNG bytes (RGBA), with the embedded font for every family.
pub(super) fn svg_to_png(svg: &str) -> Result<Vec<u8>> {
    // Loading the embedded font takes a fraction of a millisecond: each figure gets its own
    // database rather than a global one.
    let mut fonts = resvg::usvg::fontdb::Database::new();
    fonts.load_font_data(FONT.to_vec());
    fonts.set_sans_serif_family(EMBEDDED_FAMILY);
    let fontdb = std::sync::Arc::new(fonts);
    let options = resvg::usvg::Options {
        font_family: EMBEDDED_FAMILY.to_string(),
        fontdb,
        ..resvg::usvg::Options::default()
    };
    let tree =
        resvg::usvg::Tree::from_str(svg, &options).context("the figure's SVG does not parse")?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .context("the figure has no area")?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, size.width(), size.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    // The background is opaque white, so premultiplied and straight alpha are the same bytes.
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(pixmap.data()))
        .context("failed to encode a PNG")?;
    Ok(bytes)
}

/// Give plotters the embedded font. Its registry is plotters' own (global by its design);
/// registering the same bytes again replaces them, so each drawing registers without a flag.
pub(crate) fn register_font() -> Result<()> {
    let ok = plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok()
        && plotters::style::register_font(FONT_FAMILY, FontStyle::Bold, FONT).is_ok();
    ok.then_some(())
        .ok_or_else(|| anyhow!("the embedded font does not load"))
}

#[cfg(test)]
mod colour_tests {
    use super::*;
    use crate::interpreter::{GilMode, InterpreterInfo, InterpreterSource};
    use crate::results::{Settings, VariantRecord};

    fn variant(label: &str, free_threaded: bool, expects_gil: bool) -> VariantRecord {
        VariantRecord {
            label: label.into(),
            path: std::path::PathBuf::new(),
            run_path: std::path::PathBuf::new(),
            source: if label == "native" {
                InterpreterSource::Native
            } else {
                InterpreterSource::Imported
            },
            gil_mode: if expects_gil && free_threaded {
                GilMode::ForceOn
            } else {
                GilMode::Default
            },
            expects_gil,
            info: InterpreterInfo::imported("3.13.15", "", "cpython", free_threaded),
        }
    }

    #[test]
    fn a_label_is_coloured_by_what_it_is_and_the_same_in_every_report() {
        let ft = variant("3.13.15t", true, false);
        let forced = variant("3.13.15t+gil", true, true);
        let gil = variant("3.13.15", false, true);
        let native = variant("native", true, false);
        let one = crate::results::ResultsFile::new(
            Settings::default(),
            vec![ft.clone(), forced.clone(), gil.clone(), native.clone()],
        );
        let colours = label_colours(&one.variants);
        assert!(FREE_THREADED.contains(&colours[0]));
        assert!(GIL_FORCED.contains(&colours[1]));
        assert!(GIL_BUILD.contains(&colours[2]));
        assert_eq!(colours[3], BLACK);
        // Another report, other order, another label beside them: the same colours.
        let other = crate::results::ResultsFile::new(
            Settings::default(),
            vec![gil, variant("3.12.1", false, true), native, ft],
        );
        let again = label_colours(&other.variants);
        assert_eq!(again[0], colours[2]);
        assert_eq!(again[2], BLACK);
        assert_eq!(again[3], colours[0]);
        assert_ne!(again[1], again[0], "two GIL builds get two shades");
    }
}
