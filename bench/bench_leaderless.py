"""The leaderless (Dynamo) store: simulated operations per second of wall time, and the time of
the PBS-agreement experiment.

    python bench/bench_leaderless.py                    # 20,000 operations, median of 3 repeats
    python bench/bench_leaderless.py --operations 5000 --repeats 1

The run: 5 store nodes, N = 3, R = W = 2, read repair on, last-writer-wins (blind writes under
``conflicts="siblings"`` would pile up siblings, each concurrent with the others), 10 clients in
a closed loop (half reads, half writes, on 100 keys), 10 ms exponential latency; the figure is
operations answered per second of wall time, beside the ``"cp"`` (ABD) store on the same load.
Then ``quorum_visibility("LNKD-DISK")`` at its defaults (1,000 trials,
6 read times, 200,000 Monte Carlo trials). Reported, no budget.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from distlab.experiments.quorums import quorum_visibility
from distlab.sim import Exponential, Network, ReplicatedStore, World


def store_ops(operations: int, *, kind: str = "leaderless", seed: int = 0, **kw) -> float:
    """Seconds of wall time for ``kind`` to answer ``operations`` operations of 10 clients."""
    clients = 10
    world = World(seed=seed)
    net = Network(world, latency=Exponential(0.01))
    store = ReplicatedStore(net, kind, nodes=5, **kw)
    for i in range(clients):
        store.attach_client(f"c{i}", store.names[i % 5])
    rng = world.rng
    per_client = operations // clients

    def client(name: str):
        for i in range(per_client):
            f = "read" if rng.random() < 0.5 else "write"
            key = f"k{int(rng.integers(100))}"
            yield store.request(name, f, key, None if f == "read" else i)

    for i in range(clients):
        world.env.process(client(f"c{i}"))
    gc.collect()
    start = time.perf_counter()
    world.run()
    return time.perf_counter() - start


def bench(operations: int = 20_000, repeats: int = 3) -> dict[str, float]:
    """``leaderless_ops_per_s`` and ``cp_ops_per_s`` (medians over ``repeats``) and
    ``quorum_visibility_s``."""
    kinds = {
        "leaderless": dict(n=3, r=2, w=2, conflicts="lww"),
        "cp": dict(anti_entropy_s=0),
    }
    out = {}
    for kind, kw in kinds.items():
        seconds = statistics.median(
            store_ops(operations, kind=kind, seed=s, **kw) for s in range(repeats)
        )
        out[f"{kind}_ops_per_s"] = operations / seconds
    start = time.perf_counter()
    quorum_visibility("LNKD-DISK")
    out["quorum_visibility_s"] = time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    fig = bench(args.operations, args.repeats)
    print(f"leaderless store (N=3, R=W=2): {fig['leaderless_ops_per_s']:,.0f} operations/s")
    print(f"cp store (ABD, 5 nodes): {fig['cp_ops_per_s']:,.0f} operations/s")
    print(f"quorum_visibility('LNKD-DISK') at its defaults: {fig['quorum_visibility_s']:.2f} s")


if __name__ == "__main__":
    main()
