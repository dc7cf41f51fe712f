"""Generate, load and build the demo warehouse from scratch; time and peak memory of each."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from benchmarks.common import run_measured, write_results


def warehouse_paths(bench_dir: Path, scale: str) -> tuple[Path, Path]:
    """Where the benchmark keeps its raw files and its warehouse for a scale."""
    return bench_dir / f"raw-{scale}", bench_dir / scale / "accurx.duckdb"


def ensure_built(bench_dir: Path, scale: str, seed: int) -> Path:
    """The benchmark warehouse for a scale, built if missing (for the other parts)."""
    _, db_path = warehouse_paths(bench_dir, scale)
    if not db_path.exists():
        run(bench_dir, scale=scale, seed=seed)
    return db_path


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
    raw_bytes = sum(p.stat().st_size for p in raw_dir.iterdir() if p.is_file())
    total = round(sum(step["seconds"] for step in steps.values()), 2)
    print(f"generate+load+build at {scale} scale: {total} s "
          + ", ".join(f"{name} {step['seconds']} s / {step['peak_rss_mib']} MiB"
                      for name, step in steps.items()))
    return write_results(f"warehouse-{scale}", {
        "scale": scale, "seed": seed, "steps": steps, "total_seconds": total,
        "raw_bytes": raw_bytes, "warehouse_bytes": db_path.stat().st_size,
        "command": f"python -m benchmarks.run warehouse --scale {scale} --seed {seed}",
    })
