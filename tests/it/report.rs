use std::path::Path;
use std::process::Command;

use predicates::prelude::*;

use crate::common::{fixture, ft_python, ftbench, gil_python, python_args, temp};
use crate::require;

/// Decode a PNG and return its size; never compare its bytes.
fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs_err::File::open(path).unwrap()));
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    (info.width, info.height)
}

fn figure_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs_err::read_dir(dir.join("figures"))
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".png")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

fn check_report(dir: &Path, expected_figures: &[&str]) {
    for file in ["report.html", "report.md", "results.csv"] {
        assert!(
            dir.join(file).is_file(),
            "{file} missing in {}",
            dir.display()
        );
    }
    let names = figure_names(dir);
    for expected in expected_figures {
        assert!(
            names.iter().any(|n| n == expected),
            "figure {expected} missing: {names:?}"
        );
    }
    for name in &names {
        let (width, height) = png_size(&dir.join(format!("figures/{name}.png")));
        assert!(width >= 900 && height >= 400, "{name}: {width}x{height}");
        let svg = fs_err::read_to_string(dir.join(format!("figures/{name}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}.svg"
        );
    }
    let html = fs_err::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(
        html.matches("<figure").count(),
        names.len(),
        "every figure is inlined"
    );
    for reach in ["src=\"http", "href=\"http", "url(http", "<script"] {
        assert!(
            !html.contains(reach),
            "the report must be self-contained: {reach}"
        );
    }
    let csv = fs_err::read_to_string(dir.join("results.csv")).unwrap();
    assert!(csv.starts_with("label,test,thread_count,metric,value,ci_low,ci_high,serial\n"));
    assert!(csv.lines().count() > 10);
}

/// Open `page` (an HTML or SVG file) in headless Chromium: it must load without console errors.
/// Returns the rendered DOM, or `None` without Chromium (outside CI only).
pub fn chromium_dom(page: &Path) -> Option<String> {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        crate::common::skip("the browser check: no chromium (scripts/test.sh installs it)");
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "chromium failed: {log}");
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("ERROR") || l.contains("Uncaught")))
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors in {}: {console_errors:?}",
        page.display()
    );
    Some(dom)
}

/// Open the report in headless Chromium: it must load without console errors and show every
/// figure.
fn check_in_chromium(dir: &Path) {
    let Some(dom) = chromium_dom(&dir.join("report.html")) else {
        return;
    };
    let figures = figure_names(dir);
    for name in &figures {
        let id = format!("id=\"figure-{name}\"");
        let at = dom
            .find(&id)
            .unwrap_or_else(|| panic!("figure {name} not in the rendered page"));
        assert!(
            dom[at..].find("<svg").is_some_and(|svg| svg < 400),
            "figure {name} has no SVG"
        );
    }
    assert!(dom.contains("Interpreters") && dom.contains("Tables"));
}

#[test]
fn a_run_writes_the_whole_report_and_it_renders_in_a_browser() {
    let ft = require!(ft_python());
    let gil = require!(gil_python());
    let dir = temp();
    ftbench(dir.path())
        .args(["run", "--quick", "--threads", "1,2", "-o", "run.json"])
        .args([
            "--tests",
            "parallel_compute,ref_counting_shared,ref_counting_local,pool_cpu_bound_threads,pool_io_bound_processes,nbody,json_roundtrip,thread_lifecycle_nosleep",
        ])
        .args(python_args(&[
            format!("ft={}", ft.display()),
            format!("ft+gil={}+gil", ft.display()),
            format!("gil={}", gil.display()),
        ]))
        .assert()
        .success()
        .stderr(predicate::str::contains("run-report/report.html"));
    let report = dir.path().join("run-report");
    check_report(
        &report,
        &[
            "scaling",
            "scaling-parallel_compute",
            "refcount",
            "pools",
            "regular",
            "threads",
        ],
    );
    let md = fs_err::read_to_string(report.join("report.md")).unwrap();
    assert!(
        md.contains("### parallel_compute (ops_per_sec, higher is better)"),
        "{md}"
    );
    assert!(md.contains("| thread_count |"), "{md}");
    // The serial baseline is "serial" in the CSV, never thread count 0.
    let csv = fs_err::read_to_string(report.join("results.csv")).unwrap();
    let serial_row = csv
        .lines()
        .find(|l| l.starts_with("\"ft\",\"parallel_compute\",,\"ops_per_sec\","))
        .unwrap_or_else(|| panic!("no serial row in\n{csv}"));
    assert!(serial_row.ends_with(",true"), "{serial_row}");
    assert!(!csv.contains(",0,\""), "a thread count of 0 in\n{csv}");
    assert!(csv.contains(",\"max_rss_mb\","), "{csv}");
    // One label, one colour: the HTML swatches use the figures' colours, which follow what a
    // label is; native has no regular-suite bars, so it is not in that legend.
    let html = fs_err::read_to_string(report.join("report.html")).unwrap();
    assert!(
        html.contains("background: #000000"),
        "native's swatch is black"
    );
    let regular = fs_err::read_to_string(report.join("figures/regular.svg")).unwrap();
    assert!(
        !regular.contains(">native<"),
        "native in the regular legend"
    );
    // Axes start at "0", whatever the unit; labels keep their glyphs ("3.13.15t" is checked
    // on the rasteriser in plot.rs); two pool tests draw two panels side by side, no empties.
    assert!(!regular.contains("0.00 ns"), "a 0.00 ns origin");
    assert!(
        regular.contains(
            "
0
</text>"
        ),
        "the origin reads 0"
    );
    assert_eq!(
        png_size(&report.join("figures/pools.png")),
        (1300, 480),
        "two pool tests in one row"
    );
    check_in_chromium(&report);
    // `ftbench report` renders the same file again, anywhere.
    ftbench(dir.path())
        .args(["report", "run.json", "--out", "again"])
        .assert()
        .success();
    check_report(
        &dir.path().join("again"),
        &["scaling", "regular", "threads"],
    );
}

#[test]
fn the_seed_studys_own_results_file_becomes_a_report() {
    let dir = temp();
    let assert = ftbench(dir.path())
        .arg("report")
        .arg(fixture("seed-results-16c.json"))
        .args(["--out", "seed", "--wide"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    // By default the same file fits a 100-column terminal.
    let compact = ftbench(dir.path())
        .env("COLUMNS", "100")
        .args(["report", "--no-files"])
        .arg(fixture("seed-results-16c.json"))
        .assert()
        .success();
    let compact = String::from_utf8_lossy(&compact.get_output().stdout).into_owned();
    assert!(
        compact.lines().all(|l| l.chars().count() <= 100),
        "{compact}"
    );
    let report = dir.path().join("seed");
    check_report(
        &report,
        &[
            "scaling",
            "scaling-parallel_compute",
            "scaling-np_column_compute_mp",
        ],
    );
    check_in_chromium(&report);
    // The seed's numbers come back: 3.13.0t's parallel_compute speedup at 16 threads was 7.806.
    let csv = fs_err::read_to_string(report.join("results.csv")).unwrap();
    assert!(
        csv.contains("\"3.13.0t\",\"parallel_compute\",16,\"speedup\",7.80"),
        "{csv}"
    );
    // Process pools count worker processes on their x axis, thread tests threads.
    let svg =
        |name: &str| fs_err::read_to_string(report.join(format!("figures/{name}.svg"))).unwrap();
    assert!(svg("scaling-np_column_compute_mp").contains("worker processes (log2 axis)"));
    assert!(svg("scaling-parallel_compute").contains("threads (log2 axis)"));
    assert!(!svg("scaling-parallel_compute").contains("worker processes"));
    // The seed kept no samples: no interval is claimed. Its ref_counting_shared falls to 0.33x
    // at 32 threads, which the headline shows and the seed's scaling factor (1.00x) cannot.
    assert!(
        stdout.contains("±n/a") && !stdout.contains("±0.0%"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3.13.0t: speedup at 32 threads 0.33x"),
        "{stdout}"
    );
    let filters = vec![(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]")];
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!("seed_tables", stdout);
        insta::assert_snapshot!("seed_compact", compact);
        insta::assert_snapshot!("seed_markdown", fs_err::read_to_string(report.join("report.md")).unwrap());
        insta::assert_snapshot!("seed_csv", fs_err::read_to_string(report.join("results.csv")).unwrap());
    });
    // The HTML without its figures (each an SVG of its own, checked in a browser elsewhere).
    let filters = vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
        (r"(?s)<svg.*?</svg>", "[SVG]"),
        (r"ftbench \d+\.\d+\.\d+", "ftbench [VERSION]"),
    ];
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!("seed_html", fs_err::read_to_string(report.join("report.html")).unwrap());
    });
}

#[test]
fn a_broken_results_file_writes_no_report() {
    let dir = temp();
    fs_err::write(
        dir.path().join("broken.json"),
        "{\"schema_version\": 1, \"points\": [{",
    )
    .unwrap();
    ftbench(dir.path())
        .args(["report", "broken.json"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "is not valid JSON (truncated or corrupt?)",
        ));
    assert!(!dir.path().join("broken-report").exists());
}

#[test]
fn a_python_labelled_native_is_drawn_as_a_python() {
    // The native reference is known by what it is, not by its label.
    let ft = require!(ft_python());
    let dir = temp();
    ftbench(dir.path())
        .args(["run", "--quick", "--no-native", "--no-store", "--tests"])
        .args(["parallel_compute", "--threads", "1,2", "-o", "named.json"])
        .args(python_args(&[format!("native={}", ft.display())]))
        .assert()
        .success();
    let report = dir.path().join("named-report");
    let svg = fs_err::read_to_string(report.join("figures/scaling-parallel_compute.svg")).unwrap();
    assert!(svg.contains(">\nnative\n<"), "the label is in the legend");
    assert!(
        !svg.contains("native (ceiling)"),
        "a Python drawn as the ceiling"
    );
    let html = fs_err::read_to_string(report.join("report.html")).unwrap();
    assert!(
        !html.contains("is not an interpreter"),
        "the native note for a Python"
    );
}

/// A native reference below a Python curve is no ceiling: in the 16-core run the Rust memory
/// kernel read 3.80x at 8 threads where 3.13t read 5.95x, while its compute kernel lies above
/// every Python curve. Tables, legends and the HTML's note say so; the headline answers.
#[test]
fn native_is_called_a_ceiling_only_where_it_lies_above_every_python_curve() {
    let dir = temp();
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results/16-cores-run2-2026-11-26.json");
    let assert = ftbench(dir.path())
        .env("COLUMNS", "100")
        .arg("report")
        .arg(&file)
        .args(["--out", "r"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.lines().all(|l| l.chars().count() <= 100), "{stdout}");
    assert!(
        stdout.contains("(continued) ==="),
        "four labels split: {stdout}"
    );
    let short = stdout[stdout.find("=== In short ===").unwrap()..]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        short.contains("On one thread 3.13.15t is ") && short.contains(" than 3.13.15 ["),
        "{short}"
    );
    assert!(
        short.contains("Best speedup over one serial run on parallel_compute: 3.13.15t "),
        "{short}"
    );
    let report = dir.path().join("r");
    let svg = |name: &str| {
        fs_err::read_to_string(report.join(format!("figures/scaling-{name}.svg"))).unwrap()
    };
    assert!(svg("parallel_compute").contains("native (ceiling)"));
    assert!(svg("memory_bandwidth").contains("native (reference)"));
    assert!(!svg("memory_bandwidth").contains("native (ceiling)"));
    let html = fs_err::read_to_string(report.join("report.html")).unwrap();
    assert!(
        html.contains("the machine's ceiling for parallel_compute:"),
        "{html}"
    );
    assert!(html.contains("memory_bandwidth it is only a reference"));
    assert!(html.contains("<h2>In short</h2>"));
    let markdown = fs_err::read_to_string(report.join("report.md")).unwrap();
    assert!(markdown.contains("### In short"));
}

/// A results file committed under bench/results.
fn committed(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench/results")
        .join(name)
}

/// Every output of `report` and `compare` on the results files committed under bench/results
/// (a 16-core study with its native reference, the thread suite, pyperformance, the regular
/// suite), pinned as snapshots: a change to what a user sees shows up in review.
/// `scripts/same-outputs.sh` compares two binaries on the same files; these pin one.
#[test]
fn the_committed_results_files_render_as_their_snapshots() {
    let dir = temp();
    let filters = vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
        (r"(?s)<svg.*?</svg>", "[SVG]"),
        (r"ftbench \d+\.\d+\.\d+", "ftbench [VERSION]"),
    ];
    for (name, file, figure) in [
        (
            "run16",
            "16-cores-2026-11-26.json",
            Some("scaling-parallel_compute"),
        ),
        ("threads16", "16-cores-threads-2026-11-27.json", None),
        (
            "pyperformance2",
            "2-cores-pyperformance-2026-11-27.json",
            Some("regular"),
        ),
        ("regular2", "2-cores-regular-2026-11-26.json", None),
    ] {
        let wide = ftbench(dir.path())
            .arg("report")
            .arg(committed(file))
            .args(["--out", name, "--wide"])
            .assert()
            .success();
        let wide = String::from_utf8_lossy(&wide.get_output().stdout).into_owned();
        let compact = ftbench(dir.path())
            .env("COLUMNS", "100")
            .args(["report", "--no-files"])
            .arg(committed(file))
            .assert()
            .success();
        let compact = String::from_utf8_lossy(&compact.get_output().stdout).into_owned();
        let report = dir.path().join(name);
        let read = |file: &str| fs_err::read_to_string(report.join(file)).unwrap();
        insta::with_settings!({ filters => filters.clone() }, {
            insta::assert_snapshot!(format!("{name}_wide"), wide);
            insta::assert_snapshot!(format!("{name}_compact"), compact);
            insta::assert_snapshot!(format!("{name}_markdown"), read("report.md"));
            insta::assert_snapshot!(format!("{name}_csv"), read("results.csv"));
            insta::assert_snapshot!(format!("{name}_html"), read("report.html"));
        });
        // One figure whole: plotters writes the same SVG for the same numbers.
        if let Some(figure) = figure {
            insta::assert_snapshot!(
                format!("{name}_{figure}_svg"),
                read(&format!("figures/{figure}.svg"))
            );
        }
    }
    // Two 16-core runs compared: the fitted table, Markdown and JSON. The files are copied
    // beside the test and named relatively: where a line wraps depends on the names' length.
    for file in ["16-cores-2026-11-26.json", "16-cores-run2-2026-11-26.json"] {
        fs_err::copy(committed(file), dir.path().join(file)).unwrap();
    }
    let compare = |args: &[&str]| {
        let out = ftbench(dir.path())
            .env("COLUMNS", "100")
            .args([
                "compare",
                "16-cores-2026-11-26.json",
                "16-cores-run2-2026-11-26.json",
            ])
            .args(args)
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    };
    insta::assert_snapshot!("compare16_table", compare(&[]));
    insta::assert_snapshot!("compare16_markdown", compare(&["--markdown"]));
    insta::assert_snapshot!("compare16_json", compare(&["--json"]));
}

/// The fleet dashboard of committed results files, pinned as snapshots: two 16-core runs of
/// one machine (a trend of two) and the 2-core regular suite of another. Its page (figures
/// filtered out), the list of its files and one figure whole.
#[test]
fn the_fleet_dashboard_of_committed_files_renders_as_its_snapshot() {
    let dir = temp();
    let d = dir.path();
    for (file, machine) in [
        ("16-cores-2026-11-26.json", "sixteen"),
        ("16-cores-run2-2026-11-26.json", "sixteen"),
        ("2-cores-regular-2026-11-26.json", "two"),
    ] {
        ftbench(d)
            .args(["history", "add"])
            .arg(committed(file))
            .args(["--store", "fleet.sqlite", "--machine", machine])
            .assert()
            .success();
    }
    let site = d.join("site");
    ftbench(d)
        .args(["publish", "--store", "fleet.sqlite", "--out"])
        .arg(&site)
        .assert()
        .success();
    let mut files: Vec<String> = fs_err::read_dir(&site)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let filters = vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
        (r"(?s)<svg.*?</svg>", "[SVG]"),
        (r"ftbench \d+\.\d+\.\d+", "ftbench [VERSION]"),
    ];
    let read = |file: &str| fs_err::read_to_string(site.join(file)).unwrap();
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!("fleet_files", files.join("\n"));
        insta::assert_snapshot!("fleet_index", read("index.html"));
    });
    // The same store through `history`: its runs, its machines, and one point followed.
    let history = |args: &[&str]| {
        let out = ftbench(d)
            .env("COLUMNS", "100")
            .args(["history", "--store", "fleet.sqlite"])
            .args(args)
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    };
    // The files' paths (and so the last column's width) depend on where the repository is.
    let paths = vec![
        (r#""/\S*/bench/results/"#, r#""[RESULTS]/"#),
        (r" +\S*/bench/results/", "  [RESULTS]/"),
        (r" +results\n", "  results\n"),
    ];
    insta::with_settings!({ filters => paths }, {
        insta::assert_snapshot!("history_runs", history(&[]));
        insta::assert_snapshot!("history_runs_json", history(&["--json"]));
    });
    insta::assert_snapshot!("history_machines_json", history(&["--machines", "--json"]));
    insta::assert_snapshot!("history_machines", history(&["--machines"]));
    insta::assert_snapshot!(
        "history_trend",
        history(&[
            "--test",
            "parallel_compute",
            "--label",
            "3.13.15t",
            "--threads",
            "2"
        ])
    );
    insta::assert_snapshot!(
        "history_trend_json",
        history(&[
            "--test",
            "parallel_compute",
            "--label",
            "3.13.15t",
            "--threads",
            "2",
            "--json",
        ])
    );
    let figure = files
        .iter()
        .find(|f| f.starts_with("parallel_compute-3.13.15t"))
        .expect("the free-threaded parallel_compute figure");
    insta::assert_snapshot!("fleet_parallel_compute_svg", read(figure));
}
