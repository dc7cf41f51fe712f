"""Generate, load and build the demo warehouse from scratch; time and peak memory of each,
and the outlook's share of the build (issue 9) from dbt's run_results.json."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from benchmarks.common import run_measured, write_results
from warehouse.staging import staging_dir

# The outlook's nodes: everything under models/model/forecast/ and models/model/churn_risk/,
# the presentation views and seeds named usage_forecast_* / churn_risk*, and the data
# tests attached to any of those.
OUTLOOK_FOLDERS = ("forecast", "churn_risk")
OUTLOOK_PREFIXES = ("usage_forecast", "churn_risk")


def warehouse_paths(bench_dir: Path, scale: str) -> tuple[Path, Path]:
    """Where the benchmark keeps its raw files and its warehouse for a scale."""
    return bench_dir / f"raw-{scale}", bench_dir / scale / "accurx.duckdb"


def ensure_built(bench_dir: Path, scale: str, seed: int) -> Path:
    """The benchmark warehouse for a scale, built if missing (for the other parts)."""
    _, db_path = warehouse_paths(bench_dir, scale)
    if not db_path.exists():
        run(bench_dir, scale=scale, seed=seed)
    return db_path


def _is_outlook_file(path: str) -> bool:
    parts = Path(path).parts
    return (any(folder in parts[:-1] for folder in OUTLOOK_FOLDERS)
            or Path(path).stem.startswith(OUTLOOK_PREFIXES))


def _covered_seconds(intervals: list[tuple[str, str]]) -> float:
    """Seconds during which at least one of the (ISO start, ISO end) intervals ran."""
    from datetime import datetime

    spans = sorted((datetime.fromisoformat(a.rstrip("Z")), datetime.fromisoformat(b.rstrip("Z")))
                   for a, b in intervals)
    total, end = 0.0, None
    for start, stop in spans:
        if end is None or start > end:
            total += (stop - start).total_seconds()
            end = stop
        elif stop > end:
            total += (stop - end).total_seconds()
            end = stop
    return total


def outlook_share(target_dir: Path) -> dict:
    """The outlook's nodes in the last dbt build's run_results.json: per node execution_time,
    their sum, and the wall seconds during which any of them ran (dbt runs nodes in
    parallel threads, so the sum can exceed the wall time they add)."""
    results = json.loads((target_dir / "run_results.json").read_text())
    manifest = json.loads((target_dir / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    outlook_ids = {uid for uid, node in nodes.items()
                   if node["resource_type"] in ("model", "seed")
                   and _is_outlook_file(node["original_file_path"])}

    def is_outlook(uid: str) -> bool:
        node = nodes.get(uid)
        if node is None:
            return False
        return (uid in outlook_ids or node.get("attached_node") in outlook_ids
                or _is_outlook_file(node["original_file_path"]))

    per_node, intervals, all_seconds = {}, [], 0.0
    for result in results["results"]:
        all_seconds += result["execution_time"]
        if is_outlook(result["unique_id"]):
            per_node[result["unique_id"]] = round(result["execution_time"], 3)
            timing = result.get("timing") or []
            if timing:
                intervals.append((timing[0]["started_at"], timing[-1]["completed_at"]))
    per_node = dict(sorted(per_node.items(), key=lambda item: -item[1]))
    return {
        "dbt_elapsed_seconds": round(results["elapsed_time"], 2),
        "all_nodes_execution_seconds": round(all_seconds, 2),
        "outlook_nodes": len(per_node),
        "outlook_execution_seconds": round(sum(per_node.values()), 2),
        "outlook_wall_seconds": round(_covered_seconds(intervals), 2),
        "outlook_per_node_seconds": per_node,
    }


def run(bench_dir: Path, scale: str, seed: int) -> Path:
    raw_dir, db_path = warehouse_paths(bench_dir, scale)
    shutil.rmtree(raw_dir, ignore_errors=True)
    shutil.rmtree(db_path.parent, ignore_errors=True)
    db_path.parent.mkdir(parents=True)
    py = sys.executable
    steps = {
        "generate": run_measured([py, "-m", "warehouse", "demo", "--out", str(raw_dir),
                                  "--scale", scale, "--seed", str(seed)]),
        "load": run_measured([py, "-m", "warehouse", "load", str(raw_dir), "--db", str(db_path)]),
        "build": run_measured([py, "-m", "warehouse", "build", "--db", str(db_path)]),
    }
    outlook = outlook_share(staging_dir(db_path) / "dbt" / "target")
    raw_bytes = sum(p.stat().st_size for p in raw_dir.iterdir() if p.is_file())
    total = round(sum(step["seconds"] for step in steps.values()), 2)
    print(f"generate+load+build at {scale} scale: {total} s "
          + ", ".join(f"{name} {step['seconds']} s ({step['cpu_seconds']} s CPU) / "
                      f"{step['peak_rss_mib']} MiB"
                      for name, step in steps.items()))
    slowest = ", ".join(f"{uid.split('.')[2]} {secs} s"
                        for uid, secs in list(outlook["outlook_per_node_seconds"].items())[:5])
    print(f"outlook in the build: {outlook['outlook_execution_seconds']} s summed over "
          f"{outlook['outlook_nodes']} nodes, {outlook['outlook_wall_seconds']} s of wall time "
          f"(dbt build {outlook['dbt_elapsed_seconds']} s); slowest: {slowest}")
    return write_results(f"warehouse-{scale}", {
        "scale": scale, "seed": seed, "steps": steps, "total_seconds": total,
        "outlook_build": outlook,
        "raw_bytes": raw_bytes, "warehouse_bytes": db_path.stat().st_size,
        "command": f"python -m benchmarks.run warehouse --scale {scale} --seed {seed}",
    })
