"""The library entry points behind the CLI: run an experiment, verify the claims.

These functions compute and write files; they never print (the CLI does).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from implicitbias._precision import precision
from implicitbias.claims import Outcome, evaluate
from implicitbias.claims.verify import (
    SEEDS,
    Progress,
    Summary,
    Task,
    execute,
    outcomes_of,
    plan,
    previous_seconds,
)
from implicitbias.config import Config
from implicitbias.engine.checkpoint import checkpoints
from implicitbias.engine.train import recording as engine_recording
from implicitbias.errors import ConfigError, DivergenceError, EnvironmentFailure
from implicitbias.experiments import get_experiment
from implicitbias.experiments.registry import Experiment, all_claims
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.runs import store
from implicitbias.runs.atomic import write_json, write_text
from implicitbias.runs.meta import environment
from implicitbias.runs.results import Results

LEVELS = ("quick", "full")
CHECKPOINTS = "checkpoints"


def make_config(
    name: str, preset: str = "default", overrides: Mapping[str, Any] | None = None
) -> tuple[Experiment, Config]:
    """The experiment and its validated config; raises :class:`ConfigError` on bad input."""
    experiment = get_experiment(name)
    return experiment, experiment.config_cls.make(preset, overrides)


def run(
    name: str,
    preset: str = "default",
    overrides: Mapping[str, Any] | None = None,
    *,
    out: str | Path | None = "runs",
    config: Config | None = None,
    folder: Path | None = None,
    on_start: Callable[[Path], None] | None = None,
) -> Results:
    """Run one experiment, measure its claims, and (unless ``out`` is None) save a run folder.

    Args:
        name: experiment name (see ``implicitbias list``).
        preset: the preset the config starts from.
        overrides: ``{field: value}`` changes (strings are parsed as on the command line).
        out: the folder under which the run folder is created; ``None`` saves nothing.
        config: a ready config (``preset`` is then only recorded).
        folder: an unfinished run folder to complete (see :func:`resume`); by default a
            new one is created under ``out`` before any training, its ``results.json``
            saying ``running``, and every training call checkpoints into it.
        on_start: called with the run folder once it exists, before any training (the CLI
            prints it, so that an interrupted run can be resumed).

    Returns:
        The :class:`Results`, with ``path`` set when saved.

    Raises:
        ConfigError: bad name, preset or value (before any work).
        DivergenceError: training diverged; what was kept is saved first and the error's
            ``path`` attribute names the folder.
    """
    experiment = get_experiment(name)
    if config is None:
        config = experiment.config_cls.make(preset, overrides)
    elif not isinstance(config, experiment.config_cls):
        raise ConfigError("config", f"a {experiment.config_cls.__name__}", type(config).__name__)
    if out is not None and folder is None:
        folder = store.new_run_dir(out, experiment.name, preset)
        started = Results(
            experiment.name,
            preset,
            config.to_dict(),
            path=folder,
            status="running",
            message="started; resume with `implicitbias "
            f"run --resume {folder}` if it was interrupted",
        )
        try:
            store.write_config(folder, started)
            store.write_results_json(started)
        except OSError as exc:  # a full disk: leave nothing behind, run nothing
            shutil.rmtree(folder, ignore_errors=True)
            raise EnvironmentFailure(
                f"cannot write into {out} ({exc.strerror or exc}); nothing was run"
            ) from None
    lock = store.run_lock(folder) if folder is not None else nullcontext()
    with lock:
        if folder is not None and on_start is not None:
            on_start(folder)
        return _run_in(experiment, preset, config, folder)


def _run_in(experiment: Experiment, preset: str, config: Config, folder: Path | None) -> Results:
    """The body of :func:`run`, with the folder (if any) created and locked."""
    t0 = time.perf_counter()
    error: DivergenceError | None = None
    saving = checkpoints(folder / CHECKPOINTS) if folder is not None else nullcontext()
    with precision(config.x64), saving, engine_recording() as engine_runs:
        try:
            results = experiment.run(config)
        except DivergenceError as exc:
            error = exc
            results = _diverged_results(experiment, exc)
        except Exception as exc:
            if folder is not None:  # say why in the folder; nothing to resume
                _write_status(
                    experiment, preset, config, folder, "failed", f"{type(exc).__name__}: {exc}"
                )
                shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
            raise
        results.experiment, results.preset = experiment.name, preset
        results.config = config.to_dict()
        results.meta = {
            **environment(),
            "wall_seconds": time.perf_counter() - t0,
            # every compiled training call: members, steps, the batch layout (block size;
            # 0 = one vmap over all members) and its compile and run times
            "engine": list(engine_runs),
        }
        if error is None and results.status != "diverged":
            # An experiment that trains with on_divergence="continue" marks a run
            # diverged when nothing finite is left to measure; its claims are not judged.
            results.claims = [
                evaluate(c, results, config).to_dict()
                for c in experiment.claims
                if c.applies_to(preset)
            ]
        figures = experiment.figures(results) if (error is None and folder is not None) else {}
    if folder is not None:
        try:
            store.save_into(results, folder, figures)
        except OSError as exc:
            _mark_resumable(experiment, preset, config, folder, f"saving failed: {exc}")
            raise EnvironmentFailure(
                f"could not save the run into {folder} ({exc.strerror or exc}); its "
                "checkpoints are kept: free some space and run `implicitbias run --resume "
                f"{folder}`"
            ) from None
        if error is None:
            for relative, text in experiment.pages_of(results).items():
                (folder / relative).parent.mkdir(parents=True, exist_ok=True)
                write_text(folder / relative, text)
            shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
    if error is not None:
        error.path = results.path
        raise error
    return results


def _write_status(
    experiment: Experiment, preset: str, config: Config, folder: Path, status: str, message: str
) -> None:
    """A results.json that only says the run's status and why."""
    store.write_results_json(
        Results(
            experiment.name, preset, config.to_dict(), path=folder, status=status, message=message
        )
    )


def _mark_resumable(
    experiment: Experiment, preset: str, config: Config, folder: Path, message: str
) -> None:
    """Best effort: leave the folder resumable (``running``) if its status cannot be written."""
    resume = f"; resume with `implicitbias run --resume {folder}`"
    try:
        _write_status(experiment, preset, config, folder, "running", message + resume)
    except OSError:
        pass


def _diverged_results(experiment: Experiment, exc: DivergenceError) -> Results:
    traj = exc.trajectory
    results = Results(status="diverged", message=str(exc))
    if traj is not None:
        results.steps = traj.steps
        results.metrics = dict(traj.metrics)
        results.scalars["divergence"] = dataclasses.asdict(exc.divergence)
    return results


def _stored_config(path: Path, param: str) -> tuple[Experiment, str, Config]:
    """The experiment, preset and config a ``config.json`` holds; :class:`ConfigError` naming
    ``param`` and the file when it is corrupt, or not a config of its own experiment."""
    stored = store.read_config_record(path, param)
    experiment = get_experiment(stored["experiment"])
    preset = stored["preset"]
    if preset not in experiment.config_cls.presets():
        raise ConfigError(
            param,
            f"a config.json whose preset is one of {experiment.name}'s",
            f"{path} (preset {preset!r})",
        )
    try:
        config = experiment.config_cls.from_values(stored["config"])
    except ConfigError as exc:
        why = (
            f"{exc.given!r} is not a field of {experiment.name}'s config"
            if exc.param == "--set key"
            else str(exc)
        )
        raise ConfigError(
            param, f"a config.json that {experiment.name} accepts", f"{path} ({why})"
        ) from None
    return experiment, preset, config


def run_from(
    config_file: str | Path,
    *,
    out: str | Path | None = "runs",
    on_start: Callable[[Path], None] | None = None,
) -> Results:
    """Re-run the config stored in a run folder's ``config.json`` (same numbers)."""
    path = Path(config_file)
    if path.is_dir():
        path = path / store.CONFIG_FILE
    if not path.is_file():
        raise ConfigError("--from", "a config.json file or a run folder", str(config_file))
    experiment, preset, config = _stored_config(path, "--from")
    return run(experiment.name, preset, out=out, config=config, on_start=on_start)


def resume(folder: str | Path, *, on_start: Callable[[Path], None] | None = None) -> Results:
    """Finish an interrupted run in its own folder, from its checkpoints.

    Training calls that had finished are read back from their checkpoints; the one that
    was interrupted continues from its last chunk. The numbers are those of an
    uninterrupted run. A folder that another process is still running is refused.
    """
    folder = Path(folder)
    if not (folder / store.CONFIG_FILE).is_file():
        raise ConfigError("--resume", "a run folder (with config.json)", str(folder))
    experiment, preset, config = _stored_config(folder / store.CONFIG_FILE, "--resume")
    status = store.read_record(folder / store.RESULTS_FILE, "--resume").get("status", "")
    if status != "running":
        raise ConfigError(
            "--resume",
            "an unfinished run folder (status 'running'; finished folders are never overwritten)",
            f"{folder} (status {status!r})",
        )
    return run(experiment.name, preset, config=config, folder=folder, on_start=on_start)


def profile(
    optimizers: Iterable[Any],
    level: str = "quick",
    *,
    seeds: int | None = None,
    probes: Iterable[str] = (),
    out: str | Path | None = "runs",
) -> Results:
    """The implicit-bias profile of ``optimizers`` (the ``profile`` experiment).

    Args:
        optimizers: registry names, ``module:factory`` paths, specs with hyperparameters
            (``"adam(b2=0.99)"``, ``"adam:b2=0.99"``), :class:`OptimizerSpec` values or
            factories.
        level: ``quick`` (minutes), ``full`` (longer runs and the grokking probe) or
            ``smoke`` (seconds, for tests).
        seeds: seeds or datasets per probe (default: the level's, 5; smoke: 2).
        probes: only these probes (default: every probe of the level).
        out: the folder under which the run folder is created; ``None`` saves nothing.

    Returns:
        The run's :class:`Results`: ``probes.<probe>.optimizers.<key>`` per entry, the cards
        in ``<run folder>/cards/``.
    """
    optimizers = list(optimizers) if not isinstance(optimizers, str) else [optimizers]
    steps, specs = [], []
    for item in optimizers:  # a learning_rate in a spec fixes that optimizer's step
        spec = OptimizerSpec.parse(item) if isinstance(item, str) else item
        lr = spec.get("learning_rate") if isinstance(spec, OptimizerSpec) else None
        if lr is not None:
            spec = spec.replace(learning_rate=None)
        steps.append(lr if lr is not None else 0.0)
        specs.append(spec)
    overrides: dict[str, Any] = {"optimizers": specs, "probes": list(probes)}
    if any(steps):
        overrides["learning_rates"] = steps
    if seeds is not None:
        overrides["seeds"] = seeds
    levels = ("smoke", "quick", "full")
    if level not in levels:
        raise ConfigError("--level", "one of " + ", ".join(levels), level, choices=levels)
    _, config = make_config("profile", level, overrides)
    return run("profile", level, out=out, config=config)


@dataclasses.dataclass
class VerifyReport:
    """What ``verify`` measured: one outcome per claim, the runs, and the report file."""

    level: str
    outcomes: list[Outcome]
    runs: list[Results]
    folder: Path | None = None
    report: Path | None = None
    wall_seconds: float = 0.0
    jobs: int = 1
    tasks: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def unexpected(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "UNEXPECTED"]

    @property
    def summary(self) -> Summary:
        return Summary.of(self.outcomes)

    def environment(self) -> dict[str, Any]:
        """Where the runs ran; ``x64`` is the runs' own (each run sets it for its span)."""
        env = environment()
        flags = {r.meta.get("x64") for r in self.runs if "x64" in r.meta}
        if flags:
            env["x64"] = flags.pop() if len(flags) == 1 else "mixed"
        return env

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable record (``verify.json``, ``--json``)."""
        summary = self.summary
        return {
            "level": self.level,
            "folder": str(self.folder) if self.folder is not None else None,
            "jobs": self.jobs,
            "wall_seconds": self.wall_seconds,
            "peak_rss_mb": _peak_rss_mb(),
            "summary": {**dataclasses.asdict(summary), "line": summary.line()},
            "exit_code": summary.exit_code,
            "environment": self.environment(),
            "seeds": SEEDS,
            "runs": [str(r.path) for r in self.runs if r.path is not None],
            "tasks": self.tasks,
            "outcomes": [
                {
                    **o.to_dict(),
                    "verdict": o.verdict,
                    "status": o.status,
                    "expected_verdict": o.expected_verdict,
                    "seeds": o.seeds,
                    "spread": o.spread,
                    "rule": o.rule,
                }
                for o in self.outcomes
            ],
        }


def _peak_rss_mb() -> float | None:
    """The largest resident set of this process or of any finished worker, in MB."""
    try:
        import resource
    except ImportError:  # not on every platform
        return None
    kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return kb / 1024


def verify_plan(level: str = "quick", only: Iterable[str] | None = None) -> list[Task]:
    """The runs ``verify`` would make (validates ``level`` and ``only``)."""
    return plan(_selected_claims(level, only), level)


def _selected_claims(level: str, only: Iterable[str] | None) -> list:
    if level not in LEVELS:
        raise ConfigError("--preset", "one of " + ", ".join(LEVELS), level, choices=LEVELS)
    claims = all_claims()
    names = sorted({c.experiment for c in claims})
    only = [only] if isinstance(only, str) else list(only or [])
    for name in only:
        if name not in names:
            raise ConfigError("--only", "one of " + ", ".join(names), name, choices=names)
    return [c for c in claims if (not only or c.experiment in only) and level in c.presets]


def verify(
    level: str = "quick",
    only: Iterable[str] | None = None,
    *,
    out: str | Path = "runs",
    jobs: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
) -> VerifyReport:
    """Run every claim's experiment at ``level``, measure the claims, write an HTML report.

    Each (experiment, preset) pair runs once and all its claims are measured on it; a
    ``seeded`` claim is measured over :data:`SEEDS` seeds (one run each). A claim that
    could not be measured (its run failed) is an ``error`` outcome; every other one holds,
    does not hold, or flips between seeds, and is compared with the verdict the lab
    expects (``status``: as expected or UNEXPECTED).

    Args:
        level: ``quick`` or ``full``.
        only: only the claims of these experiments.
        out: the folder under which run folders and the verify folder are created.
        jobs: runs in parallel worker processes (1: one after another, in this process).
        on_progress: called with a :class:`Progress` before the first run and after each.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or not 1 <= jobs <= 64:
        raise ConfigError("--jobs", "an integer from 1 to 64", jobs)
    claims = _selected_claims(level, only)
    tasks = plan(claims, level)
    store.check_writable(out)
    estimates = previous_seconds(out, level)
    answers, wall = execute(tasks, out=out, jobs=jobs, on_progress=on_progress, estimates=estimates)
    outcomes = outcomes_of(claims, tasks, answers)
    runs = [store.load(answers[t].folder) for t in tasks if answers[t].folder]
    timings = [
        {"label": t.label, "folder": answers[t].folder, "seconds": answers[t].seconds}
        for t in tasks
        if answers[t].error is None
    ]
    report = VerifyReport(level, outcomes, runs, wall_seconds=wall, jobs=jobs, tasks=timings)
    _write_verify_folder(report, out)
    return report


def _write_verify_folder(report: VerifyReport, out: str | Path) -> None:
    from implicitbias.report import write_report

    folder = store.new_run_dir(out, "verify", report.level)
    report.folder = folder
    write_json(folder / "claims.json", [o.to_dict() for o in report.outcomes])
    report.report = write_report(
        folder / "report.html",
        title=f"implicitbias verify --preset {report.level}",
        outcomes=report.outcomes,
        runs=report.runs,
    )
    write_json(folder / "verify.json", report.to_dict())
