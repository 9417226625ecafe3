"""Message throughput of ``distlab.sim.Network`` against bare SimPy passing the same messages.

Both sides run in the same process, interleaved, on the same workload: ``messages`` messages between
10 nodes (sources and destinations drawn once from a seeded generator), sent by one process in
bursts of 100 every simulated millisecond, each taking an Exponential(10 ms) latency drawn in the
same blocks from ``numpy.random.default_rng(seed)``, and drained by one receiving process per node.
The baseline delivers each message with ``env.timeout(latency)`` + a callback doing
``simpy.Store.put``; ``Network`` does the same plus its checks (crash, partition, loss) and its
event log (on, the default). The two take turns, ``repeats`` rounds (7 by default), each round
in the other order; the rates are medians of the rounds' wall-clock times, and the ratio is the
median of the rounds' own ratios (each of two runs a second apart, so that this machine's drift
in speed, a fifth within a minute, falls on both sides of a round alike).

    python bench/bench_network.py            # prints network_msgs_per_s, simpy_msgs_per_s, ratio

The design budget (DESIGN.md) is ratio >= 0.8.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import simpy

from distlab.sim import Exponential, Network, World

NODES = 10
BURST = 100
TICK_S = 0.001
MEAN_LATENCY_S = 0.01
SEED = 12345


def _workload(messages: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(SEED + 1)
    names = [f"n{i}" for i in range(NODES)]
    src = [names[i] for i in rng.integers(0, NODES, messages)]
    dst = [names[i] for i in rng.integers(0, NODES, messages)]
    return src, dst


def _run_network(src: list[str], dst: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    world = World(seed=SEED)
    net = Network(world, latency=Exponential(MEAN_LATENCY_S))
    env = world.env
    received = [0]
    for i in range(NODES):
        node = net.add_node(f"n{i}")

        def drain(node=node):
            while True:
                yield node.recv()
                received[0] += 1

        env.process(drain())

    def sender():
        send = net.send
        for k in range(len(src)):
            send(src[k], dst[k], k)
            if k % BURST == BURST - 1:
                yield env.timeout(TICK_S)

    env.process(sender())
    world.run()
    return time.perf_counter() - start, received[0]


def _run_simpy(src: list[str], dst: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    env = simpy.Environment()
    rng = np.random.default_rng(SEED)
    dist = Exponential(MEAN_LATENCY_S)
    stores: dict[str, simpy.Store] = {}
    received = [0]
    for i in range(NODES):
        store = stores[f"n{i}"] = simpy.Store(env)

        def drain(store=store):
            while True:
                yield store.get()
                received[0] += 1

        env.process(drain())

    def deliver(event):
        msg = event.value
        stores[msg[1]].put(msg)

    def sender():
        # Latencies drawn exactly as Network draws them: blocks of 64, doubling up to 4096.
        buf: list[float] = []
        i = 0
        block = 64
        for k in range(len(src)):
            if i >= len(buf):
                buf = dist.sample(rng, block).tolist()
                i = 0
                block = min(block * 2, 4096)
            delay = buf[i]
            i += 1
            env.timeout(delay, (src[k], dst[k], k, env.now)).callbacks.append(deliver)
            if k % BURST == BURST - 1:
                yield env.timeout(TICK_S)

    env.process(sender())
    env.run()
    return time.perf_counter() - start, received[0]


def measure(messages: int = 200_000, repeats: int = 7) -> dict[str, float]:
    """Median messages per second through ``Network`` and through bare SimPy, and the median of
    the rounds' ratios.

    >>> figures = measure(messages=20_000, repeats=1)
    >>> sorted(figures)
    ['network_msgs_per_s', 'ratio', 'simpy_msgs_per_s']
    """
    src, dst = _workload(messages)
    _run_network(src[:2000], dst[:2000])  # warm up imports and caches
    _run_simpy(src[:2000], dst[:2000])
    times: dict[str, list[float]] = {"Network": [], "SimPy": []}
    runs = {"Network": _run_network, "SimPy": _run_simpy}
    for round_ in range(repeats):
        for name in sorted(runs, reverse=round_ % 2 == 1):
            t, got = runs[name](src, dst)
            assert got == messages, f"{name} delivered {got} of {messages}"
            times[name].append(t)
    ratios = [simpy / net for net, simpy in zip(times["Network"], times["SimPy"])]
    return {
        "network_msgs_per_s": messages / statistics.median(times["Network"]),
        "simpy_msgs_per_s": messages / statistics.median(times["SimPy"]),
        "ratio": statistics.median(ratios),
    }


if __name__ == "__main__":
    figures = measure()
    print(f"network_msgs_per_s  {figures['network_msgs_per_s']:>12,.0f}")
    print(f"simpy_msgs_per_s    {figures['simpy_msgs_per_s']:>12,.0f}")
    print(f"ratio               {figures['ratio']:>12.2f}   (budget: >= 0.8)")
