use crate::common::{ft_python, ftbench, read_json, temp};
use crate::require;

/// The law fitted to real curves at threads 1, 2 and 4: a private compute loop has no serial
/// share worth the name, shared reference counts turn the curve down (or, where too few thread
/// counts fit within the CPUs, the model says so with its reason, in the file and the tables).
#[test]
fn each_curve_gets_a_model_or_the_reason_it_has_none() {
    let ft = require!(ft_python());
    let dir = temp();
    let output = ftbench(dir.path())
        .args([
            "run",
            "--quick",
            "--wide",
            "--no-native",
            "--no-store",
            "--no-report",
        ])
        .args(["--tests", "parallel_compute,ref_counting_shared"])
        .args(["--threads", "1,2,4", "-o", "model.json", "--python"])
        .arg(format!("ft={}", ft.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Model (Universal Scalability Law"),
        "{stdout}"
    );
    let results = read_json(&dir.path().join("model.json"));
    let cpus = std::thread::available_parallelism().unwrap().get();
    for test in ["parallel_compute", "ref_counting_shared"] {
        let model = &results["results"]["scaling_tests"][test]["ft"]["model"];
        assert_eq!(model["law"], "usl", "{model}");
        if model["described"] == true {
            assert!(
                cpus >= 4,
                "described from fewer than 3 thread counts: {model}"
            );
            let sigma = &model["sigma"];
            let kappa = &model["kappa"];
            if test == "parallel_compute" {
                assert_eq!(sigma["low"].as_f64(), Some(0.0), "{model}");
            } else {
                assert!(kappa["value"].as_f64().unwrap() > 0.0, "{model}");
            }
            assert_eq!(model["predictions"].as_array().unwrap().len(), 2);
            eprintln!("{test}: {model}");
        } else {
            let reason = model["reason"].as_str().unwrap();
            assert!(!reason.is_empty());
            assert!(
                stdout.contains(&format!("ft: not described: {reason}")),
                "{stdout}"
            );
            if cpus < 4 {
                // On 2 CPUs, 4 threads are oversubscribed: two thread counts are left.
                assert!(reason.contains("the model needs 3"), "{reason}");
            }
            eprintln!("{test}: not described: {reason}");
        }
    }
}
