"""A picture of where each agency stands: one horizontal bar per agency, split in the four states.

Coordinators paste it into their reports and chats. Bars show shares (0-100 %), so that agencies
with few and many tasks compare, with the counts written in the segments and the total beside the
name. A province has too many agencies for one readable picture: the ``top`` agencies with the most
overdue tasks (the ones to follow up) get a bar each, and the others share one.
The text is Vietnamese, drawn with DejaVu Sans, which ships with matplotlib and has every
Vietnamese letter. matplotlib is imported, and its Agg canvas attached, inside the function: no
global backend is switched and importing this module stays cheap.
"""

from collections import Counter
from collections.abc import Sequence
from io import BytesIO

from domain.status import OFFICIAL_STATES, Lang, State, StatusLine, counts_by_agency, label
from domain.text import nfc
from reports import ReportMeta, dmy

FONT_FAMILY = "DejaVu Sans"
COLOURS = {
    State.DONE_ON_TIME: "#2e7d32",
    State.DONE_LATE: "#f9a825",
    State.IN_PROGRESS: "#1565c0",
    State.OVERDUE: "#c62828",
}
NAME_LIMIT = 45  # characters of an agency name shown beside its bar

_TEXT = {
    "vi": {
        "title": "Tình hình thực hiện Kế hoạch số {plan}\n(tính đến ngày {day})",
        "axis": "Tỷ lệ nhiệm vụ theo tình trạng (%)",
        "others": "{n} cơ quan, đơn vị khác",
        "empty": "Chưa có nhiệm vụ nào được tính theo bốn tình trạng.",
    },
    "en": {
        "title": "Progress of plan {plan}\n(as of {day})",
        "axis": "Share of tasks by state (%)",
        "others": "{n} other agencies",
        "empty": "No task is counted in the four states yet.",
    },
}


def _short(name: str) -> str:
    name = nfc(name)
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1].rstrip() + "…"


def chart_bars(
    lines: Sequence[StatusLine], top: int, lang: Lang = "vi"
) -> list[tuple[str, Counter[State]]]:
    """The bars, top first: the ``top`` agencies by overdue tasks (then by tasks), then the rest.

    Agencies with nothing in the four states (only continuous or waiting tasks) get no bar; the
    rest is not gathered into one bar when it would hold a single agency.
    """
    ranked = sorted(
        (
            (agency, counter)
            for agency, counter in counts_by_agency(lines).items()
            if any(counter[state] for state in OFFICIAL_STATES)
        ),
        key=lambda item: (
            -item[1][State.OVERDUE],
            -sum(item[1][state] for state in OFFICIAL_STATES),
        ),
    )
    if len(ranked) <= top + 1:
        return ranked
    rest: Counter[State] = Counter()
    for _, counter in ranked[top:]:
        rest.update(counter)
    return [*ranked[:top], (_TEXT[lang]["others"].format(n=len(ranked) - top), rest)]


def build_chart_png(
    lines: Sequence[StatusLine],
    meta: ReportMeta,
    *,
    top: int = 20,
    lang: Lang = "vi",
    dpi: int = 120,
) -> bytes:
    """The chart as PNG bytes; the figure grows taller with the number of bars."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    text = _TEXT[lang]
    bars = chart_bars(lines, top, lang)
    with matplotlib.rc_context({"font.family": FONT_FAMILY, "font.size": 10}):
        figure = Figure(figsize=(10, 2.2 + 0.34 * max(len(bars), 3)), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.set_title(text["title"].format(plan=nfc(meta.plan_number), day=dmy(meta.at)))
        if not bars:
            axes.set_axis_off()
            axes.text(0.5, 0.5, text["empty"], ha="center", va="center")
        else:
            counters = [counter for _, counter in reversed(bars)]
            totals = [sum(counter[state] for state in OFFICIAL_STATES) for counter in counters]
            names = [
                f"{_short(name)} ({total})"
                for (name, _), total in zip(reversed(bars), totals, strict=True)
            ]
            left = [0.0] * len(bars)
            for state in OFFICIAL_STATES:
                counts = [counter[state] for counter in counters]
                shares = [100 * n / total for n, total in zip(counts, totals, strict=True)]
                drawn = axes.barh(
                    names, shares, left=left, color=COLOURS[state], label=label(state, lang)
                )
                # A count is written inside its segment only when the segment has room for it.
                tags = [
                    str(n) if share >= 6 else "" for n, share in zip(counts, shares, strict=True)
                ]
                axes.bar_label(drawn, labels=tags, label_type="center", color="white", fontsize=8)
                left = [a + b for a, b in zip(left, shares, strict=True)]
            axes.set_xlim(0, 100)
            axes.set_xlabel(text["axis"])
            axes.set_ylim(-0.6, len(bars) - 0.4)
            figure.legend(loc="outside lower center", ncols=4, frameon=False, fontsize=9)
            axes.spines[["top", "right"]].set_visible(False)
        out = BytesIO()
        figure.savefig(out, format="png", dpi=dpi)
    return out.getvalue()
