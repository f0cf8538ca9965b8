//! The fleet dashboard (`ftbench publish`): a static site from a store's runs. No server, no
//! network, no script from elsewhere: `index.html` and one SVG per figure, drawn with the same
//! plotting helpers, font and axes as `report`.
//!
//! The data ([`Fleet`], `analysis::fleet`) is gathered by `commands/publish.rs`; this module
//! only draws it.

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use serde::Serialize;

use super::plot::{
    DrawResult, FONT_FAMILY, axis_label, ideal_line, legend, log2, register_font, svg_document,
    threads_chart, with_legend_room,
};
use crate::analysis::fleet::{Fleet, FleetLabel, Trend};

const TEMPLATE: &str = include_str!("templates/fleet.html");

/// One colour per machine, by the order machines were first seen: a machine keeps its colour
/// when others join later.
const MACHINE_COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
];

fn colour(machine: usize) -> RGBColor {
    MACHINE_COLOURS[machine % MACHINE_COLOURS.len()]
}

/// A figure file of the dashboard.
#[derive(Debug, Clone, Serialize)]
struct FigureRef {
    file: String,
    title: String,
    regressions: Vec<String>,
}

/// Days since 1970 of an RFC 3339 UTC time (`2026-11-26T01:03:33Z`); the x axis of trends.
pub fn days(created: &str) -> f64 {
    let number = |range: std::ops::Range<usize>| -> i64 {
        created.get(range).and_then(|s| s.parse().ok()).unwrap_or(0)
    };
    let (y, m, d) = (number(0..4), number(5..7), number(8..10));
    let seconds = number(11..13) * 3600 + number(14..16) * 60 + number(17..19);
    // days_from_civil (Howard Hinnant), the inverse of results/time.rs.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days as f64 + seconds as f64 / 86_400.0
}

/// `2026-11-26` from days since 1970, or `11-26 10:40` where the axis spans only a few days.
fn date_label(days: f64, span_days: f64) -> String {
    let secs = (days * 86_400.0).max(0.0) as u64;
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let stamp = crate::results::utc_at(time);
    if span_days < 3.0 {
        format!(
            "{} {}",
            stamp.get(5..10).unwrap_or_default(),
            stamp.get(11..16).unwrap_or_default()
        )
    } else {
        stamp.get(..10).unwrap_or_default().to_string()
    }
}

/// The marker in every dashboard's `index.html`: `publish` replaces only a page that has it
/// (without `--force`).
pub const GENERATOR: &str = "<meta name=\"generator\" content=\"ftbench publish\">";

/// `NAME.svg` for a figure, made unique among `names`: two names that slug alike (test `pc-a`
/// with label `b`, test `pc` with label `a-b`) get a short hash of what they show (`key`), so
/// no machine's figure replaces another's.
fn unique_name(names: &mut std::collections::HashSet<String>, name: &str, key: &str) -> String {
    let plain = format!("{}.svg", crate::format::slug(name));
    if names.insert(plain.clone()) {
        return plain;
    }
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut candidate = format!("{}-{:08x}.svg", crate::format::slug(name), hash as u32);
    let mut n = 2;
    while !names.insert(candidate.clone()) {
        candidate = format!("{}-{:08x}-{n}.svg", crate::format::slug(name), hash as u32);
        n += 1;
    }
    candidate
}

/// The dashboard's files: `index.html` and its figures, as (name, bytes).
pub fn render(fleet: &Fleet) -> Result<Vec<(String, Vec<u8>)>> {
    register_font()?;
    let mut files = Vec::new();
    let mut sections = Vec::new();
    let mut names = std::collections::HashSet::new();
    for test in &fleet.tests {
        let mut figures = Vec::new();
        for label in &test.labels {
            let file = unique_name(
                &mut names,
                &format!("{}-{}", test.test, label.label),
                &format!("{}\0{}", test.test, label.label),
            );
            files.push((
                file.clone(),
                scaling_svg(fleet, &test.test, label)?.into_bytes(),
            ));
            figures.push(FigureRef {
                file,
                title: format!("{} on {}", test.test, label.label),
                regressions: regressions(fleet, &label.trends),
            });
        }
        sections.push(serde_json::json!({"test": test.test, "figures": figures}));
    }
    let mut regular = Vec::new();
    for trend in &fleet.regular {
        let file = unique_name(
            &mut names,
            &format!("regular-{}-vs-{}", trend.label, trend.baseline),
            &format!("regular\0{}\0{}", trend.label, trend.baseline),
        );
        let title = format!(
            "Regular tests: geometric mean of {} against {}",
            trend.label, trend.baseline
        );
        files.push((
            file.clone(),
            trend_svg(fleet, &title, &trend.trends, "geometric mean (x)")?.into_bytes(),
        ));
        regular.push(FigureRef {
            file,
            title,
            regressions: regressions(fleet, &trend.trends),
        });
    }
    let mut env = super::html::environment();
    env.add_template("fleet.html", TEMPLATE)?;
    let html = env
        .get_template("fleet.html")?
        .render(minijinja::context! {
            fleet => fleet,
            sections => sections,
            regular => regular,
        })?;
    files.push(("index.html".to_string(), html.into_bytes()));
    Ok(files)
}

/// `machine a: 2026-11-20 (run 12) slower than the run before`, per flagged point.
fn regressions(fleet: &Fleet, trends: &[Trend]) -> Vec<String> {
    trends
        .iter()
        .flat_map(|t| {
            t.points.iter().filter(|p| p.regression).map(move |p| {
                format!(
                    "{}: run {} of {} is significantly slower than the run before ({:.2}x)",
                    fleet.machines[t.machine].name, p.run_id, p.created, p.value.value
                )
            })
        })
        .collect()
}

fn svg_of(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<()>,
) -> Result<String> {
    svg_document(size, |root| {
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        draw(root)
    })
}

/// Left: the latest speedup curve of every machine, the ideal line, and each machine's core
/// count as a dashed line in its colour. Right: each machine's speedup at its thread count,
/// run after run, with regressions ringed in red.
fn scaling_svg(fleet: &Fleet, test: &str, label: &FleetLabel) -> Result<String> {
    svg_of((1500, 520), |root| {
        let area = root
            .titled(&format!("{test} on {}", label.label), (FONT_FAMILY, 22))
            .map_err(|e| anyhow!("{e}"))?;
        let (left, right) = area.split_horizontally(720);
        curves_panel(&left, fleet, label).map_err(|e| anyhow!("{e}"))?;
        trend_panel(
            &right,
            fleet,
            &label.trends,
            "speedup at the thread count in the legend",
        )
        .map_err(|e| anyhow!("{e}"))?;
        Ok(())
    })
}

fn trend_svg(fleet: &Fleet, title: &str, trends: &[Trend], y_desc: &str) -> Result<String> {
    svg_of((900, 480), |root| {
        let area = root
            .titled(title, (FONT_FAMILY, 20))
            .map_err(|e| anyhow!("{e}"))?;
        trend_panel(&area, fleet, trends, y_desc).map_err(|e| anyhow!("{e}"))?;
        Ok(())
    })
}

fn curves_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    fleet: &Fleet,
    label: &FleetLabel,
) -> DrawResult<DB> {
    let max_threads = label
        .curves
        .iter()
        .flat_map(|c| c.points.iter().map(|(n, _)| *n))
        .chain(
            label
                .curves
                .iter()
                .map(|c| fleet.machines[c.machine].cores as u32),
        )
        .max()
        .unwrap_or(2)
        .max(2);
    let data_max = label
        .curves
        .iter()
        .flat_map(|c| c.points.iter().map(|(_, e)| e.high))
        .fold(1.0_f64, f64::max);
    let y_max = with_legend_room(
        data_max * 1.05,
        label.curves.len() + 1,
        area.dim_in_pixel().1,
    );
    let mut chart = threads_chart(
        area,
        "latest run of each machine (dashed: its CPU count)",
        max_threads,
        y_max,
        ("threads", "speedup over serial"),
        &|v| axis_label(*v, |v| format!("{v:.1}x")),
    )?;
    let ideal = ideal_line(max_threads, y_max);
    chart
        .draw_series(DashedLineSeries::new(
            ideal,
            6,
            4,
            BLACK.mix(0.4).stroke_width(1),
        ))?
        .label("ideal")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.4)));
    for curve in &label.curves {
        let machine = &fleet.machines[curve.machine];
        let c = colour(curve.machine);
        let cores = log2(machine.cores.max(1) as u32);
        chart.draw_series(DashedLineSeries::new(
            vec![(cores, 0.0), (cores, y_max)],
            4,
            4,
            c.mix(0.6).stroke_width(1),
        ))?;
        let points: Vec<(f64, f64)> = curve
            .points
            .iter()
            .map(|(n, e)| (log2(*n), e.value))
            .collect();
        chart.draw_series(curve.points.iter().map(|(n, e)| {
            ErrorBar::new_vertical(log2(*n), e.low, e.value, e.high, c.stroke_width(1), 6)
        }))?;
        chart
            .draw_series(LineSeries::new(points, c.stroke_width(2)))?
            .label(format!(
                "{} ({} CPUs, run {})",
                machine.name, machine.cores, curve.run_id
            ))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    legend(&mut chart)
}

fn trend_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    fleet: &Fleet,
    trends: &[Trend],
    y_desc: &str,
) -> DrawResult<DB> {
    let all = || trends.iter().flat_map(|t| t.points.iter());
    let first = all()
        .map(|p| days(&p.created))
        .fold(f64::INFINITY, f64::min);
    let last = all()
        .map(|p| days(&p.created))
        .fold(f64::NEG_INFINITY, f64::max);
    let (first, last) = if first.is_finite() {
        let pad = ((last - first) * 0.05).max(0.5);
        (first - pad, last + pad)
    } else {
        (0.0, 1.0)
    };
    let data_max = all().map(|p| p.value.high).fold(1.0_f64, f64::max);
    let y_max = with_legend_room(data_max * 1.05, trends.len(), area.dim_in_pixel().1);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "over time (red ring: significantly slower than the run before)",
            (FONT_FAMILY, 16),
        )
        .margin(12)
        .x_label_area_size(38)
        .y_label_area_size(66)
        .build_cartesian_2d(first..last, 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_labels(5)
        .x_label_formatter(&|d| date_label(*d, last - first))
        .y_label_formatter(&|v| axis_label(*v, |v| format!("{v:.2}x")))
        .x_desc("date of the run")
        .y_desc(y_desc)
        .label_style((FONT_FAMILY, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for trend in trends {
        let c = colour(trend.machine);
        let points: Vec<(f64, f64)> = trend
            .points
            .iter()
            .map(|p| (days(&p.created), p.value.value))
            .collect();
        chart.draw_series(trend.points.iter().map(|p| {
            ErrorBar::new_vertical(
                days(&p.created),
                p.value.low,
                p.value.value,
                p.value.high,
                c.stroke_width(1),
                5,
            )
        }))?;
        chart.draw_series(
            points
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 3, c.filled())),
        )?;
        chart.draw_series(
            trend
                .points
                .iter()
                .filter(|p| p.regression)
                .map(|p| Circle::new((days(&p.created), p.value.value), 8, RED.stroke_width(2))),
        )?;
        let name = &fleet.machines[trend.machine].name;
        chart
            .draw_series(LineSeries::new(points, c.stroke_width(2)))?
            .label(if trend.threads > 0 {
                format!("{name} at {} threads", trend.threads)
            } else {
                name.clone()
            })
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    legend(&mut chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_dates() {
        assert!((days("1970-01-02T12:00:00Z") - 1.5).abs() < 1e-9);
        assert_eq!(date_label(days("2024-02-29T23:00:00Z"), 30.0), "2024-02-29");
        assert_eq!(date_label(days("2026-11-26T01:03:33Z"), 30.0), "2026-11-26");
        assert_eq!(date_label(days("2026-11-26T01:03:33Z"), 1.0), "11-26 01:03");
    }
}

#[cfg(test)]
mod names_tests {
    use super::*;

    #[test]
    fn figures_that_slug_alike_get_names_of_their_own() {
        let mut names = std::collections::HashSet::new();
        let a = unique_name(&mut names, "pc-a-b", "pc-a\0b");
        let b = unique_name(&mut names, "pc-a-b", "pc\0a-b");
        assert_eq!(a, "pc-a-b.svg");
        assert_ne!(a, b);
        assert!(
            b.starts_with("pc-a-b-") && b.len() == "pc-a-b-12345678.svg".len(),
            "{b}"
        );
        // The same pair again (a third machine's name clash) still gets a free name.
        let c = unique_name(&mut names, "pc-a-b", "pc\0a-b");
        assert!(![&a, &b].contains(&&c), "{c}");
    }
}
