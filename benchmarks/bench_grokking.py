"""The grokking workloads: ``implicitbias.engine.train`` against PyTorch eager, and the
wall time to grok.

(1) Training steps per second, full batch, float32, AdamW (lr 1e-3, betas (0.9, 0.98),
    weight decay 1.0, eps 1e-8; ``torch.optim.AdamW`` and ``optax.adamw`` implement the
    same decoupled update), for
    - the MLP of the ``default`` preset: (a + b) mod 97, 50 % train (4704 pairs), embedding
      128 per operand, hidden 256;
    - the transformer of the ``paper`` preset: (a + b) mod 113, 30 % train (3830 pairs),
      d_model 128, 4 heads, d_mlp 512 (Nanda et al. 2023).
    The PyTorch side is the same model written in PyTorch (same computation: the query, MLP
    and unembedding at the "=" position only), started from the SAME weights (copied from
    the equinox model), trained by an eager Python loop (``zero_grad, backward, step``).
    The engine side is one warm ``train`` call logged only at the last step; its figure is
    the program time (``Trajectory.run_seconds``). Medians of interleaved repeats. The
    benchmark asserts that both sides' training losses after the timed steps agree to 1e-3
    relative (float32, different summation orders).

(2) Wall time to grok on the ``default`` preset (MLP, weight-decay member only: the
    no-weight-decay control and progress measures are switched off): ``lab.run`` once,
    first call in the process (compile included), and the step at which test accuracy
    first reaches 99 %. ``--quick`` runs the ``quick`` preset instead.

Run: ``python benchmarks/bench_grokking.py [--quick] [--repeats N] [--steps N]``. PyTorch
(``torch==2.13.0``, CPU) is imported here only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from _harness import environment, interleave, median, print_table, write_json

from implicitbias import lab
from implicitbias.datasets.modular import modular_data
from implicitbias.engine.train import train
from implicitbias.experiments import grokking as gk
from implicitbias.experiments.grokking.training import split_spec
from implicitbias.problems.modular import init_params, problem

NAME = "grokking"
HP = {"learning_rate": 1e-3, "b1": 0.9, "b2": 0.98, "weight_decay": 1.0}
REL_TOLERANCE = 1e-3


# --------------------------------------------------------------------------- PyTorch side


def torch_model(kind: str, params: Any, p: int):
    """The same model in PyTorch, with the weights of ``params`` (one member, NumPy)."""
    import torch

    def w(x):
        return torch.nn.Parameter(torch.tensor(np.asarray(x), dtype=torch.float32))

    if kind == "mlp":

        class MLP(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed, self.w1, self.b1 = w(params.embed), w(params.w1), w(params.b1)
                self.w2, self.b2 = w(params.w2), w(params.b2)

            def forward(self, x):
                e = self.embed[x].reshape(x.shape[0], -1)
                return torch.relu(e @ self.w1 + self.b1) @ self.w2 + self.b2

        return MLP()

    class Transformer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for name in (
                "embed",
                "pos",
                "w_q",
                "w_k",
                "w_v",
                "w_o",
                "w_in",
                "b_in",
                "w_out",
                "b_out",
                "unembed",
            ):
                setattr(self, name, w(getattr(params, name)))

        def forward(self, pair):
            eq = torch.full((pair.shape[0], 1), p, dtype=pair.dtype)
            x = self.embed[torch.cat([pair, eq], 1)] + self.pos  # (N, 3, d)
            q = torch.einsum("nd,hde->nhe", x[:, -1], self.w_q)
            k = torch.einsum("ntd,hde->nhte", x, self.w_k)
            v = torch.einsum("ntd,hde->nhte", x, self.w_v)
            s = torch.einsum("nhe,nhte->nht", q, k) / q.shape[-1] ** 0.5
            z = torch.einsum("nht,nhte->nhe", torch.softmax(s, -1), v)
            r = x[:, -1] + torch.einsum("nhe,hed->nd", z, self.w_o)
            r = r + torch.relu(r @ self.w_in + self.b_in) @ self.w_out + self.b_out
            return r @ self.unembed

    return Transformer()


def torch_trainer(model, x: np.ndarray, y: np.ndarray, steps: int):
    import torch

    opt = torch.optim.AdamW(
        model.parameters(),
        lr=HP["learning_rate"],
        betas=(HP["b1"], HP["b2"]),
        eps=1e-8,
        weight_decay=HP["weight_decay"],
    )
    xt, yt = torch.tensor(x, dtype=torch.long), torch.tensor(y, dtype=torch.long)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run() -> float:
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt), yt)
            loss.backward()
            opt.step()
        with torch.no_grad():
            return float(loss_fn(model(xt), yt))

    return run


# --------------------------------------------------------------------------- measurements


def steps_per_second(preset: str, steps: int, repeats: int) -> dict[str, Any]:
    """(1): one model, the engine against PyTorch eager, side by side."""
    import torch

    cfg = gk.GrokkingConfig.make(preset)
    data = modular_data(
        cfg.operation,
        cfg.p,
        cfg.train_fraction,
        jax.random.split(jax.random.PRNGKey(cfg.seed), 3)[0],
    )
    x, y = data.part("train")
    keys = jax.random.split(jax.random.PRNGKey(1), 1)
    params, static = init_params(cfg.model, cfg.p, keys, **cfg.sizes())
    loss, _ = problem(static)
    # The experiment's AdamW: b1, b2 and the decay as per-member arrays, as in a run.
    spec, hp = split_spec(cfg.optimizer, cfg.learning_rate)
    if hp != HP:
        raise RuntimeError(f"the experiment's AdamW {hp} is not the PyTorch side's {HP}")
    one = jax.tree.map(lambda a: np.asarray(a[0]), params)

    # Each contender trains from the same init every call (fresh copies).
    state: dict[str, Any] = {}

    def engine_call():
        traj = train(
            loss,
            params,
            spec,
            steps=steps,
            data=(x, y),
            hparams=hp,
            log_at=np.array([steps]),
            progress=False,
        )
        state.setdefault("engine_run", []).append(traj.run_seconds)
        state["engine_loss"] = float(traj.metrics["loss"][-1, 0])

    def torch_call():
        model = torch_model(cfg.model, one, cfg.p)
        state["torch_loss"] = torch_trainer(model, x, y, steps)()

    t0 = time.perf_counter()
    engine_call()
    first = time.perf_counter() - t0
    times = interleave({"engine": engine_call, "torch": torch_call}, repeats=repeats, warmup=1)
    engine_run = state["engine_run"][2:]  # drop the first call and the warm-up
    rel = abs(state["engine_loss"] - state["torch_loss"]) / abs(state["torch_loss"])
    return {
        "preset": preset,
        "model": cfg.model,
        "p": cfg.p,
        "train_pairs": int(len(y)),
        "params": int(sum(np.size(a) for a in jax.tree.leaves(one))),
        "steps": steps,
        "repeats": repeats,
        "torch_threads": torch.get_num_threads(),
        "engine_first_call_s": first,
        "engine_run_s": engine_run,
        "engine_wall_s": times["engine"],
        "torch_s": times["torch"],
        "engine_steps_per_s": steps / median(engine_run),
        "engine_wall_steps_per_s": steps / median(times["engine"]),
        "torch_steps_per_s": steps / median(times["torch"]),
        "ratio": median(times["torch"]) / median(engine_run),
        "ratio_wall": median(times["torch"]) / median(times["engine"]),
        "final_loss_engine": state["engine_loss"],
        "final_loss_torch": state["torch_loss"],
        "final_loss_rel_diff": rel,
    }


def time_to_grok(preset: str) -> dict[str, Any]:
    """(2): one ``lab.run`` of the preset, weight-decay member only, first call."""
    t0 = time.perf_counter()
    r = lab.run(NAME, preset, {"no_wd_control": False, "progress_measures": False}, out=None)
    wall = time.perf_counter() - t0
    main = r.scalars["main"]
    return {
        "preset": preset,
        "steps": r.config["steps"],
        "wall_s": wall,
        "compile_s": r.scalars["timing"]["compile_seconds"],
        "run_s": r.scalars["timing"]["run_seconds"],
        "steps_train_99": main["steps_train_99"],
        "steps_test_99": main["steps_test_99"],
        "final_test_acc": main["final_test_acc"],
        "seconds_to_test_99": (
            r.scalars["timing"]["run_seconds"] * main["steps_test_99"] / r.config["steps"]
        )
        if main["steps_test_99"]
        else None,
    }


# --------------------------------------------------------------------------- report


def report(rows: list[dict[str, Any]], grok: dict[str, Any]) -> None:
    print_table(
        [
            [
                f"{r['model']} ({r['preset']}, {r['train_pairs']} pairs, {r['params']} params)",
                r["engine_steps_per_s"],
                r["engine_wall_steps_per_s"],
                r["torch_steps_per_s"],
                f"{r['ratio']:.2f}x",
                f"{r['ratio_wall']:.2f}x",
                f"{r['final_loss_rel_diff']:.1e}",
            ]
            for r in rows
        ],
        header=[
            "(1) full-batch AdamW steps/s",
            "engine (program)",
            "engine (wall)",
            "PyTorch eager",
            "speed-up",
            "speed-up (wall)",
            "loss rel diff",
        ],
    )
    r0 = rows[0]
    print(
        f"(1) {r0['steps']} steps per call, medians of {r0['repeats']} interleaved repeats; "
        f"PyTorch threads: {r0['torch_threads']}; float32 on both sides"
    )
    print()
    print_table(
        [
            ["preset", grok["preset"]],
            ["steps (budget)", grok["steps"]],
            ["train acc >= 99 % at step", grok["steps_train_99"]],
            ["test acc >= 99 % at step", grok["steps_test_99"]],
            ["final test accuracy", grok["final_test_acc"]],
            ["wall time of lab.run [s]", grok["wall_s"]],
            ["  compile [s]", grok["compile_s"]],
            ["  program run [s]", grok["run_s"]],
            ["program time to test 99 % [s]", grok["seconds_to_test_99"]],
        ],
        header=["(2) time to grok (first call, weight-decay member only)", "value"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer steps and repeats; (2) on the `quick` preset"
    )
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 3; 2 quick)")
    parser.add_argument(
        "--steps", type=int, default=None, help="steps per timed call (default 30; 20 quick)"
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 3)
    steps = args.steps or (20 if args.quick else 30)
    if repeats < 1 or steps < 1:
        parser.error("--repeats and --steps must be >= 1")
    os.environ["IMPLICITBIAS_PROGRESS"] = "0"
    x64 = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", False)  # float32, as the presets
    try:
        jnp.zeros(1).block_until_ready()
        command = " ".join(["python", "benchmarks/bench_grokking.py", *(argv or [])])
        print(
            f"{NAME}: (1) engine vs PyTorch eager, {steps} steps x {repeats} repeats; "
            f"(2) time to grok on `{'quick' if args.quick else 'default'}`"
        )
        rows = [
            steps_per_second("default", steps, repeats),
            steps_per_second("paper", steps, repeats),
        ]
        grok = time_to_grok("quick" if args.quick else "default")
        env = environment()
    finally:
        jax.config.update("jax_enable_x64", x64)
    report(rows, grok)
    for r in rows:
        assert r["final_loss_rel_diff"] < REL_TOLERANCE, r
    path = write_json(
        NAME,
        {
            "benchmark": NAME,
            "command": command,
            "invoked_as": " ".join(sys.argv),
            "quick": args.quick,
            "steps_per_second": rows,
            "time_to_grok": grok,
            "environment": env,
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
