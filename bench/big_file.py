"""Make a large results file from a real one, for `report` / `compare` speed checks.

    python3 bench/big_file.py SOURCE.json POINTS OUT.json [SAMPLES_PER_POINT]

Copies SOURCE's points under new test names (`<test>_copyN`, declared as external tests) until
the file holds POINTS points; with SAMPLES_PER_POINT, each point's samples are repeated to that
count instead (one huge point).
"""

import copy
import json
import sys


def main():
    source, points, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    samples = int(sys.argv[4]) if len(sys.argv) > 4 else None
    data = json.load(open(source))
    base = data["points"]
    groups = {"parallel_compute": "scaling"}
    new_points, copy_index = [], 0
    while len(new_points) < points:
        for point in base:
            if len(new_points) >= points:
                break
            p = copy.deepcopy(point)
            if copy_index:
                p["test"] = "%s_copy%d" % (point["test"], copy_index)
            if samples:
                p["samples"] = (p["samples"] * (samples // len(p["samples"]) + 1))[:samples]
            new_points.append(p)
        copy_index += 1
    metrics = {}
    for p in base:
        metrics[p["test"]] = metrics.get(p["test"], "ops_per_sec")
    external = []
    for p in new_points:
        if "_copy" in p["test"] and p["test"] not in {e["name"] for e in external}:
            external.append({"name": p["test"], "group": groups.get("x", "scaling"), "metric": "ops_per_sec"})
    data["points"] = new_points
    data["external_tests"] = data.get("external_tests", []) + external
    data["results"] = {}
    json.dump(data, open(out, "w"))


if __name__ == "__main__":
    main()
