"""Scoring a re-match's blocks on Ray: a cluster's CPUs, or a Ray instance started here.

A block's work reads only what the run built before it started (:class:`BlockWork`), so
it goes to the cluster once, into Ray's object store, and is unpacked once per CPU: one
actor a CPU holds it and scores the blocks it is given by number. (As plain tasks, every
block unpacked the whole work again, megabytes of records' columns: a Ray CPU scored at
about a third of a local worker's rate.) Results come back as blocks finish, in any
order, and the caller stores each with its checkpoint as with local workers. At most a
few blocks per CPU are in flight: the cluster is kept busy while the caller stores, and
neither side holds more than a few blocks' pairs.

Ray is optional (the ``ray`` extra) and imported only when asked for: without it the
product runs as before, and asking for Ray says it is not installed
(:class:`RayNotInstalledError`). The cluster's workers import this package to run the
tasks: the nodes need xunqin installed, in the version the job runs.

Errors::

    RayExecutorError
    ├── RayNotInstalledError    asked for Ray, and Ray is not installed here
    └── RayUnreachableError     no Ray cluster answered at the address
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Generator, Sequence
from typing import Any

from usecases.rematch_blocks import BlockResult, BlockWork, default_workers

logger = logging.getLogger(__name__)

IN_FLIGHT_PER_CPU = 2
"""Tasks submitted per CPU of the cluster before the first of them is back."""


class RayExecutorError(Exception):
    """The re-match was asked to run on Ray, and cannot."""


class RayNotInstalledError(RayExecutorError):
    """Ray is not installed where the re-match runs."""

    def __init__(self) -> None:
        super().__init__(
            "未安装 Ray，无法在 Ray 上重新比对：请安装 ray 可选依赖（pip install 'xunqin[ray]'），"
            "或改用本机执行（--executor local） / Ray is not installed: install the ray extra "
            "(pip install 'xunqin[ray]') or run the re-match here (--executor local)"
        )


class RayUnreachableError(RayExecutorError):
    """No Ray cluster answered at the address."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(
            f"无法连接 Ray 集群 {address}：{reason} / cannot reach the Ray cluster at "
            f"{address}: {reason}"
        )
        self.address = address


def require_ray() -> None:
    """RayNotInstalledError unless Ray can be imported here (a run asked to use Ray checks
    before it starts)."""
    try:
        import ray  # noqa: F401
    except ImportError as error:
        raise RayNotInstalledError() from error


class _BlockScorer:
    """A Ray actor holding the run's work, unpacked once, scoring blocks by number."""

    def __init__(self, work: BlockWork) -> None:
        self._work = work

    def score(self, number: int) -> BlockResult:
        """Score one block."""
        return self._work(number)


def _connect(address: str | None, workers: int) -> bool:
    """Join the cluster at ``address``, or start a Ray instance here with ``workers``
    CPUs (0: one per core); a Ray instance this process is already connected to is used
    as it is. Whether it connected (and so is to shut down)."""
    import ray

    if ray.is_initialized():
        logger.info("re-match on Ray: using the Ray instance this process is connected to")
        return False
    if address is None:
        ray.init(address="local", num_cpus=workers or default_workers(), include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)  # fmt: skip
        return True
    try:
        ray.init(address=address, log_to_driver=False, ignore_reinit_error=True)
    except ConnectionError as error:
        raise RayUnreachableError(address, str(error)) from error
    return True


def run_blocks_on_ray(
    work: BlockWork,
    numbers: Sequence[int],
    *,
    address: str | None,
    workers: int = 0,
    in_flight: int | None = None,
) -> Generator[BlockResult, None, None]:
    """Score the blocks ``numbers`` as Ray tasks, yielding each as it is done (in any
    order).

    ``address`` is a cluster's (``ray://head:10001``, ``auto``); None starts a Ray
    instance here with ``workers`` CPUs (0: one per core), unless this process is
    connected to one already. ``in_flight`` bounds the tasks submitted and not yet
    returned (default: two per CPU of the cluster). What it connected to, it disconnects
    from (shutting down the instance it started) when done or stopped; tasks still
    running when the caller stops are cancelled.
    """
    try:
        import ray
    except ImportError as error:
        raise RayNotInstalledError() from error
    if not numbers:
        return
    connected = _connect(address, workers)
    scorers: list[Any] = []
    try:
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        cpus = max(1, int(resources.get("CPU", 1)))
        bound = max(1, in_flight if in_flight is not None else IN_FLIGHT_PER_CPU * cpus)
        actor = ray.remote(num_cpus=1)(_BlockScorer)
        shared = ray.put(work)
        scorers = [actor.remote(shared) for _ in range(min(cpus, bound, len(numbers)))]
        logger.info("re-match on Ray: %d blocks, %d scorers, at most %d blocks in flight",
                    len(numbers), len(scorers), bound)  # fmt: skip
        waiting = iter(numbers)
        # Each block goes to the scorer that holds fewest, so a slow one is not given more.
        holding = dict.fromkeys(range(len(scorers)), 0)
        running: dict[Any, int] = {}

        def submit(number: int) -> None:
            chosen = min(holding, key=lambda k: (holding[k], k))
            running[scorers[chosen].score.remote(number)] = chosen
            holding[chosen] += 1

        for number in itertools.islice(waiting, bound):
            submit(number)
        while running:
            (done,), _ = ray.wait(list(running), num_returns=1)
            holding[running.pop(done)] -= 1
            result: BlockResult = ray.get(done)
            # The next block goes before this one is handed over, while it is stored.
            following = next(waiting, None)
            if following is not None:
                submit(following)
            yield result
    finally:
        # Blocks still being scored when the caller stops go with their scorers.
        for scorer in scorers:
            ray.kill(scorer)
        if connected:
            ray.shutdown()
