"""Status of one assignment on the official states, the aggregations, and the coordinator digest."""

from collections import Counter
from datetime import UTC, date, datetime, time

import pytest

from domain.calendar import ZONE, WorkingCalendar
from domain.deadlines import DeadlineKind
from domain.status import (
    OFFICIAL_STATES,
    Changes,
    ReportView,
    State,
    StatusLine,
    StatusResult,
    blocked,
    changes_since,
    counts_by_agency,
    counts_by_plan,
    done_rate,
    label,
    overdue_list,
    rates,
    render_coordinator_digest,
    silent_agencies,
    status_of,
)
from domain.text import fold

FIXED = DeadlineKind.FIXED
CAL = WorkingCalendar(first_year=2023, last_year=2025)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE)


def done(day: date, review: str | None = "confirmed", reviewed: date | None = None) -> ReportView:
    return ReportView(
        "done",
        at(day),
        100,
        "Đã ban hành văn bản",
        review=review,
        reviewed_at=at(reviewed, 15) if reviewed else None,
    )


def percent(day: date, value: int) -> ReportView:
    return ReportView("percent", at(day), value, f"được {value}%")


def stuck(day: date, reason: str | None = "chờ hướng dẫn của Bộ") -> ReportView:
    return ReportView("blocked", at(day), None, "vướng: chờ hướng dẫn", reason=reason)


def status(
    due: date | None,
    reports: list[ReportView],
    on: date,
    kind: DeadlineKind = FIXED,
    precondition_met: bool = False,
    require_confirmation: bool = True,
) -> StatusResult:
    return status_of(
        due=due,
        kind=kind,
        precondition_met=precondition_met,
        reports=reports,
        on=on,
        calendar=CAL,
        require_confirmation=require_confirmation,
    )


FRI = date(2024, 6, 14)  # a working Friday
SUN = date(2024, 6, 30)  # "Quý II/2024" falls on a Sunday: binding on Monday 1/7
TET = date(2024, 2, 10)  # Saturday inside Tết Giáp Thìn (8-14/2): binding on Thursday 15/2


def d(month: int, day: int, year: int = 2024) -> date:
    return date(year, month, day)


@pytest.mark.parametrize(
    ("due", "reports", "on", "state", "days_overdue", "done_on"),
    [
        pytest.param(FRI, [done(FRI)], d(7, 1), State.DONE_ON_TIME, None, FRI, id="done-on-due"),
        pytest.param(
            FRI, [done(d(6, 15))], d(7, 1), State.DONE_LATE, 1, d(6, 15), id="done-day-after"
        ),
        pytest.param(
            SUN, [done(d(7, 1))], d(7, 5), State.DONE_ON_TIME, None, d(7, 1), id="sunday-due-monday"
        ),
        pytest.param(
            SUN, [done(d(7, 2))], d(7, 5), State.DONE_LATE, 1, d(7, 2), id="sunday-due-tuesday"
        ),
        pytest.param(
            TET, [done(d(2, 15))], d(3, 1), State.DONE_ON_TIME, None, d(2, 15), id="tet-due"
        ),
        pytest.param(
            FRI, [percent(FRI, 50)], d(6, 20), State.OVERDUE, 6, None, id="not-done-due-passed"
        ),
        pytest.param(FRI, [], d(6, 15), State.OVERDUE, 1, None, id="silent-due-passed"),
        pytest.param(
            FRI, [percent(FRI, 50)], FRI, State.IN_PROGRESS, None, None, id="not-done-on-due-day"
        ),
        pytest.param(SUN, [], d(7, 1), State.NO_ANSWER, None, None, id="sunday-due-monday-in-time"),
        pytest.param(SUN, [], d(7, 2), State.OVERDUE, 1, None, id="sunday-due-tuesday-overdue"),
        pytest.param(
            FRI, [percent(d(6, 3), 30)], d(6, 5), State.IN_PROGRESS, None, None, id="future-due"
        ),
        pytest.param(FRI, [], d(6, 5), State.NO_ANSWER, None, None, id="future-due-no-report"),
        pytest.param(
            FRI,
            [done(d(6, 12), review="pending")],
            d(6, 13),
            State.AWAITING_CONFIRMATION,
            None,
            d(6, 12),
            id="pending-before-due",
        ),
        pytest.param(
            FRI,
            [done(d(6, 12), review="pending")],
            d(6, 17),
            State.AWAITING_CONFIRMATION,
            3,
            d(6, 12),
            id="pending-after-due",
        ),
        pytest.param(
            FRI,
            [done(d(6, 12), review=None)],
            d(6, 13),
            State.AWAITING_CONFIRMATION,
            None,
            d(6, 12),
            id="unreviewed-done-needs-confirmation",
        ),
        pytest.param(
            FRI,
            [done(d(6, 12), review="returned")],
            d(6, 17),
            State.OVERDUE,
            3,
            None,
            id="returned-due-passed",
        ),
        pytest.param(
            FRI,
            [done(d(6, 12), review="returned")],
            d(6, 13),
            State.IN_PROGRESS,
            None,
            None,
            id="returned-is-a-report-not-silence",
        ),
        pytest.param(
            FRI,
            [done(d(6, 12), review="returned"), done(d(6, 18))],
            d(6, 20),
            State.DONE_LATE,
            4,
            d(6, 18),
            id="returned-then-done-again",
        ),
        pytest.param(
            FRI,
            [done(d(6, 12), reviewed=d(6, 20))],
            d(6, 13),
            State.AWAITING_CONFIRMATION,
            None,
            d(6, 12),
            id="confirmed-after-on-was-pending-then",
        ),
        pytest.param(
            FRI, [done(d(6, 21))], d(6, 20), State.OVERDUE, 6, None, id="report-after-on-unseen"
        ),
    ],
)
def test_status_boundaries(
    due: date,
    reports: list[ReportView],
    on: date,
    state: State,
    days_overdue: int | None,
    done_on: date | None,
) -> None:
    result = status(due, reports, on)
    assert (result.state, result.days_overdue, result.done_on) == (state, days_overdue, done_on)


@pytest.mark.parametrize(
    ("utc_time", "state"),
    [
        (datetime(2024, 6, 14, 16, 30, tzinfo=UTC), State.DONE_ON_TIME),  # 23:30 in Hà Nội
        (datetime(2024, 6, 14, 17, 30, tzinfo=UTC), State.DONE_LATE),  # 00:30 on the 15th
    ],
)
def test_completion_date_is_the_local_date(utc_time: datetime, state: State) -> None:
    report = ReportView("done", utc_time, 100, "xong", review="confirmed")
    assert status(FRI, [report], date(2024, 6, 20)).state is state


def test_completion_date_is_the_report_not_the_confirmation() -> None:
    result = status(FRI, [done(FRI, reviewed=date(2024, 6, 25))], date(2024, 6, 26))
    assert (result.state, result.done_on) == (State.DONE_ON_TIME, FRI)


def test_without_confirmation_a_done_report_completes() -> None:
    result = status(FRI, [done(FRI, review=None)], date(2024, 6, 20), require_confirmation=False)
    assert result.state is State.DONE_ON_TIME
    returned = status(
        FRI, [done(FRI, review="returned")], date(2024, 6, 20), require_confirmation=False
    )
    assert returned.state is State.OVERDUE


@pytest.mark.parametrize(
    ("kind", "met", "due", "reports", "on", "state"),
    [
        (DeadlineKind.CONDITIONAL, False, date(2024, 12, 31), [], date(2025, 3, 1), State.WAITING),
        (DeadlineKind.CONDITIONAL, True, date(2024, 12, 31), [], date(2025, 3, 1), State.OVERDUE),
        (DeadlineKind.CONDITIONAL, True, date(2024, 12, 31), [], date(2024, 6, 1), State.NO_ANSWER),
        (
            DeadlineKind.CONDITIONAL,
            False,
            date(2024, 12, 31),
            [done(date(2025, 2, 1))],
            date(2025, 3, 1),
            State.DONE_ON_TIME,  # the soft date was not binding yet
        ),
        (DeadlineKind.CONTINUOUS, False, None, [percent(FRI, 40)], d(3, 1, 2025), State.CONTINUOUS),
        (DeadlineKind.CONTINUOUS, False, None, [done(FRI)], date(2025, 3, 1), State.CONTINUOUS),
        (DeadlineKind.UNKNOWN, False, None, [], date(2030, 1, 1), State.NO_ANSWER),
        (DeadlineKind.UNKNOWN, False, None, [percent(FRI, 10)], d(1, 1, 2030), State.IN_PROGRESS),
        (DeadlineKind.UNKNOWN, False, None, [done(FRI)], date(2030, 1, 1), State.DONE_ON_TIME),
        (DeadlineKind.CONDITIONAL, True, None, [], date(2030, 1, 1), State.NO_ANSWER),
    ],
)
def test_deadline_kinds(
    kind: DeadlineKind,
    met: bool,
    due: date | None,
    reports: list[ReportView],
    on: date,
    state: State,
) -> None:
    result = status(due, reports, on, kind=kind, precondition_met=met)
    assert result.state is state
    if state is not State.OVERDUE:
        assert result.days_overdue is None


@pytest.mark.parametrize(
    ("reports", "blocker"),
    [
        ([stuck(FRI)], "chờ hướng dẫn của Bộ"),
        ([stuck(FRI, reason=None)], "vướng: chờ hướng dẫn"),
        ([percent(date(2024, 6, 10), 20), stuck(FRI)], "chờ hướng dẫn của Bộ"),
        (
            [stuck(date(2024, 6, 10)), ReportView("note", at(FRI), text="đã gửi công văn")],
            "chờ hướng dẫn của Bộ",
        ),
        ([stuck(date(2024, 6, 10)), percent(FRI, 60)], None),
        ([stuck(date(2024, 6, 10)), ReportView("in_progress", at(FRI), text="đang trình")], None),
        ([stuck(date(2024, 6, 10)), done(FRI)], None),
        ([percent(FRI, 60)], None),
    ],
)
def test_blocker_is_the_latest_difficulty_without_later_progress(
    reports: list[ReportView], blocker: str | None
) -> None:
    assert status(date(2024, 12, 31), reports, date(2024, 6, 20)).blocker == blocker


def test_percent_and_last_report() -> None:
    reports = [percent(date(2024, 6, 3), 30), percent(date(2024, 6, 10), 70)]
    result = status(date(2024, 12, 31), list(reversed(reports)), date(2024, 6, 20))
    assert (result.percent, result.last_report) == (70, reports[1])
    returned = [percent(date(2024, 6, 3), 30), done(date(2024, 6, 10), review="returned")]
    result = status(date(2024, 12, 31), returned, date(2024, 6, 20))
    assert (result.percent, result.last_report) == (30, returned[1])
    pending = status(date(2024, 12, 31), [done(date(2024, 6, 10), "pending")], date(2024, 6, 20))
    assert pending.percent == 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "finished", "reported_at": at(FRI)}, "unknown report kind"),
        ({"kind": "done", "reported_at": datetime(2024, 6, 14, 9)}, "timezone-aware"),
        ({"kind": "done", "reported_at": at(FRI), "review": "ok"}, "unknown review"),
        ({"kind": "percent", "reported_at": at(FRI), "percent": 120}, "out of range"),
    ],
)
def test_report_view_refuses_bad_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReportView(**kwargs)  # type: ignore[arg-type]


def test_every_state_maps_to_an_official_state_or_none() -> None:
    assert {state: state.official for state in State} == {
        State.DONE_ON_TIME: State.DONE_ON_TIME,
        State.DONE_LATE: State.DONE_LATE,
        State.IN_PROGRESS: State.IN_PROGRESS,
        State.OVERDUE: State.OVERDUE,
        State.CONTINUOUS: None,
        State.WAITING: None,
        State.AWAITING_CONFIRMATION: State.IN_PROGRESS,
        State.NO_ANSWER: State.IN_PROGRESS,
    }
    assert OFFICIAL_STATES == (
        State.DONE_ON_TIME,
        State.DONE_LATE,
        State.IN_PROGRESS,
        State.OVERDUE,
    )


def test_awaiting_confirmation_past_due_counts_as_overdue() -> None:
    reports = [done(date(2024, 6, 12), review="pending")]
    assert status(FRI, reports, date(2024, 6, 13)).official is State.IN_PROGRESS
    assert status(FRI, reports, date(2024, 6, 17)).official is State.OVERDUE


def test_labels() -> None:
    assert [label(state) for state in State] == [
        "Hoàn thành đúng hạn",
        "Hoàn thành quá hạn",
        "Đang thực hiện trong hạn",
        "Quá hạn chưa hoàn thành",
        "Thường xuyên",
        "Chờ hướng dẫn/điều kiện",
        "Chờ xác nhận hoàn thành",
        "Chưa báo cáo",
    ]
    english = [label(state, "en") for state in State]
    assert english[3] == "Overdue, not done"
    assert len(set(english)) == len(State)


# --- aggregations --------------------------------------------------------------------------------

ON = date(2024, 6, 20)


def make_line(
    agency: str,
    task: str,
    result: StatusResult,
    plan: str = "289/KH-UBND",
    due: date | None = FRI,
) -> StatusLine:
    return StatusLine(
        plan=plan,
        task=task,
        title=f"Nhiệm vụ {task}",
        agency=agency,
        agency_code=fold(agency),
        role="lead",
        deadline_text="Trước ngày 14/6/2024",
        due=due,
        result=result,
    )


def sample_lines() -> list[StatusLine]:
    late_due = date(2024, 6, 3)
    return [
        make_line("Sở Nội vụ", "1", status(FRI, [done(FRI)], ON)),
        make_line("Sở Nội vụ", "2", status(FRI, [done(date(2024, 6, 17))], ON)),
        make_line("Sở Nội vụ", "3", status(late_due, [stuck(date(2024, 6, 1))], ON), due=late_due),
        make_line("Sở Tài chính", "1", status(FRI, [done(date(2024, 6, 12), "pending")], ON)),
        make_line("Sở Tài chính", "2", status(date(2024, 12, 31), [], ON), due=date(2024, 12, 31)),
        make_line(
            "Sở Tài chính",
            "3",
            status(None, [], ON, kind=DeadlineKind.CONTINUOUS),
            plan="12/KH-UBND",
            due=None,
        ),
        make_line(
            "Sở Y tế",
            "4",
            status(date(2024, 12, 31), [], ON, kind=DeadlineKind.CONDITIONAL),
            plan="12/KH-UBND",
        ),
    ]


def test_counts_by_agency_use_the_official_state() -> None:
    counts = counts_by_agency(sample_lines())
    assert list(counts) == ["Sở Nội vụ", "Sở Tài chính", "Sở Y tế"]
    assert counts["Sở Nội vụ"] == Counter(
        {State.DONE_ON_TIME: 1, State.DONE_LATE: 1, State.OVERDUE: 1}
    )
    # Awaiting confirmation past due is overdue; no answer before due is in progress.
    assert counts["Sở Tài chính"] == Counter(
        {State.OVERDUE: 1, State.IN_PROGRESS: 1, State.CONTINUOUS: 1}
    )
    assert counts["Sở Y tế"] == Counter({State.WAITING: 1})


def test_counts_by_plan() -> None:
    counts = counts_by_plan(sample_lines())
    assert {plan: sum(c.values()) for plan, c in counts.items()} == {
        "289/KH-UBND": 5,
        "12/KH-UBND": 2,
    }


def test_rates_leave_out_continuous_and_waiting() -> None:
    counter = Counter(
        {
            State.DONE_ON_TIME: 2,
            State.DONE_LATE: 1,
            State.OVERDUE: 1,
            State.CONTINUOUS: 5,
            State.WAITING: 3,
        }
    )
    assert rates(counter) == {
        State.DONE_ON_TIME: 0.5,
        State.DONE_LATE: 0.25,
        State.IN_PROGRESS: 0.0,
        State.OVERDUE: 0.25,
    }
    assert done_rate(counter) == 0.75
    assert rates(Counter({State.CONTINUOUS: 2})) == dict.fromkeys(OFFICIAL_STATES, 0.0)


def test_overdue_list_most_overdue_first() -> None:
    overdue = overdue_list(sample_lines())
    assert [(line.agency, line.task, line.result.days_overdue) for line in overdue] == [
        ("Sở Nội vụ", "3", 17),
        ("Sở Tài chính", "1", 6),
    ]


def test_blocked_lines() -> None:
    assert [(line.agency, line.task) for line in blocked(sample_lines())] == [("Sở Nội vụ", "3")]


def test_silent_agencies() -> None:
    lines = sample_lines()
    # Sở Nội vụ last reported on 17/6, Sở Tài chính on 12/6 (both have open tasks); Sở Y tế only
    # waits for guidance, so it owes no news.
    assert silent_agencies(lines, ON, 8) == ["Sở Tài chính"]
    assert silent_agencies(lines, ON, 9) == []
    assert silent_agencies(lines, date(2024, 6, 23), 7) == ["Sở Tài chính"]
    assert silent_agencies(lines, date(2024, 6, 24), 7) == ["Sở Nội vụ", "Sở Tài chính"]


def test_silent_agencies_with_no_report_at_all() -> None:
    lines = [make_line("Sở Du lịch", "9", status(date(2024, 12, 31), [], ON))]
    assert silent_agencies(lines, ON, 30) == ["Sở Du lịch"]


# --- daily digest for the coordinator -------------------------------------------------------------


def test_no_change_gives_no_digest() -> None:
    lines = sample_lines()
    changes = changes_since(lines, lines)
    assert not changes
    assert render_coordinator_digest(changes, [], today=ON, lang="vi") is None


def test_changes_since_yesterday() -> None:
    yesterday = date(2024, 6, 14)
    reports_b = [percent(date(2024, 6, 10), 40)]
    new_report = [*reports_b, percent(date(2024, 6, 17), 80)]
    old = [
        make_line("Sở Nội vụ", "1", status(FRI, reports_b, yesterday)),
        make_line("Sở Tài chính", "2", status(date(2024, 12, 31), reports_b, yesterday)),
        make_line("Sở Y tế", "3", status(date(2024, 12, 31), [], yesterday)),
    ]
    new = [
        make_line("Sở Nội vụ", "1", status(FRI, reports_b, date(2024, 6, 15))),
        make_line("Sở Tài chính", "2", status(date(2024, 12, 31), new_report, date(2024, 6, 17))),
        make_line("Sở Y tế", "3", status(date(2024, 12, 31), [stuck(ON)], ON)),
    ]
    changes = changes_since(old, new)
    assert [line.agency for line in changes.new_reports] == ["Sở Tài chính", "Sở Y tế"]
    assert [line.agency for line in changes.newly_overdue] == ["Sở Nội vụ"]
    assert [line.agency for line in changes.newly_blocked] == ["Sở Y tế"]

    text = render_coordinator_digest(changes, [], today=ON, lang="vi")
    assert text is not None
    assert text.splitlines()[0] == "Tổng hợp tình hình thực hiện nhiệm vụ ngày 20/06/2024"
    assert "Báo cáo mới (2):" in text
    assert "- Sở Tài chính, nhiệm vụ 2 (289/KH-UBND) «Nhiệm vụ 2»: " in text
    assert "Đang thực hiện trong hạn, 80%. “được 80%”" in text
    assert "Nhiệm vụ mới quá hạn (1):" in text
    assert "quá hạn 1 ngày (hạn 14/06/2024)" in text
    assert "Khó khăn, vướng mắc mới (1):\n- Sở Y tế, nhiệm vụ 3" in text
    assert "chờ hướng dẫn của Bộ" in text

    english = render_coordinator_digest(changes, [], today=ON, lang="en")
    assert english is not None
    assert "New reports (2):" in english
    assert "1 days overdue (due 14/06/2024)" in english


def test_unreachable_contacts_alone_make_a_digest() -> None:
    text = render_coordinator_digest(
        Changes((), (), ()), ["Nguyễn Văn A (Sở Y tế): đã chặn bot Telegram"], today=ON, lang="vi"
    )
    assert text == (
        "Tổng hợp tình hình thực hiện nhiệm vụ ngày 20/06/2024\n\n"
        "Chưa gửi được nhắc việc, đề nghị cập nhật đầu mối (1):\n"
        "- Nguyễn Văn A (Sở Y tế): đã chặn bot Telegram"
    )


def test_digest_sections_are_capped() -> None:
    lines = [
        make_line(f"UBND huyện {i}", str(i), status(FRI, [percent(FRI, 10)], ON)) for i in range(25)
    ]
    changes = changes_since([], lines)
    text = render_coordinator_digest(changes, [], today=ON, lang="vi", max_items=10)
    assert text is not None
    assert "Nhiệm vụ mới quá hạn (25):" in text
    assert text.count("- UBND huyện") == 20  # 10 new reports + 10 newly overdue
    assert text.count("… và 15 mục khác.") == 2
    assert len(text) < 2000  # fits one Zalo message
