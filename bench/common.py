"""What every benchmark script shares: timing, memory, throw-away databases, JSON results.

A benchmark builds a ``Result`` (its name, the arguments it ran with, flat numeric ``figures``
and free-text ``notes``), prints it, and saves it with ``--out FILE``; ``--compare A B`` prints
two saved runs side by side with the ratio B/A, so a change can be judged against a baseline.

Memory is measured three ways, each answering another question:
- ``peak_rss_mib``: the process's peak resident set (``resource.getrusage``; psutil is not
  needed), the figure a server's memory limit meets. It only ever grows, so a benchmark that
  wants one figure per size runs each size in a subprocess (``run_child``);
- ``rss_mib``: the resident set now (``/proc/self/statm``), for "after start-up" figures;
- ``traced_peak``: the Python heap's peak while a function runs (``tracemalloc``), which tells
  what our own objects cost, without the interpreter and the libraries; tracing slows Python
  down two- to three-fold, so it is measured in a separate run from the timing.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402  (after the path set-up above)

from storage.engine import make_engine, normalize_url  # noqa: E402

T = TypeVar("T")
MIB = 2**20
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


# --- results ------------------------------------------------------------------------------------


@dataclass
class Result:
    benchmark: str
    args: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=lambda: machine())

    def add(self, key: str, value: float) -> float:
        self.figures[key] = float(value)
        return value

    def note(self, text_: str) -> None:
        self.notes.append(text_)
        print(text_, flush=True)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n")

    def print_figures(self) -> None:
        print(f"--- {self.benchmark}: figures")
        width = max((len(k) for k in self.figures), default=0)
        for key, value in self.figures.items():
            print(f"{key:<{width}}  {format_number(value)}")


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def format_number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def load(path: str | Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(Path(path).read_text())
    return loaded


def compare(a_path: str | Path, b_path: str | Path) -> str:
    """Two saved runs side by side: every figure in either, with B/A where both have it."""
    a, b = load(a_path), load(b_path)
    fa: dict[str, float] = a.get("figures", {})
    fb: dict[str, float] = b.get("figures", {})
    keys = list(dict.fromkeys([*fa, *fb]))
    width = max([len(k) for k in keys] + [6])
    out = [
        f"{a.get('benchmark')}: A = {a_path}, B = {b_path}",
        f"{'figure':<{width}}  {'A':>14}  {'B':>14}  {'B/A':>7}",
    ]
    for key in keys:
        va, vb = fa.get(key), fb.get(key)
        ratio = f"{vb / va:7.2f}" if va and vb is not None else "      -"
        sa = format_number(va) if va is not None else "-"
        sb = format_number(vb) if vb is not None else "-"
        out.append(f"{key:<{width}}  {sa:>14}  {sb:>14}  {ratio}")
    return "\n".join(out)


def parser(description: str | None) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    made = argparse.ArgumentParser(description=(description or "").strip().splitlines()[0])
    made.add_argument("--out", help="save the result as JSON in this file")
    made.add_argument(
        "--compare", nargs=2, metavar=("A", "B"), help="compare two saved results and exit"
    )
    return made


def finish(result: Result, out: str | None) -> Result:
    # Other work on the machine skews every figure: say how busy it was.
    result.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result.print_figures()
    print(f"load average (1, 5, 15 min): {result.machine['load_average_at_end']}")
    if out:
        result.save(out)
        print(f"saved to {out}")
    return result


def compared(args: argparse.Namespace) -> bool:
    """Print the comparison when ``--compare`` was given; whether it was."""
    if not args.compare:
        return False
    print(compare(*args.compare))
    return True


# --- time and memory ----------------------------------------------------------------------------


def timed(function: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def peak_rss_mib() -> float:
    """The process's peak resident set so far (Linux reports kibibytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """The process's resident set now."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mib()
    return pages * os.sysconf("SC_PAGE_SIZE") / MIB


def traced_peak(function: Callable[[], T]) -> tuple[T, float]:
    """``function()`` and the peak of the Python heap it allocated, in MiB (tracemalloc)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        value = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return value, (peak - before) / MIB


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    ordered = sorted(values)
    return statistics.quantiles(ordered, n=100, method="inclusive")[max(0, min(98, round(p) - 1))]


# --- databases ----------------------------------------------------------------------------------


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


@contextmanager
def scratch_database(where: str, prefix: str = "bench", *, keep: bool = False) -> Iterator[str]:
    """A URL to an empty database that disappears afterwards.

    ``where``: "sqlite" (a file in a temporary folder), "postgresql" (a schema of its own in the
    local ``test`` database) or a PostgreSQL URL (a schema of its own there, unless ``keep``:
    then the URL itself). A SQLite URL is used as it is, and kept.
    """
    if where == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    if where == "postgresql":
        where = DEFAULT_POSTGRES
    if not is_postgres(where) or keep:
        yield where
        return
    admin = make_engine(where)
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = normalize_url(where).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def backend_name(url: str) -> str:
    return "postgresql" if is_postgres(url) else "sqlite"


# --- subprocesses -------------------------------------------------------------------------------

CHILD_MARK = "BENCH-CHILD-RESULT "


def child_output(payload: dict[str, Any]) -> None:
    """What a child process prints last: its figures, on one marked line."""
    print(CHILD_MARK + json.dumps(payload), flush=True)


def run_child(argv: Sequence[str], timeout: float = 3600.0) -> dict[str, Any]:
    """Run ``python argv...`` from the repository and return the payload it printed."""
    done = subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"child {' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(CHILD_MARK):
            payload: dict[str, Any] = json.loads(line[len(CHILD_MARK) :])
            return payload
    raise RuntimeError(f"child {' '.join(argv)} printed no result:\n{done.stdout}\n{done.stderr}")
