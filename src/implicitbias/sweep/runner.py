"""Run a sweep's cells on Dask distributed: a local cluster by default, or an existing one.

One Dask task per pending cell (``pure=False``) runs :func:`~implicitbias.sweep.cell.run_cell`
on a worker; the client writes ``manifest.json`` as results come in (``as_completed``),
then ``table.csv``/``table.json``. Nothing here schedules: placement, queuing and the
rescheduling of a cell whose worker died are Dask's.

Retries and tries:
    A worker that dies mid-cell (killed, out of memory) makes the scheduler reschedule the
    cell on another worker; after ``retries`` such deaths (``allowed-failures``) the task
    fails with ``KilledWorker`` and the cell is ``failed`` with that message. On the
    default local cluster ``retries`` sets ``distributed.scheduler.allowed-failures``.
    With ``scheduler=ADDRESS`` the setting of the *scheduler process* governs: its
    ``distributed.scheduler.allowed-failures`` (e.g. the environment variable
    ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES`` where it starts; Dask's default is
    3); ``retries`` is then only recorded. A cell that raises is not retried: it is
    recorded as ``failed`` (or ``diverged``) with its message.

    ``tries`` counts attempts honestly from the scheduler's own story of the task: the number
    of times it moved the task to ``processing`` on a worker (``Client.story``), at least the
    number of ``start`` events the cell sent; on resume the attempts of earlier sessions are
    added. On a shared filesystem each attempt also leaves ``cells/<id>/attempts/<n>.json``.

Interrupts: Ctrl-C or SIGTERM cancels the outstanding tasks, marks ``running`` cells
``pending``, writes the manifest, closes the client (and the local cluster), and raises
:class:`KeyboardInterrupt`; :func:`resume_sweep` then runs the cells not finished, and a
cell whose run folder was interrupted continues from its checkpoints (``lab.resume``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from implicitbias.errors import ConfigError
from implicitbias.experiments import get_experiment
from implicitbias.runs.atomic import write_bytes
from implicitbias.sweep import manifest as mf
from implicitbias.sweep.cell import TOPIC, run_cell
from implicitbias.sweep.grid import Axis, build_axes, cells_of
from implicitbias.sweep.table import write_table

THREAD_LIMITS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
"""Set in each local worker before it starts: one cell per worker, one thread per cell."""

Progress = Callable[[dict[str, Any]], None]


@dataclasses.dataclass
class SweepResult:
    """A sweep folder and what it holds: ``cells`` (the manifest) and ``rows`` (the table)."""

    path: Path
    experiment: str
    preset: str
    cells: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    dashboard: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(c["status"] == s for c in self.cells) for s in mf.STATUSES}

    @property
    def finished(self) -> bool:
        """Every cell done, diverged or failed."""
        return all(c["status"] in mf.FINISHED for c in self.cells)


def load_sweep(folder: str | Path) -> SweepResult:
    """A sweep folder as a :class:`SweepResult` (rows from ``table.json`` when written)."""
    from implicitbias.runs.atomic import read_json

    folder = Path(folder)
    record, cells = mf.read_sweep(folder)
    table = folder / "table.json"
    rows = read_json(table)["rows"] if table.is_file() else []
    return SweepResult(folder, record["experiment"], record["preset"], cells, rows)


def _mode(shared_fs: bool | None) -> str:
    return "auto" if shared_fs is None else ("shared" if shared_fs else "transfer")


def _check_execution(workers: Any, scheduler: Any, retries: Any) -> None:
    if workers is not None and scheduler is not None:
        raise ConfigError("--workers", "no --workers beside --scheduler", workers)
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ConfigError("--workers", "an integer >= 1", workers)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError("--retries", "an integer >= 0", retries)
    if scheduler is not None and not str(scheduler).strip():
        raise ConfigError("--scheduler", "a scheduler address (tcp://HOST:PORT)", scheduler)


@contextlib.contextmanager
def dask_client(
    workers: int | None = None, scheduler: str | None = None, retries: int = 2
) -> Iterator[Any]:
    """A Dask client: on ``scheduler`` if given, else on a new local cluster (closed after)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(
                "--scheduler",
                "the address of a running Dask scheduler (tcp://HOST:PORT)",
                scheduler,
                hint=f"({type(exc).__name__})",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    limits = dict(THREAD_LIMITS)
    if os.environ.get("XLA_FLAGS"):
        limits["XLA_FLAGS"] = os.environ["XLA_FLAGS"] + " " + limits["XLA_FLAGS"]
    environ.update(limits, IMPLICITBIAS_PROGRESS="0", MPLBACKEND="Agg")
    settings = {
        "distributed.nanny.pre-spawn-environ": environ,
        "distributed.scheduler.allowed-failures": retries,
    }
    saved = {key: os.environ.get(key) for key in (*environ, "PYTHONHASHSEED")}
    with dask.config.set(settings):
        try:
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port; the pages need bokeh (see _dashboard)
                silence_logs=logging.CRITICAL,  # no Dask chatter (e.g. on Ctrl-C) for the user
            )
        finally:
            _restore(saved)
        try:
            client = Client(cluster)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
            _restore(saved)  # a worker restarted by its nanny wrote them again


def _restore(saved: dict[str, str | None]) -> None:
    """Put back the variables Dask's nanny wrote into this process's own environment (it
    does ``os.environ.update(pre-spawn-environ)`` in the parent before each spawn)."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def run_sweep(
    experiment: str,
    preset: str = "default",
    grid: Sequence[str | Axis] | Mapping[str, Any] = (),
    seeds: int = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    retries: int = 2,
    out: str | Path = "sweeps",
    max_cells: int = 1000,
    yes: bool = False,
    shared_fs: bool | None = None,
    progress: Progress | bool | None = None,
    batch: bool = True,
) -> SweepResult:
    """Run ``experiment`` on every cell of a grid, one Dask task per cell.

    Args:
        experiment: experiment name.
        preset: the preset every cell starts from.
        grid: axes as ``"KEY=V1,V2"``/``"KEY=LO:HI:N[:log]"`` strings, or ``{key: values}``.
        seeds: ``K > 1`` adds the axis ``seed=0..K-1`` (last, so it varies fastest).
        workers: local worker processes (default: the CPU count), one thread each.
        scheduler: ``tcp://HOST:PORT`` of an existing Dask scheduler instead.
        retries: how many times a cell whose worker died is rescheduled (see the module doc).
        out: the folder under which the sweep folder is created.
        max_cells: refuse larger grids unless ``yes``.
        shared_fs: ``None`` decides per worker, ``True``/``False`` force the mode.
        progress: ``None``: a progress bar on stderr unless ``IMPLICITBIAS_PROGRESS=0``;
            ``False``: none; a callable: called with the counts after every change.
        batch: fold an axis over a declared batch field of the experiment (scalar values)
            into every cell, run as one batched program (``grid.py``); ``False``: one cell
            per value of every axis.

    Raises:
        ConfigError: bad grid or option, before any work and before the folder is made.
        KeyboardInterrupt: on Ctrl-C/SIGTERM, after the manifest is written.
    """
    exp = get_experiment(experiment)
    _check_execution(workers, scheduler, retries)
    if isinstance(max_cells, bool) or not isinstance(max_cells, int) or max_cells < 1:
        raise ConfigError("--max-cells", "an integer >= 1", max_cells)
    axes = build_axes(exp, grid, seeds, batch=batch)
    cells = cells_of(exp, preset, axes, max_cells=max_cells, yes=yes)
    with dask_client(workers, scheduler, retries) as client:
        folder = mf.new_sweep_dir(out, exp.name)
        record = mf.sweep_record(folder, exp.name, preset, axes, seeds, retries)
        mf.write_sweep(folder, record)
        manifest = [mf.new_cell_record(c) for c in cells]
        mf.write_manifest(folder, manifest)
        return _run(client, folder, record, manifest, _mode(shared_fs), progress)


def resume_sweep(
    folder: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    retries: int | None = None,
    shared_fs: bool | None = None,
    progress: Progress | bool | None = None,
) -> SweepResult:
    """Run the cells of ``folder`` that are not finished (``pending`` or ``running``)."""
    record, manifest = mf.read_sweep(folder)
    retries = record.get("retries", 2) if retries is None else retries
    _check_execution(workers, scheduler, retries)
    folder = Path(folder).resolve()
    for cell in manifest:
        if cell["status"] not in mf.FINISHED:
            cell["status"] = "pending"
    if all(c["status"] in mf.FINISHED for c in manifest):
        rows = write_table(folder, record, manifest)
        return SweepResult(folder, record["experiment"], record["preset"], manifest, rows)
    with dask_client(workers, scheduler, retries) as client:
        return _run(client, folder, record, manifest, _mode(shared_fs), progress)


def _dashboard(client: Any) -> str | None:
    if not importlib.util.find_spec("bokeh"):
        return None
    with contextlib.suppress(Exception):
        return client.dashboard_link
    return None


def _count_tries(client: Any, key: Any, starts: int) -> int:
    """Attempts of one task: its moves to ``processing`` in the scheduler's story."""
    try:
        story = client.story(key)
        moves = sum(1 for entry in story if len(entry) > 2 and entry[2] == "processing")
    except Exception:  # noqa: BLE001 - the story is optional; fall back on the events
        moves = 0
    return max(moves, starts, 1)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(
    client: Any,
    folder: Path,
    record: dict[str, Any],
    manifest: list[dict[str, Any]],
    mode: str,
    progress: Progress | bool | None,
) -> SweepResult:
    from distributed import as_completed

    by_id = {c["id"]: c for c in manifest}
    dashboard = _dashboard(client)
    report = _reporter(progress, len(manifest), dashboard)
    events: queue.Queue = queue.Queue()
    client.subscribe_topic(TOPIC, events.put)
    starts: dict[str, int] = {}
    futures: dict[Any, str] = {}
    try:
        with _sigterm_as_interrupt():
            todo = [c for c in manifest if c["status"] not in mf.FINISHED]
            for cell in todo:
                future = client.submit(
                    run_cell,
                    record["experiment"],
                    record["preset"],
                    cell["overrides"],
                    folder=str(folder),
                    sweep_id=record["id"],
                    cell_id=cell["id"],
                    mode=mode,
                    pure=False,
                )
                futures[future] = cell["id"]
            report(manifest)
            done = as_completed(list(futures))
            while not done.is_empty():
                changed = _drain(events, by_id, starts, record["id"])
                batch = done.next_batch(block=False) if done.has_ready() else []
                for future in batch:
                    cell = by_id[futures.pop(future)]
                    _record(client, folder, cell, future, starts.get(cell["id"], 0))
                    changed = True
                if changed:
                    mf.write_manifest(folder, manifest)
                    report(manifest)
                if not batch:
                    time.sleep(0.05)
    except KeyboardInterrupt as exc:
        exc.sweep_folder = folder  # type: ignore[attr-defined]  # for the CLI's message
        with contextlib.suppress(Exception):
            client.cancel(list(futures))
        _drain(events, by_id, starts, record["id"])
        for cell in manifest:
            if cell["status"] == "running":  # the cut attempt counts as a try
                cell["tries"] = int(cell.get("tries") or 0) + starts.get(cell["id"], 1)
                cell["status"] = "pending"
        mf.write_manifest(folder, manifest)
        report(None)
        raise
    finally:
        with contextlib.suppress(Exception):
            client.unsubscribe_topic(TOPIC)
    mf.write_manifest(folder, manifest)
    report(None)
    rows = write_table(folder, record, manifest)
    return SweepResult(folder, record["experiment"], record["preset"], manifest, rows, dashboard)


def _drain(
    events: queue.Queue, by_id: dict[str, dict], starts: dict[str, int], sweep_id: str
) -> bool:
    changed = False
    while True:
        try:
            event = events.get_nowait()
        except queue.Empty:
            return changed
        message = event[1] if isinstance(event, tuple) and len(event) == 2 else event
        if not isinstance(message, dict) or message.get("event") != "start":
            continue
        if message.get("sweep") != sweep_id:  # another sweep on the same scheduler
            continue
        cell = by_id.get(message.get("cell"))
        if cell is None or cell["status"] in mf.FINISHED:
            continue
        starts[cell["id"]] = starts.get(cell["id"], 0) + 1
        cell["status"], cell["worker"] = "running", message.get("worker")
        changed = True


def _record(client: Any, folder: Path, cell: dict, future: Any, starts: int) -> None:
    """Write a finished task's result into ``cell`` (and its files under ``folder``)."""
    cell["tries"] = int(cell.get("tries") or 0) + _count_tries(client, future.key, starts)
    if future.status == "finished":
        try:
            result = future.result()
        except Exception as exc:  # noqa: BLE001 - e.g. a result that could not be read
            cell.update(status="failed", error=f"{type(exc).__name__}: {exc}", run=None)
            return
        for relative, data in (result.get("files") or {}).items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes(path, data)
        cell.update(
            status=result["status"],
            error=result["error"],
            run=result["run"],
            worker=result["worker"],
            wall_seconds=result["wall_seconds"],
        )
        return
    exc = future.exception() if future.status == "error" else None
    if exc is None:
        message = f"task {future.status}"
    elif type(exc).__name__ == "KilledWorker":
        message = f"KilledWorker: the workers running this cell died {cell['tries']} times"
    else:
        message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    cell.update(status="failed", error=message, run=None)


def _reporter(
    progress: Progress | bool | None, total: int, dashboard: str | None
) -> Callable[[list[dict] | None], None]:
    """``report(manifest)`` after each change, ``report(None)`` at the end."""
    if callable(progress) and not isinstance(progress, bool):

        def call(manifest: list[dict] | None) -> None:
            if manifest is not None:
                counts = {s: sum(c["status"] == s for c in manifest) for s in mf.STATUSES}
                progress({"total": total, "dashboard": dashboard, **counts})

        return call
    quiet = os.environ.get("IMPLICITBIAS_PROGRESS", "").lower() in ("0", "false", "no", "off")
    if progress is False or quiet:
        return lambda manifest: None
    return _RichBar(total, dashboard)


class _RichBar:
    """Cells finished / total, running, failed and the ETA, on stderr."""

    def __init__(self, total: int, dashboard: str | None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(stderr=True)
        shown = dashboard or "not available (install bokeh for Dask's dashboard)"
        print(f"dask dashboard: {shown}", file=sys.stderr)
        self.bar = Progress(
            TextColumn("cells"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = self.bar.add_task("sweep", total=total, state="")
        self.started = False

    def __call__(self, manifest: list[dict] | None) -> None:
        if manifest is None:
            if self.started:
                self.bar.stop()
            return
        if not self.started:
            self.bar.start()
            self.started = True
        finished = sum(c["status"] in mf.FINISHED for c in manifest)
        running = sum(c["status"] == "running" for c in manifest)
        failed = sum(c["status"] == "failed" for c in manifest)
        diverged = sum(c["status"] == "diverged" for c in manifest)
        state = f"running {running}, failed {failed}, diverged {diverged}"
        self.bar.update(self.task, completed=finished, state=state)
