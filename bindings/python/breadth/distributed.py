"""Run an experiment past one machine, on a Ray cluster (docs/experiments.md, "Ray").

Optional: ``import breadth`` works without Ray; this module needs ``pip install "ray[data]"``.

>>> import breadth.distributed
>>> rows = breadth.distributed.run("experiment.json", "runs/big", num_actors=8)

The work is the same as ``breadth run``'s, cut the same way: every (point, block) still missing from
the output folder becomes one item of a Ray Data dataset, ``map_batches`` sends the items to a pool
of actors (each loads the experiment's models once, with ``num_gpus`` per actor when CUDA is there),
and the driver appends the blocks in order with ``Experiment.commit_block``. Blocks are the same
fixed prompt blocks as in a local run and answers depend only on seed, prompt and sample index, so
the folder ends up identical to a single-process run's; a killed job resumes like one too. Ray
schedules; breadth only says what one item is.
"""

import json
import os

from . import _breadth

__all__ = ["run"]


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "breadth.distributed needs Ray Data: pip install 'ray[data]' (breadth itself works without it)"
        ) from e
    return ray


class _Worker:
    """A Ray actor: the experiment and its models, loaded once, generating the blocks it is given."""

    def __init__(self, experiment_path):
        import breadth  # noqa: F401  (loads torch before the extension in the worker process)

        self._exp = _breadth.Experiment.load(experiment_path)
        self._models = _breadth.ModelCache(self._exp)

    def __call__(self, batch):
        lines = []
        for point, block in zip(batch["point"], batch["block"]):
            outputs = self._exp.generate_block(int(point), int(block), self._models)
            lines.append(json.dumps([[o.generations_line, o.provenance_line, o.tokens] for o in outputs]))
        return {"point": batch["point"], "block": batch["block"], "outputs": lines}


def run(experiment, out, *, num_actors=None, num_gpus_per_actor=None, evaluate=True, progress=True,
        address=None):
    """Runs ``experiment`` (a path) into ``out`` on Ray and returns one dict per point, as
    ``Experiment.run`` does.

    num_actors: actors in the pool (default: the cluster's CPUs, at most the number of items).
    num_gpus_per_actor: default 1 when CUDA is available on the driver, else 0.
    address: a Ray cluster to join; default: the running one, or a local Ray started here.
    """
    ray = _ray()
    path = os.path.abspath(experiment)
    exp = _breadth.Experiment.load(path)
    exp.prepare(out)
    items = [{"point": p, "block": b} for p in range(len(exp.points)) for b in exp.pending_blocks(out, p)]
    if items:
        if not ray.is_initialized():
            env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": env} if env else None)
        if num_gpus_per_actor is None:
            import torch

            num_gpus_per_actor = 1 if torch.cuda.is_available() else 0
        if num_actors is None:
            num_actors = max(1, min(len(items), int(ray.cluster_resources().get("CPU", 1))))
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # commit_block needs blocks in file order
        ds = ray.data.from_items(items).map_batches(
            _Worker, fn_constructor_args=(path,), batch_size=1, num_cpus=1, num_gpus=num_gpus_per_actor,
            compute=ray.data.ActorPoolStrategy(size=num_actors))
        bar = None
        if progress:
            try:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(items), desc="blocks", leave=False)
            except ImportError:
                bar = None
        try:
            for row in ds.iter_rows():
                outputs = []
                for g, p, t in json.loads(row["outputs"]):
                    o = _breadth.PromptOutput()
                    o.generations_line, o.provenance_line, o.tokens = g, p, t
                    outputs.append(o)
                exp.commit_block(out, int(row["point"]), int(row["block"]), outputs)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
    if not evaluate:
        return []
    return exp.evaluate(out).rows
