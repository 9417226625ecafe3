"""Convergence of a leaderless store (issue 11, experiment 4, first two items).

- :func:`anti_entropy_convergence`: how long the replicas take to agree once a partition heals,
  against the anti-entropy period. Clients write on both sides of a partition (``w = 1``, so both
  sides accept writes); without read repair or hinted handoff, only anti-entropy brings the
  replicas together, and without it they never agree: eventual consistency is a liveness promise
  with no bound unless a mechanism, at a rate, provides one.
- :func:`lost_updates`: a shopping cart under last-writer-wins against siblings kept with
  version vectors. Clients add items by read-modify-write; concurrent writers (more of them,
  and for longer during a partition) overwrite each other under ``"lww"``, while
  ``"siblings"`` returns concurrent carts together and the client's merge (union) keeps every
  item (Dynamo's shopping cart); under ``"crdt"`` the cart is an OR-set
  (:class:`~distlab.crdt.ORSet`) that the store itself merges, so no item is lost and no read
  returns siblings.

>>> res = anti_entropy_convergence((0.1, 0.5), partition_s=1.0, writes_per_s=10)
>>> res.summary[["converged", "converge_s"]].round(2).to_dict("list")
{'converged': [True, True], 'converge_s': [0.11, 0.41]}
>>> cart = lost_updates(clients=4, adds=5, partition_s=1.0)
>>> cart.summary[["adds_acked", "lost"]].to_dict("index")
{'lww': {'adds_acked': 20, 'lost': 10}, 'siblings': {'adds_acked': 20, 'lost': 0}}
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import check_choices, check_int, check_number, check_seed
from distlab.crdt import ORSet
from distlab.experiments.result import Result, plain_params
from distlab.experiments.scenario import check_work, poisson_arrivals, stack_variants
from distlab.sim import Exponential, Network, ReplicatedStore, World
from distlab.sim.versions import CONFLICT_MODES, Siblings, Versioned

__all__ = [
    "ConvergenceResult",
    "LostUpdatesResult",
    "MAX_WRITES",
    "anti_entropy_convergence",
    "lost_updates",
]

#: Most writes (or read-modify-writes) one run simulates.
MAX_WRITES = 50_000
_LATENCY_S = 0.005


@dataclass(frozen=True)
class ConvergenceResult(Result):
    """What :func:`anti_entropy_convergence` returns.

    ``frame``: one row per anti-entropy period (``variant``, its label): ``anti_entropy_s``
    (0 = off), ``writes`` and ``writes_ok`` during the partition, ``divergent_keys`` at the heal
    (keys whose replicas disagree), ``converged`` (within ``horizon_s`` of the heal) and
    ``converge_s`` (from the heal to the first moment all replicas agree; NaN if never).
    ``summary``: the same numbers indexed by ``variant``, with ``periods`` (``converge_s`` in
    anti-entropy periods).
    """


@dataclass(frozen=True)
class LostUpdatesResult(Result):
    """What :func:`lost_updates` returns.

    ``frame``: one row per add (a read then a write): ``variant`` (``"lww"``, ``"siblings"``
    or ``"crdt"``), ``client``, ``item``, ``start``, ``end``, ``outcome`` (the write's),
    ``siblings`` (how many versions the read returned), ``during_partition`` and ``kept`` (the
    item is in the final cart). ``summary`` per variant: ``adds``, ``adds_acked``, ``kept``,
    ``lost`` (acknowledged adds missing from the final cart), ``lost_share``,
    ``reads_with_siblings``, ``max_siblings`` and ``converged``.
    """


def _side_groups(nodes: int) -> tuple[list[str], list[str]]:
    names = [f"n{i}" for i in range(1, nodes + 1)]
    return names[: nodes // 2], names[nodes // 2 :]


def _check_common(nodes, partition_s, seed) -> tuple[int, float, int]:
    return (
        check_int("nodes", nodes, 2, 15),
        check_number("partition_s", partition_s, 0.0, 3600.0),
        check_seed(seed),
    )


def anti_entropy_convergence(
    anti_entropy_s: Any = (0.05, 0.1, 0.2, 0.5, 1.0, 0.0),
    *,
    nodes: int = 5,
    partition_s: float = 2.0,
    writes_per_s: float = 20.0,
    keys: int = 20,
    horizon_s: float = 60.0,
    seed: int = 0,
) -> ConvergenceResult:
    """For each anti-entropy period in ``anti_entropy_s`` (seconds; 0 = off), one run: the
    nodes split into two sides for ``partition_s`` seconds while a client on each side writes
    ``writes_per_s`` random keys of ``keys``; then the heal, and the time until every replica
    agrees (watched for ``horizon_s``). Leaderless store, ``n`` = ``nodes``, ``r = w = 1``, no
    read repair; 5 ms mean latency.

    >>> res = anti_entropy_convergence((0.2, 0.0), partition_s=0.5, writes_per_s=5)
    >>> res.summary["converged"].to_dict()
    {'0.2 s': True, 'off': False}
    """
    if isinstance(anti_entropy_s, numbers.Real):
        anti_entropy_s = (anti_entropy_s,)
    if isinstance(anti_entropy_s, (str, bytes)) or not hasattr(anti_entropy_s, "__iter__"):
        raise TypeError(f"anti_entropy_s={anti_entropy_s!r} must be a sequence of periods (s)")
    periods = tuple(check_number("anti_entropy_s", p, 0.0, 3600.0) for p in anti_entropy_s)
    if not periods or len(set(periods)) != len(periods):
        raise ValueError(f"anti_entropy_s={anti_entropy_s!r} must hold distinct periods")
    for period in periods:
        if 0 < period < 1e-3:
            raise ValueError(f"anti_entropy_s={period:g} must be 0 (off) or at least 0.001")
    nodes, partition_s, seed = _check_common(nodes, partition_s, seed)
    rate = check_number("writes_per_s", writes_per_s, 0.0, 10_000.0)
    keys = check_int("keys", keys, 1, 10_000)
    horizon_s = check_number("horizon_s", horizon_s, 0.0, 3600.0, min_inclusive=False)
    check_work(
        "writes", 2 * rate * partition_s, MAX_WRITES,
        f"writes_per_s={rate:g} for partition_s={partition_s:g}",
    )  # fmt: skip
    smallest = min([p for p in periods if p > 0], default=1.0)
    check_work(
        "anti-entropy rounds", nodes * horizon_s / smallest, 2_000_000, f"horizon_s={horizon_s:g}"
    )
    rows = [_convergence_run(p, nodes, partition_s, rate, keys, horizon_s, seed) for p in periods]
    frame = pd.DataFrame(rows)
    summary = frame.set_index("variant")
    summary["periods"] = [
        c / p if p > 0 and c == c else math.nan
        for c, p in zip(summary["converge_s"], summary["anti_entropy_s"])
    ]
    params = plain_params(
        anti_entropy_s=periods, nodes=nodes, partition_s=partition_s, writes_per_s=rate,
        keys=keys, horizon_s=horizon_s, seed=seed,
    )  # fmt: skip
    return ConvergenceResult(frame=frame, summary=summary, params=params)


def _convergence_run(period, nodes, partition_s, rate, keys, horizon_s, seed) -> dict[str, Any]:
    world = World(seed=seed)
    net = Network(world, latency=Exponential(_LATENCY_S))
    store = ReplicatedStore(
        net, "leaderless", nodes, n=nodes, r=1, w=1, read_repair=False, anti_entropy_s=period
    )
    left, right = _side_groups(nodes)
    for client, node in (("cl", left[0]), ("cr", right[0])):
        store.attach_client(client, node)
    net.partition([*left, "cl"], [*right, "cr"])
    rng = np.random.default_rng(seed)
    writes: list[Any] = []
    for client in ("cl", "cr"):
        for at in poisson_arrivals(rng, rate, partition_s):
            key = f"k{int(rng.integers(keys))}"
            writes.append(_write_at(store, client, key, len(writes), float(at)))
    world.run(until=partition_s)
    net.heal()
    divergent = sum(len({store.get(n, f"k{k}") for n in store.names}) > 1 for k in range(keys))
    store.watch_convergence(partition_s)
    end = partition_s + horizon_s
    while store.converged_at is None and world.now < end:
        world.run(until=min(end, world.now + max(period, 0.1)))
    converged = store.converged_at is not None
    ok = sum(w.triggered and w.value.outcome == outcomes.OK for w in writes)
    return dict(
        variant="off" if period == 0 else f"{period:g} s",
        anti_entropy_s=period,
        writes=len(writes),
        writes_ok=ok,
        divergent_keys=divergent,
        converged=converged,
        converge_s=store.converged_at - partition_s if converged else math.nan,
    )


def _write_at(store: ReplicatedStore, client: str, key: str, value: int, at: float):
    env = store.env

    def go():
        yield env.timeout(at)
        return (yield store.request(client, "write", key, value))

    return env.process(go())


def lost_updates(
    conflicts: Any = ("lww", "siblings"),
    *,
    clients: int = 4,
    adds: int = 10,
    think_s: float = 0.05,
    nodes: int = 3,
    partition_at_s: float = 0.1,
    partition_s: float = 1.0,
    anti_entropy_s: float = 0.2,
    seed: int = 0,
) -> LostUpdatesResult:
    """``clients`` clients (spread over ``nodes`` store nodes, each side of the partition) each
    add ``adds`` items to one cart by read-modify-write, thinking ``think_s`` (exponential mean)
    before each; the nodes split into two sides from ``partition_at_s`` for ``partition_s``.
    Leaderless store, ``r = w = 1`` (both sides accept writes), read repair and anti-entropy
    every ``anti_entropy_s``; after the last add and a settling time the final cart is read from
    every replica. Under ``"siblings"`` a client unions the siblings it reads; under ``"crdt"``
    the cart is an :class:`~distlab.crdt.ORSet` the client adds to (the store merges).

    >>> res = lost_updates("siblings", clients=2, adds=3, partition_s=0.0)
    >>> res.summary.loc["siblings", ["adds_acked", "lost"]].tolist()
    [6, 0]
    >>> res = lost_updates(("lww", "crdt"), clients=4, adds=5, partition_s=1.0)
    >>> res.summary[["adds_acked", "lost"]].to_dict("index")
    {'lww': {'adds_acked': 20, 'lost': 10}, 'crdt': {'adds_acked': 20, 'lost': 0}}
    """
    modes = _conflict_modes(conflicts)
    clients = check_int("clients", clients, 1, 100)
    adds = check_int("adds", adds, 1, 10_000)
    check_work("adds", clients * adds * len(modes), MAX_WRITES, f"clients={clients} * adds={adds}")
    think_s = check_number("think_s", think_s, 0.0, 3600.0, min_inclusive=False)
    nodes, partition_s, seed = _check_common(nodes, partition_s, seed)
    at = check_number("partition_at_s", partition_at_s, 0.0, 3600.0)
    ae = check_number("anti_entropy_s", anti_entropy_s, 1e-3, 3600.0)
    runs = [
        (m, _cart_run(m, clients, adds, think_s, nodes, at, partition_s, ae, seed)) for m in modes
    ]
    frame = stack_variants([(m, f) for m, (f, _) in runs])
    summary = pd.DataFrame(
        [_cart_summary(f, converged) for _, (f, converged) in runs],
        index=pd.Index(list(modes), name="variant"),
    )
    params = plain_params(
        conflicts=modes, clients=clients, adds=adds, think_s=think_s, nodes=nodes,
        partition_at_s=at, partition_s=partition_s, anti_entropy_s=ae, seed=seed,
    )  # fmt: skip
    return LostUpdatesResult(frame=frame, summary=summary, params=params)


def _conflict_modes(conflicts: Any) -> tuple[str, ...]:
    return check_choices("conflicts", conflicts, CONFLICT_MODES, noun="a mode")


def _cart_summary(frame: pd.DataFrame, converged: bool) -> dict[str, Any]:
    acked = frame["outcome"] == outcomes.OK
    lost = int((acked & ~frame["kept"]).sum())
    return dict(
        adds=len(frame),
        adds_acked=int(acked.sum()),
        kept=int((acked & frame["kept"]).sum()),
        lost=lost,
        lost_share=lost / max(1, int(acked.sum())),
        reads_with_siblings=int((frame["siblings"] > 1).sum()),
        max_siblings=int(frame["siblings"].max()),
        converged=converged,
    )


def _items(result: Any) -> set:
    if result is None:
        return set()
    if isinstance(result, Siblings):
        return set().union(*(set(v) for v in result.values))
    if isinstance(result, ORSet):
        return set(result.elements)
    return set(result)


def _cart_run(mode, clients, adds, think_s, nodes, at, partition_s, ae, seed):
    world = World(seed=seed)
    net = Network(world, latency=Exponential(_LATENCY_S))
    store = ReplicatedStore(
        net, "leaderless", nodes, n=nodes, r=1, w=1, anti_entropy_s=ae, conflicts=mode
    )
    left, right = _side_groups(nodes)
    homes = [store.names[i % nodes] for i in range(clients)]
    for i, home in enumerate(homes):
        store.attach_client(f"c{i}", home)
    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(seed)
    env = world.env

    def client(i: int):
        for k in range(adds):
            yield env.timeout(float(rng.exponential(think_s)))
            start = env.now
            read = yield store.request(f"c{i}", "read", "cart")
            if read.outcome != outcomes.OK:
                continue
            seen = len(read.result) if isinstance(read.result, Siblings) else 1
            item = f"c{i}-{k}"
            if mode == "crdt":
                value = (read.result or ORSet()).add(item, f"c{i}")
            else:
                cart = tuple(sorted(_items(read.result) | {item}))
                value = Versioned(cart, read.stamp) if mode == "siblings" else cart
            write = yield store.request(f"c{i}", "write", "cart", value)
            during = at <= start < at + partition_s
            rows.append(
                dict(client=f"c{i}", item=item, start=start, end=env.now,
                     outcome=write.outcome, siblings=seen, during_partition=during)
            )  # fmt: skip

    def partition():
        yield env.timeout(at)
        clients_of = {n: [f"c{i}" for i, h in enumerate(homes) if h == n] for n in store.names}
        net.partition(
            [*left, *(c for n in left for c in clients_of[n])],
            [*right, *(c for n in right for c in clients_of[n])],
        )
        yield env.timeout(partition_s)
        net.heal()

    env.process(partition())
    procs = [env.process(client(i)) for i in range(clients)]
    world.run(until=env.all_of(procs))
    world.run(until=max(world.now, at + partition_s) + 20 * ae + 1.0)
    final = set().union(*(_items(store.get(n, "cart")[1]) for n in store.names))
    frame = pd.DataFrame(
        rows, columns=["client", "item", "start", "end", "outcome", "siblings", "during_partition"]
    )
    frame["kept"] = frame["item"].isin(final)
    return frame.sort_values(["start", "client"], ignore_index=True), store.converged()
