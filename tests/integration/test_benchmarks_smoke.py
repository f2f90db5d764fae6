"""Each benchmark script runs at a tiny size and prints its figures, so the scripts keep working.

Benchmarks are never timed in tests: these only check that each script exits 0, prints the lines
its documentation promises, and writes a JSON result that ``--compare`` can read back.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"

CASES = [
    pytest.param(
        "synthetic.py",
        ["--agencies", "60", "--plans", "3", "--tasks", "5", "--assignments", "300",
         "--reports", "0.3"],
        ["synthetic world [sqlite]", "assignments", "progress_reports"],
        id="synthetic",
    ),
    pytest.param(
        "bench_planning_scale.py",
        ["--sizes", "400", "--agencies", "80"],
        ["[400] pure:", "[400] sqlite: world loaded", "MiB per 100k", "400.sqlite.plan_first_s"],
        id="planning",
    ),
    pytest.param(
        "bench_telegram_dispatch.py",
        ["--people", "25", "--people-limited", "12", "--items", "2", "--modes", "recording,off,on"],
        ["[no_http, sqlite]", "[limiter_off, sqlite]", "[limiter_on, sqlite]", "429 answered"],
        id="dispatch",
    ),
    pytest.param(
        "bench_replies.py",
        ["--updates", "40", "--agencies", "40", "--assignments", "400", "--threads", "2"],
        ["[sqlite, 1 thread(s)]", "[sqlite, 2 thread(s)]", "updates/s", "p99"],
        id="replies",
    ),
    pytest.param(
        "bench_status.py",
        ["--agencies", "60", "--assignments", "600", "--repeat", "2", "--repeat-whole", "1",
         "--skip", "report_plan_xlsx"],
        ["chat_status_whole: p50", "chat_status_agency: p50", "report_plan_csv: p50"],
        id="status",
    ),
    pytest.param(
        "bench_startup.py",
        ["--pending", "300", "--agencies", "60", "--runs", "1"],
        ["reminders pending", "first planning and tick done", "sqlite.first_tick_s"],
        id="startup",
    ),
    pytest.param(
        "bench_job_per_reminder.py",
        ["--pending", "300", "--agencies", "60", "--runs", "1"],
        ["jobs added in", "planning/scheduling: usual", "sqlite.ratio.startup"],
        id="job_per_reminder",
    ),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("script", "args", "expected"), CASES)
def test_the_benchmark_runs_at_a_tiny_size(
    script: str, args: list[str], expected: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for text in expected:
        assert text in done.stdout, f"{text!r} missing from:\n{done.stdout}"
    saved = json.loads(out.read_text())
    assert saved["figures"], saved
    assert all(isinstance(value, float) for value in saved["figures"].values())

    compared = subprocess.run(
        [sys.executable, str(BENCH / script), "--compare", str(out), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert compared.returncode == 0, compared.stderr
    assert "B/A" in compared.stdout
    assert "   1.00" in compared.stdout  # a run against itself: every ratio is one
