"""``verify``: run every claim's experiment, combine seeds, compare with the expected verdicts.

The plan is a list of :class:`Task` runs. Each (experiment, preset) pair of the level runs
once and measures all its claims; a claim that is ``seeded`` (its number depends on one
random draw) also gets one run per further seed (``seed`` = base+1 .. base+SEEDS-1), and
its outcomes are pooled with :func:`~implicitbias.claims.claim.combine`. Runs go one after
another in this process, or in ``jobs`` worker processes.

Each outcome is then *as expected*, *UNEXPECTED* or *not measured*; the exit status of the
command follows from those counts (:attr:`Summary.exit_code`).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from implicitbias.claims.claim import Claim, Outcome, combine

SEEDS = 5
"""Seeds a ``seeded`` claim is measured over."""

EXIT_AS_EXPECTED, EXIT_UNEXPECTED, EXIT_ERRORS = 0, 1, 3


@dataclasses.dataclass(frozen=True)
class Answer:
    """What one run gives back: its folder, its claims' outcome dicts, an error, the time."""

    folder: str | None
    claims: list[dict[str, Any]]
    error: str | None = None
    seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class Task:
    """One run that ``verify`` makes: an experiment, a preset and a seed override."""

    experiment: str
    preset: str
    seed: int | None
    claims: tuple[str, ...]

    @property
    def label(self) -> str:
        tail = "" if self.seed is None else f" --set seed={self.seed}"
        return f"{self.experiment} --preset {self.preset}{tail}"


@dataclasses.dataclass
class Progress:
    """What the progress callback is told after each run."""

    runs_done: int
    runs_total: int
    claims_done: int
    claims_total: int
    running: tuple[str, ...]
    elapsed: float
    estimate_left: float | None = None

    @property
    def eta(self) -> float | None:
        """Seconds left: from the last verify's run times on this machine when every run
        left has one, else from the mean time per finished run (``None`` before the first).
        """
        if self.estimate_left is not None:
            return self.estimate_left
        if self.runs_done == 0:
            return None
        return self.elapsed / self.runs_done * (self.runs_total - self.runs_done)


def plan(claims: Sequence[Claim], level: str) -> list[Task]:
    """The runs that measure ``claims`` at ``level`` (the base run of each pair first)."""
    from implicitbias.lab import make_config

    groups: dict[tuple[str, str], list[Claim]] = {}
    for claim in claims:
        groups.setdefault((claim.experiment, claim.presets[level]), []).append(claim)
    base, extra = [], []
    for (name, preset), group in groups.items():
        base.append(Task(name, preset, None, tuple(c.id for c in group)))
        seeded = tuple(c.id for c in group if c.seeded)
        if seeded:
            first = make_config(name, preset)[1].seed
            extra += [Task(name, preset, first + k, seeded) for k in range(1, SEEDS)]
    return base + extra


def previous_seconds(out: str | Path, level: str) -> dict[str, float]:
    """Run times (by task label) of the newest finished verify at ``level`` under ``out``.

    ``verify`` orders its runs longest first with them (so that parallel workers finish
    together) and estimates the time left; an unreadable record gives no estimates.
    """
    folders = sorted(Path(out).glob(f"verify-{level}-*/verify.json"), reverse=True)
    for path in folders:
        try:
            record = json.loads(path.read_text())
            return {t["label"]: float(t["seconds"]) for t in record.get("tasks", [])}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return {}


def _failed(task: Task, exc: BaseException, seconds: float = 0.0) -> Answer:
    """The answer of a run that raised (in this process or in a worker that died)."""
    return Answer(None, [], f"run failed ({task.label}): {type(exc).__name__}: {exc}", seconds)


def _run_task(task: Task, out: str) -> Answer:
    """Run one task; never raises (a failure is the answer's ``error``)."""
    from implicitbias.lab import run

    overrides = {} if task.seed is None else {"seed": task.seed}
    t0 = time.perf_counter()
    try:
        results = run(task.experiment, task.preset, overrides, out=out)
    except Exception as exc:  # noqa: BLE001 - becomes an error outcome of each claim
        return _failed(task, exc, time.perf_counter() - t0)
    if results.status == "diverged":  # nothing finite to measure: no claims were judged
        error = f"run diverged ({task.label}): {results.message}"
        return Answer(str(results.path), [], error, time.perf_counter() - t0)
    wanted = set(task.claims)
    found = [c for c in results.claims if c["id"] in wanted]
    return Answer(str(results.path), found, None, time.perf_counter() - t0)


def execute(
    tasks: Sequence[Task],
    *,
    out: str | Path,
    jobs: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
    estimates: dict[str, float] | None = None,
) -> tuple[dict[Task, Answer], float]:
    """Run the tasks (in ``jobs`` processes when > 1): each task's answer, and the wall time.

    With ``estimates`` (seconds by task label, see :func:`previous_seconds`), the runs start
    longest first (unknown ones before all) and the progress carries a time-left estimate.
    """
    t0 = time.perf_counter()
    estimates = estimates or {}
    tasks = sorted(tasks, key=lambda t: -estimates.get(t.label, math.inf))
    answers: dict[Task, Answer] = {}
    total_claims = len({c for t in tasks for c in t.claims})
    width = max(1, jobs)

    def report() -> None:
        if on_progress is None:
            return
        left = [t for t in tasks if t not in answers]
        unfinished = {c for t in left for c in t.claims}
        known = [estimates.get(t.label) for t in left]
        estimate = sum(known) / width if None not in known else None
        on_progress(
            Progress(
                runs_done=len(answers),
                runs_total=len(tasks),
                claims_done=total_claims - len(unfinished),
                claims_total=total_claims,
                running=tuple(t.label for t in left[:width]),
                elapsed=time.perf_counter() - t0,
                estimate_left=estimate,
            )
        )

    report()
    if jobs <= 1:
        for task in tasks:
            answers[task] = _run_task(task, str(out))
            report()
        return answers, time.perf_counter() - t0

    context = multiprocessing.get_context("spawn")
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with cf.ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_worker_setup, initargs=(threads,)
    ) as pool:
        futures = {pool.submit(_run_task, task, str(out)): task for task in tasks}
        for future in cf.as_completed(futures):
            task = futures[future]
            try:
                answers[task] = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died
                answers[task] = _failed(task, exc)
            report()
    return answers, time.perf_counter() - t0


def _worker_setup(threads: int) -> None:
    """In each worker, before JAX starts its backend: no progress bars, a thread budget.

    ``jobs`` workers share the machine, so each gets ``cpus // jobs`` threads (one thread
    turns XLA's multi-threaded Eigen off, as the sweep's local workers do).
    """
    os.environ["IMPLICITBIAS_PROGRESS"] = "0"
    os.environ["MPLBACKEND"] = "Agg"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    if threads == 1:
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()


def outcomes_of(
    claims: Sequence[Claim],
    tasks: Sequence[Task],
    answers: dict[Task, Answer],
) -> list[Outcome]:
    """One outcome per claim, in the claims' order, pooling the seeds of seeded claims."""
    parts: dict[str, list[Outcome]] = {c.id: [] for c in claims}
    by_id = {c.id: c for c in claims}
    for task in tasks:
        answer = answers[task]
        error = answer.error
        got = {d["id"]: d for d in answer.claims}
        for cid in task.claims:
            if cid in got:
                parts[cid].append(Outcome.from_dict(got[cid]))
            else:
                detail = error or "the run did not measure it"
                parts[cid].append(Outcome.unmeasured(by_id[cid], error=detail))
    return [combine(parts[c.id]) for c in claims]


@dataclasses.dataclass(frozen=True)
class Summary:
    """The counts behind the summary line and the exit status."""

    as_expected: int
    held: int
    refuted: int
    flipped: int
    unexpected: int
    errors: int
    not_applicable: int

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Summary:
        outcomes = list(outcomes)
        ok = [o for o in outcomes if o.status == "as expected"]
        return cls(
            as_expected=len(ok),
            held=sum(o.verdict == "holds" for o in ok),
            refuted=sum(o.verdict == "does not hold" for o in ok),
            flipped=sum(o.verdict == "flips" for o in ok),
            unexpected=sum(o.status == "UNEXPECTED" for o in outcomes),
            errors=sum(o.verdict == "error" for o in outcomes),
            not_applicable=sum(o.verdict == "not applicable" for o in outcomes),
        )

    def line(self) -> str:
        flips = f", {self.flipped} flip between seeds as expected" if self.flipped else ""
        text = (
            f"{self.as_expected} as expected ({self.held} hold, {self.refuted} refuted as "
            f"expected{flips}), {self.unexpected} unexpected, {self.errors} errors"
        )
        return text + (f", {self.not_applicable} not applicable" if self.not_applicable else "")

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_ERRORS
        return EXIT_UNEXPECTED if self.unexpected else EXIT_AS_EXPECTED
