"""Benchmark: reminders from the outbox through the real Telegram channel to a local Bot API server.

The outbox holds ``--people`` people on Telegram, each owed ``--items`` reminders due now; one
person in twenty owes 60 more, so their digest is split into several messages (what the per-chat
spacing is for). ``scheduler.dispatcher.Dispatcher`` ticks, with the real clock's time, until the
outbox is empty, sending through ``bot.telegram.TelegramChannel`` and python-telegram-bot over
HTTP to ``tests/fakes/telegram_server.FakeBotApi``, run in a process of its own so that it does
not share our interpreter (and its lock) with the dispatcher.

Runs (``--modes``):
- recording: the dispatcher alone, to ``bot.recording.RecordingChannel`` (no HTTP): the ceiling
  the database work and the wording leave;
- limiter off: ``build_bot(rate_limiter=False)`` and no per-chat spacing: messages/s is our own
  overhead (claiming, wording, sending through PTB and HTTP, recording). Target: above 500/s.
- limiter on: the bot as shipped, ``build_bot(rate_limiter=True)`` (``bot.telegram.pacing``:
  at most 30 sends whose [start, answer] falls within any second, starts ``MIN_GAP`` apart) and
  the channel's one message per second per chat, counted from the end of the previous send. The
  server then referees as Telegram documents its limits and answers 429 (retry after 1 s) to a
  message that would be the 31st within any one-second window, or that comes less than 1 s
  after the previous one to the same chat (50 ms allowed for the loopback's jitter). Target:
  above 28 messages/s, no 429. ``--per-second`` and ``--min-gap`` try other settings of the
  window; ``--limiter aio`` the previous limiter (PTB's AIORateLimiter, one message every
  1/``--per-second`` s) for comparison.

The server reports what it accepted: the most messages in any one-second window, the tightest
span of 31 consecutive messages (under 1 s is a 429; the margin above it is what jitter may eat
before one), the sustained rate (first and last second left out), the shortest gap between two
messages to one chat, and when the first and last message arrived (the time before the first is
claiming and preparing, after the last is recording). The dispatching side reports each send's
round trip through the limiter (request written to answer parsed). ``--burn N`` keeps N other
processes spinning on the CPU meanwhile (a loaded machine).
``--profile FILE`` saves a cProfile of the dispatching process (the event loop's thread: the
database work in worker threads is not in it) for ``python -m pstats FILE``.

    .venv/bin/python bench/bench_telegram_dispatch.py [--people 3000] [--people-limited 1500] \\
        [--items 3] [--long-every 20] [--db sqlite|postgresql|URL] [--concurrency N] \\
        [--modes recording,off,on] [--limiter window|aio] [--per-second 30] [--min-gap S] \\
        [--burn N] [--profile FILE] [--out FILE]
"""

import argparse
import asyncio
import cProfile
import json
import math
import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import synthetic
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col
from telegram.ext import BaseRateLimiter

from domain.agencies import Directory
from domain.calendar import WorkingCalendar
from domain.deadlines import parse_deadline
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from scheduler.dispatcher import Dispatcher
from storage import reminder_queries
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Assignment, Contact, Reminder

SCRIPT = str(Path(__file__).resolve())
NOW = synthetic.NOW
DUE = date(2026, 12, 17)
LONG_EVERY = 20  # one person in LONG_EVERY owes LONG_ITEMS more: a digest of several messages
LONG_ITEMS = 60
PER_SECOND = 30
CHAT_INTERVAL = 1.0
CHAT_JITTER = 0.05
MAX_SECONDS = 900.0  # a run that has not emptied the outbox by then stops and says so


# --- the referee: a FakeBotApi that counts, and answers 429 like Telegram ----------------------


def serve(enforce: bool) -> None:
    """Run the fake Bot API until stdin says "stop"; print its port, then its statistics."""
    sys.path.insert(0, str(common.ROOT))
    from tests.fakes.telegram_server import ApiError, FakeBotApi

    class Referee(FakeBotApi):
        def __init__(self) -> None:
            super().__init__()
            self.window: deque[float] = deque()
            self.accepted: list[float] = []
            self.last_by_chat: dict[str, float] = {}
            self.too_many = 0
            self.chat_too_fast = 0
            self.min_chat_gap = math.inf

        def _raise_scripted_failure(self, method: str, params: dict[str, Any]) -> None:
            super()._raise_scripted_failure(method, params)
            if method != "sendMessage":
                return
            now = time.monotonic()
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            chat = str(params.get("chat_id"))
            last = self.last_by_chat.get(chat)
            gap = now - last if last is not None else math.inf
            if len(self.window) >= PER_SECOND:
                self.too_many += 1
                if enforce:
                    raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            if gap < CHAT_INTERVAL - CHAT_JITTER:
                self.chat_too_fast += 1
                if enforce:
                    raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            self.window.append(now)
            self.accepted.append(now)
            self.last_by_chat[chat] = now
            self.min_chat_gap = min(self.min_chat_gap, gap)

        def stats(self) -> dict[str, Any]:
            with self._lock:
                times = list(self.accepted)
                return {
                    "accepted": len(times),
                    "refused_429": (self.too_many + self.chat_too_fast) if enforce else 0,
                    "over_30_per_s": self.too_many,
                    "chat_too_fast": self.chat_too_fast,
                    "max_in_1s": _max_in_window(times, 1.0),
                    "tightest_31_s": _tightest_span(times, PER_SECOND + 1),
                    "first_at": times[0] if times else None,
                    "last_at": times[-1] if times else None,
                    "last_seconds": _last_seconds(times, 4),
                    "sustained_per_s": _sustained(times),
                    "min_chat_gap_s": None if math.isinf(self.min_chat_gap) else self.min_chat_gap,
                    "token": self.token,
                }

    api = Referee()
    api.start()
    print(json.dumps({"port": api.port, "token": api.token, "base_url": api.base_url}), flush=True)
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stats = api.stats()
    api.stop()
    print(json.dumps(stats), flush=True)


def _max_in_window(times: list[float], width: float) -> int:
    best = start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


def _tightest_span(times: list[float], count: int) -> float | None:
    """The shortest time ``count`` consecutive messages took (None: fewer messages than that)."""
    spans = [times[i + count - 1] - times[i] for i in range(len(times) - count + 1)]
    return min(spans) if spans else None


def _last_seconds(times: list[float], count: int) -> list[int]:
    """Messages in each of the last ``count`` seconds before the last one, oldest first."""
    if not times:
        return []
    end = times[-1]
    return [sum(1 for t in times if end - n - 1 < t <= end - n) for n in reversed(range(count))]


def _sustained(times: list[float]) -> float:
    """Messages per second between the end of the first second and the start of the last."""
    if len(times) < 2 or times[-1] - times[0] <= 2.0:
        return len(times) / max(times[-1] - times[0], 1e-9) if len(times) > 1 else 0.0
    low, high = times[0] + 1.0, times[-1] - 1.0
    inside = sum(1 for t in times if low <= t <= high)
    return inside / (high - low)


class Server:
    """The referee in a subprocess."""

    def __init__(self, enforce: bool) -> None:
        argv = [sys.executable, SCRIPT, "--serve"] + (["--enforce"] if enforce else [])
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=common.ROOT
        )
        assert self.process.stdout is not None
        hello = json.loads(self.process.stdout.readline())
        self.base_url: str = hello["base_url"]
        self.token: str = hello["token"]

    def finish(self) -> dict[str, Any]:
        out, _ = self.process.communicate("stop\n", timeout=60)
        stats: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return stats


# --- the outbox -----------------------------------------------------------------------------------


def fill(engine: Engine, people: int, items: int, long_every: int) -> tuple[Directory, int]:
    """People (one agency and one Telegram chat each) and their due reminders; rows inserted."""
    where = synthetic.directory(people)
    codes = list(where.agencies)
    deadline = parse_deadline("Trước ngày 17/12/2026")
    long_codes = codes[::long_every] if long_every > 0 else []
    title = "Nhiệm vụ {n}: rà soát, hoàn thiện quy định thuộc lĩnh vực được giao quản lý"
    tasks = [
        TaskDraft(str(n + 1), title.format(n=n + 1), deadline,
                  tuple(AssignmentDraft(c, Role.LEAD) for c in codes))
        for n in range(items)
    ] + [
        TaskDraft(str(items + n + 1), title.format(n=items + n + 1), deadline,
                  tuple(AssignmentDraft(c, Role.SUPPORT) for c in long_codes))
        for n in range(LONG_ITEMS if long_codes else 0)
    ]  # fmt: skip
    draft = PlanDraft("900/KH-UBND", date(2026, 1, 5), "UBND tỉnh", "Kế hoạch thử gửi",
                      "bench", synthetic.COORDINATOR, tuple(tasks))  # fmt: skip
    contacts = [
        {
            "agency_code": code,
            "channel": "telegram",
            "chat_id": str(20_000_000 + i),
            "user_id": str(20_000_000 + i),
            "display_name": f"Cán bộ {i}",
            "role": "focal",
            "language": "vi",
            "person_key": None,
            "preference": 0,
            "unreachable": False,
            "unreachable_reason": None,
            "last_interaction_at": None,
            "created_at": NOW - timedelta(days=30),
            "active": True,
        }
        for i, code in enumerate(codes)
    ]
    world = synthetic.World(synthetic.Spec(agencies=people), where, [draft], contacts)
    synthetic.load(engine, world)
    with Session(engine) as session:
        contact_of = dict(session.exec(select(Contact.agency_code, Contact.id)).all())
        rows = [
            {
                "assignment_id": aid,
                "occurrence": DUE.isoformat(),
                "step": "before:7",
                "audience": "agency",
                "contact_id": contact_of[code],
                "due": DUE,
                "send_at": NOW - timedelta(minutes=1),
                "payload": {"agency": code},
                "created_at": NOW,
            }
            for aid, code in session.exec(
                select(Assignment.id, Assignment.agency_code).order_by(col(Assignment.id))
            )
        ]
        inserted = reminder_queries.insert_planned(session, rows)
        session.commit()
    return where, inserted


def _open_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count())
            .select_from(Reminder)
            .where(col(Reminder.state).in_(("pending", "claimed", "failed")))
            .where(col(Reminder.next_attempt_at).is_not(None) | (col(Reminder.state) != "failed"))
        ).scalar()
    return int(count or 0)


async def drain(engine: Engine, dispatcher: Dispatcher) -> dict[str, Any]:
    started, cpu = time.monotonic(), time.process_time()
    totals: dict[str, Any] = {"messages": 0, "sent": 0, "failed": 0, "deferred": 0, "ticks": 0}
    while time.monotonic() - started < MAX_SECONDS:
        now = NOW + timedelta(seconds=time.monotonic() - started)
        report = await dispatcher.tick(now)
        totals["ticks"] += 1
        totals["messages"] += report.messages
        totals["sent"] += report.sent
        totals["failed"] += report.failed
        totals["deferred"] += report.deferred
        if report.claimed == 0:
            if _open_rows(engine) == 0:
                break
            await asyncio.sleep(0.1)  # a row waits for its retry time
    totals["started_at"] = started
    totals["elapsed_s"] = time.monotonic() - started
    totals["cpu_s"] = time.process_time() - cpu  # every thread of this process, not the server
    totals["timed_out"] = totals["elapsed_s"] >= MAX_SECONDS
    return totals


MODES = ("recording", "off", "on")
KEYS = {"recording": "no_http", "off": "limiter_off", "on": "limiter_on"}


class TimedLimiter(BaseRateLimiter[None]):
    """Another limiter, with each request's round trip (written to answer parsed) recorded."""

    def __init__(self, inner: BaseRateLimiter[Any]) -> None:
        self.inner = inner
        self.round_trips: list[float] = []

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Any:
        async def timed(*a: Any, **k: Any) -> Any:
            begun = time.monotonic()
            try:
                return await callback(*a, **k)
            finally:
                self.round_trips.append(time.monotonic() - begun)

        return await self.inner.process_request(timed, args, kwargs, endpoint, data, None)


def limiter(kind: str, per_second: int, min_gap: float | None) -> TimedLimiter:
    from telegram.ext import AIORateLimiter

    from bot.telegram.pacing import MIN_GAP, WindowRateLimiter

    if kind == "aio":
        return TimedLimiter(
            AIORateLimiter(overall_max_rate=1, overall_time_period=1 / per_second, max_retries=0)
        )
    gap = MIN_GAP if min_gap is None else min_gap
    return TimedLimiter(WindowRateLimiter(per_second, gap))


async def _send_all(
    url: str,
    where: Directory,
    server: Server | None,
    mode: str,
    concurrency: int,
    timed: TimedLimiter | None,
) -> dict[str, Any]:
    from bot.recording import RecordingChannel
    from bot.telegram import TelegramChannel, build_bot

    engine = make_engine(url)

    async def with_channel(channel: Any) -> dict[str, Any]:
        dispatcher = Dispatcher(
            engine,
            {"telegram": channel},
            directory=where,
            calendar=WorkingCalendar(),
            worker_id="bench",
            **({"concurrency": concurrency} if concurrency else {}),
        )
        return await drain(engine, dispatcher)

    try:
        if server is None:
            return await with_channel(RecordingChannel(channel_name="telegram"))
        limited = mode == "on"
        chosen: bool | BaseRateLimiter[Any] = timed if limited and timed is not None else limited
        async with build_bot(server.token, server.base_url, rate_limiter=chosen) as bot:
            spacing = CHAT_INTERVAL if limited else 0.0
            return await with_channel(TelegramChannel(bot, min_interval=spacing))
    finally:
        engine.dispose()


def one_run(
    db: str,
    people: int,
    items: int,
    long_every: int,
    mode: str,
    concurrency: int = 0,
    profile: str = "",
    timed: TimedLimiter | None = None,
    burn: int = 0,
) -> dict[str, Any]:
    with common.scratch_database(db, "bench_tgdispatch") as url:
        engine = make_engine(url)
        try:
            upgrade(url, engine=engine)
            (where, rows), fill_s = common.timed(lambda: fill(engine, people, items, long_every))
        finally:
            engine.dispose()
        burners = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(burn)
        ]
        server = None if mode == "recording" else Server(enforce=mode == "on")
        stats: dict[str, Any] = {}
        profiler = cProfile.Profile() if profile else None
        try:
            if profiler is not None:
                profiler.enable()
            totals = asyncio.run(_send_all(url, where, server, mode, concurrency, timed))
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
            if server is not None:
                stats = server.finish()
    return {**totals, "rows": rows, "fill_s": fill_s, "server": stats,
            "backend": common.backend_name(url)}  # fmt: skip


def run(args: argparse.Namespace) -> common.Result:
    result = common.Result("telegram_dispatch", dict(vars(args)))
    for mode in args.modes.split(","):
        people = args.people if mode in ("recording", "off") else args.people_limited
        profile = f"{args.profile}.{mode}" if args.profile else ""
        timed = limiter(args.limiter, args.per_second, args.min_gap) if mode == "on" else None
        got = one_run(args.db, people, args.items, args.long_every, mode, args.concurrency,
                      profile, timed, args.burn)  # fmt: skip
        key = KEYS[mode]
        rate = got["messages"] / got["elapsed_s"]
        result.add(f"{key}.messages", got["messages"])
        result.add(f"{key}.reminders", got["sent"])
        result.add(f"{key}.elapsed_s", got["elapsed_s"])
        result.add(f"{key}.messages_per_s", rate)
        result.add(f"{key}.reminders_per_s", got["sent"] / got["elapsed_s"])
        cpu_ms = 1000 * got["cpu_s"] / max(got["messages"], 1)
        result.add(f"{key}.cpu_ms_per_message", cpu_ms)
        line = (
            f"[{key}, {got['backend']}] {got['messages']:,} messages ({got['sent']:,} reminders, "
            f"{people:,} people) in {got['elapsed_s']:.2f} s over {got['ticks']} ticks: "
            f"{rate:,.1f} messages/s, {cpu_ms:.2f} ms of CPU each"
        )
        server = got["server"]
        if server:
            result.add(f"{key}.server_accepted", server["accepted"])
            result.add(f"{key}.server_max_in_1s", server["max_in_1s"])
            result.add(f"{key}.server_sustained_per_s", server["sustained_per_s"])
            result.add(f"{key}.refused_429", server["refused_429"])
            result.add(f"{key}.sends_over_30_per_s", server["over_30_per_s"])
            result.add(f"{key}.sends_too_soon_in_chat", server["chat_too_fast"])
            if server["min_chat_gap_s"] is not None:
                result.add(f"{key}.min_chat_gap_s", server["min_chat_gap_s"])
            tightest = server["tightest_31_s"]
            if tightest is not None:
                result.add(f"{key}.tightest_31_s", tightest)
            if server["first_at"] is not None:
                result.add(f"{key}.until_first_send_s", server["first_at"] - got["started_at"])
                ended_at = got["started_at"] + got["elapsed_s"]
                result.add(f"{key}.after_last_send_s", ended_at - server["last_at"])
                result.add(f"{key}.first_to_last_send_s", server["last_at"] - server["first_at"])
            line += (
                f"; server: max {server['max_in_1s']} in any 1 s, sustained "
                f"{server['sustained_per_s']:.1f}/s, "
            )
            if tightest is not None:
                line += f"31 messages in {tightest:.3f} s at the tightest, "
            line += f"last 4 s {server['last_seconds']}, "
            if mode == "on":
                line += f"429 answered {server['refused_429']}"
            else:
                line += f"not refereed ({server['over_30_per_s']:,} sends over 30/s)"
        if timed is not None and timed.round_trips:
            trips = sorted(timed.round_trips)
            p50, p99 = trips[len(trips) // 2], trips[min(len(trips) - 1, len(trips) * 99 // 100)]
            result.add(f"{key}.round_trip_p50_ms", 1000 * p50)
            result.add(f"{key}.round_trip_p99_ms", 1000 * p99)
            result.add(f"{key}.round_trip_max_ms", 1000 * trips[-1])
            line += f"; round trip p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms"
        if got["timed_out"]:
            line += " — TIMED OUT"
        result.note(line)
    return result


def main(argv: list[str] | None = None) -> common.Result | None:
    parser = common.parser(__doc__)
    parser.add_argument("--people", type=int, default=3000, help="people, limiter off")
    parser.add_argument("--people-limited", type=int, default=1500, help="people, limiter on")
    parser.add_argument("--items", type=int, default=3, help="reminders per person")
    parser.add_argument(
        "--long-every",
        type=int,
        default=LONG_EVERY,
        help=f"one person in N owes {LONG_ITEMS} more reminders (0: nobody)",
    )
    parser.add_argument("--db", default="sqlite", help="'sqlite', 'postgresql' or a URL")
    parser.add_argument(
        "--concurrency", type=int, default=0, help="the dispatcher's sends at once (0: its default)"
    )
    parser.add_argument("--modes", default="recording,off,on", help=", ".join(MODES))
    parser.add_argument(
        "--limiter",
        default="window",
        choices=("window", "aio"),
        help="limiter on: our send window, or PTB's AIORateLimiter paced (the previous one)",
    )
    parser.add_argument(
        "--per-second", type=int, default=PER_SECOND, help="limiter on: messages a second"
    )
    parser.add_argument(
        "--min-gap", type=float, default=None, help="limiter on, window: seconds between starts"
    )
    parser.add_argument("--burn", type=int, default=0, help="processes spinning meanwhile")
    parser.add_argument(
        "--profile", default="", help="save a cProfile of each run to FILE.<mode> (slows it)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--enforce", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    if args.serve:
        serve(args.enforce)
        return None
    if common.compared(args):
        return None
    return common.finish(run(args), args.out)


if __name__ == "__main__":
    main()
