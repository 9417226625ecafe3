"""The challenges of distributed systems, as experiments (notebook 01).

- :func:`partial_failures`: a caller talks to services A (up), B (down), C (up) and D (slow or
  down) with a timeout and a few workers; slow is worse than dead.
- :func:`timeout_ambiguity`: a timed-out request may still run at the server.
- :func:`write_race`: two users write the same balance at the same moment; the network decides.
- :func:`clock_order`: two servers with skewed clocks stamp events in the wrong order.

Each returns a :class:`~distlab.experiments.Result` (``frame``, ``summary``, ``params``).

>>> from distlab.experiments.challenges import timeout_ambiguity
>>> result = timeout_ambiguity(requests=20, seed=0)
>>> int(result.summary.loc["payments", "ambiguous"]) > 0
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import check_choice, check_int, check_number, check_probability, check_seed
from distlab.experiments.network import MAX_SECONDS
from distlab.experiments.result import Result, plain_params, summary_row
from distlab.experiments.scenario import check_work
from distlab.sim import (
    Constant,
    Down,
    Exponential,
    Network,
    Service,
    Slow,
    Up,
    World,
    call,
)

__all__ = [
    "D_STATES",
    "AmbiguityResult",
    "ClockOrderResult",
    "PartialFailureResult",
    "WriteRaceResult",
    "clock_order",
    "partial_failures",
    "timeout_ambiguity",
    "write_race",
]

D_STATES = ("slow", "down", "up")
SERVICES = ("A", "B", "C", "D")


#: The most requests :func:`partial_failures` simulates (``rate_per_s * duration_s``).
MAX_REQUESTS = 100_000


@dataclass(frozen=True)
class PartialFailureResult(Result):
    """What :func:`partial_failures` returns.

    Attributes:
        frame: one row per request: ``request, service, arrival, start, end, wait_s, call_s,
            latency_s, outcome`` (``ok``, ``error``, ``timeout``). ``wait_s`` is the time spent
            waiting for a free worker at the caller, ``call_s`` the call itself, ``latency_s``
            what the user saw (arrival to answer).
        summary: one row per service (index ``service``): ``requests``, ``ok_share``, and the
            median and 99th percentile latency (``median_latency_s``, ``p99_latency_s``).
        params: the parameters, seed included.
        health: each service's state as bands (``service, start, end, state, label``; state
            ``up``, ``down`` or ``slow``).
    """

    health: pd.DataFrame


def _check_partial_failures(d_state, timeout_s, workers, rate_per_s, duration_s, **more):
    check_choice("d_state", d_state, D_STATES)
    checked = {
        "timeout_s": check_number("timeout_s", timeout_s, 0.0, MAX_SECONDS, min_inclusive=False),
        "workers": check_int("workers", workers, 1, 1000),
        "rate_per_s": check_number("rate_per_s", rate_per_s, 0.0, 10_000.0, min_inclusive=False),
        "duration_s": check_number("duration_s", duration_s, 0.0, 3600.0, min_inclusive=False),
        "service_time_s": check_number(
            "service_time_s", more["service_time_s"], 0.0, MAX_SECONDS, min_inclusive=False
        ),
        "slow_factor": check_number("slow_factor", more["slow_factor"], 1.0, 10_000.0),
        "latency_s": check_number("latency_s", more["latency_s"], 0.0, MAX_SECONDS),
    }
    asked = f"rate_per_s={checked['rate_per_s']:g} for duration_s={checked['duration_s']:g}"
    check_work("requests", checked["rate_per_s"] * checked["duration_s"], MAX_REQUESTS, asked)
    return checked


def partial_failures(
    d_state: str = "slow",
    *,
    timeout_s: float = 1.0,
    workers: int = 4,
    rate_per_s: float = 16.0,
    duration_s: float = 20.0,
    service_time_s: float = 0.05,
    slow_factor: float = 40.0,
    latency_s: float = 0.005,
    seed: int = 0,
) -> PartialFailureResult:
    """The course's four services seen from one caller with a timeout and ``workers`` workers.

    Requests arrive at the caller at ``rate_per_s`` (Poisson) for ``duration_s`` seconds, each for
    one of A, B, C, D in turn. A request waits for a free worker, then calls its service with
    ``timeout_s``. A and C are up; B is down (its host answers at once with an error, like a
    refused connection); D is ``d_state``: ``"slow"`` (its work takes ``slow_factor`` times
    longer), ``"down"`` or ``"up"``. A slow D holds the caller's workers until they time out, so
    requests for the healthy A and C queue behind it: slow is worse than dead.

    >>> slow = partial_failures("slow", seed=1).summary
    >>> dead = partial_failures("down", seed=1).summary
    >>> bool(slow.loc["A", "p99_latency_s"] > dead.loc["A", "p99_latency_s"])
    True
    """
    p = _check_partial_failures(
        d_state,
        timeout_s,
        workers,
        rate_per_s,
        duration_s,
        service_time_s=service_time_s,
        slow_factor=slow_factor,
        latency_s=latency_s,
    )
    seed = check_seed(seed)
    calls = _run_partial_failures(d_state, seed=seed, **p)
    end = max(p["duration_s"], float(calls["end"].max()) if len(calls) else p["duration_s"])
    states = {"A": "up", "B": "down", "C": "up", "D": d_state}
    health = pd.DataFrame(
        [(s, 0.0, end, states[s], states[s]) for s in SERVICES],
        columns=["service", "start", "end", "state", "label"],
    )
    params = plain_params(d_state=d_state, **p, seed=seed)
    return PartialFailureResult(calls, _service_summary(calls), params, health)


def _run_partial_failures(d_state: str, *, seed: int, **p) -> pd.DataFrame:
    """Simulate the caller and the four services; one row per request."""
    import simpy

    world = World(seed=seed)
    net = Network(world, latency=Constant(p["latency_s"]))
    net.add_node("caller")
    health = {"A": Up(), "B": Down(), "C": Up()}
    health["D"] = {"slow": Slow(p["slow_factor"]), "down": Down(), "up": Up()}[d_state]
    for name in SERVICES:
        Service(net, name, service_time=Exponential(p["service_time_s"]), health=health[name])
    pool = simpy.Resource(world.env, capacity=p["workers"])
    rate_per_s, duration_s = p["rate_per_s"], p["duration_s"]
    rows: list[tuple] = []

    def request(i: int, service: str):
        arrival = world.now
        with pool.request() as worker:
            yield worker
            start = world.now
            result = yield call(net, "caller", service, {"request": i}, p["timeout_s"])
        rows.append((i, service, arrival, start, world.now, result.outcome))

    def arrivals():
        gaps = world.rng.exponential(1.0 / rate_per_s, size=int(rate_per_s * duration_s * 2) + 10)
        for i, gap in enumerate(gaps):
            yield world.env.timeout(gap)
            if world.now > duration_s:
                return
            world.env.process(request(i, SERVICES[i % len(SERVICES)]))

    world.env.process(arrivals())
    world.run()
    calls = pd.DataFrame(rows, columns=["request", "service", "arrival", "start", "end", "outcome"])
    # (typed even when no request arrived: a tiny rate_per_s * duration_s may ask for none)
    calls = calls.astype({"request": "int64", "arrival": float, "start": float, "end": float})
    calls = calls.sort_values("request", kind="stable").reset_index(drop=True)
    calls["wait_s"] = calls["start"] - calls["arrival"]
    calls["call_s"] = calls["end"] - calls["start"]
    calls["latency_s"] = calls["end"] - calls["arrival"]
    columns = ["request", "service", "arrival", "start", "end", "wait_s", "call_s", "latency_s"]
    return calls[[*columns, "outcome"]]


def _service_summary(calls: pd.DataFrame) -> pd.DataFrame:
    """Per service: requests, share ok, and the median and 99th percentile latency (s)."""
    grouped = calls.groupby("service")
    summary = pd.DataFrame(
        {
            "requests": grouped.size(),
            "ok_share": grouped["outcome"].apply(lambda s: float((s == outcomes.OK).mean())),
            "median_latency_s": grouped["latency_s"].median(),
            "p99_latency_s": grouped["latency_s"].quantile(0.99),
        }
    )
    # Every service has its row, one that got no request too (NaN shares and latencies).
    summary = summary.reindex(pd.Index(SERVICES, name="service"))
    summary["requests"] = summary["requests"].fillna(0).astype("int64")
    return summary.astype({"ok_share": float})


@dataclass(frozen=True)
class AmbiguityResult(Result):
    """What :func:`timeout_ambiguity` returns.

    Attributes:
        frame: one row per request: ``request, sent, outcome`` (what the caller saw: ``ok`` or
            ``timeout``), ``client_done``, ``executed`` (the server finished the work),
            ``server_done`` and ``ambiguous`` (the caller saw a timeout but the work was done:
            retrying it would charge the card twice).
        summary: one row (index ``run``, label ``"payments"``): ``requests``, ``ok``,
            ``timeout``, ``executed``, ``ambiguous`` (counts) and ``ambiguous_share`` (of the
            timeouts).
        params: the parameters, seed included.
    """


def timeout_ambiguity(
    requests: int = 30,
    *,
    timeout_s: float = 0.5,
    mean_service_s: float = 0.3,
    interval_s: float = 1.0,
    latency_s: float = 0.01,
    loss: float = 0.1,
    seed: int = 0,
) -> AmbiguityResult:
    """Send ``requests`` requests (say, "charge the card") with a timeout; did they run?

    The server's work takes Exponential(``mean_service_s``) seconds and each message is lost with
    probability ``loss``. The caller gives up after ``timeout_s``, but giving up does not cancel
    the work: the server finishes it anyway. A lost request never runs; a lost response, or a
    slow one, leaves a request that ran but looks failed (see :class:`AmbiguityResult`).

    >>> result = timeout_ambiguity(requests=50, timeout_s=10.0, loss=0.0, seed=0)
    >>> int(result.summary.loc["payments", "ambiguous"])
    0
    """
    requests = check_int("requests", requests, 1, 100_000)
    timeout_s = check_number("timeout_s", timeout_s, 0.0, MAX_SECONDS, min_inclusive=False)
    mean_service_s = check_number(
        "mean_service_s", mean_service_s, 0.0, MAX_SECONDS, min_inclusive=False
    )
    interval_s = check_number("interval_s", interval_s, 0.0, MAX_SECONDS, min_inclusive=False)
    latency_s = check_number("latency_s", latency_s, 0.0, MAX_SECONDS)
    loss = check_probability("loss", loss)
    seed = check_seed(seed)

    table = _run_payments(requests, timeout_s, mean_service_s, interval_s, latency_s, loss, seed)
    frame = table[
        ["request", "sent", "outcome", "client_done", "executed", "server_done", "ambiguous"]
    ]
    params = plain_params(
        requests=requests,
        timeout_s=timeout_s,
        mean_service_s=mean_service_s,
        interval_s=interval_s,
        latency_s=latency_s,
        loss=loss,
        seed=seed,
    )
    return AmbiguityResult(frame, _ambiguity_summary(frame), params)


def _run_payments(requests, timeout_s, mean_service_s, interval_s, latency_s, loss, seed):
    """Simulate the client and the payments service; one row per request."""
    world = World(seed=seed)
    net = Network(world, latency=Constant(latency_s), loss=loss)
    net.add_node("client")
    Service(net, "payments", service_time=Exponential(mean_service_s))
    rows: list[tuple] = []

    def client():
        for i in range(requests):
            sent = world.now
            process = call(net, "client", "payments", {"charge": i}, timeout_s)
            result = yield process
            rows.append((result.request_id, i, sent, result.outcome, world.now))
            yield world.env.timeout(max(0.0, interval_s - (world.now - sent)))

    world.env.process(client())
    world.run()
    table = pd.DataFrame(rows, columns=["request_id", "request", "sent", "outcome", "client_done"])
    events = world.events()
    done = events.loc[
        (events["kind"] == "request_end") & (events["node"] == "payments"),
        ["request_id", "time"],
    ].rename(columns={"time": "server_done"})
    table = table.merge(done, on="request_id", how="left")
    table["executed"] = table["server_done"].notna()
    table["ambiguous"] = (table["outcome"] == outcomes.TIMEOUT) & table["executed"]
    return table


def _ambiguity_summary(frame: pd.DataFrame) -> pd.DataFrame:
    timeouts = int((frame["outcome"] == outcomes.TIMEOUT).sum())
    ambiguous = int(frame["ambiguous"].sum())
    return summary_row(
        "payments",
        requests=len(frame),
        ok=int((frame["outcome"] == outcomes.OK).sum()),
        timeout=timeouts,
        executed=int(frame["executed"].sum()),
        ambiguous=ambiguous,
        ambiguous_share=ambiguous / timeouts if timeouts else 0.0,
    )


@dataclass(frozen=True)
class WriteRaceResult(Result):
    """What :func:`write_race` returns.

    Attributes:
        frame: one row per trial: ``trial, sent_1, sent_2, arrived_1, arrived_2,
            final_balance``, ``winner`` (``"user 1"`` or ``"user 2"``) and ``earlier_write_won``
            (the write sent first is the one that stuck, though user 2 acted last).
        summary: one row (index ``run``, label ``"race"``): ``trials``,
            ``earlier_write_won`` (count) and ``earlier_write_won_share``.
        params: the parameters, seed included.
    """


def write_race(
    trials: int = 200,
    *,
    gap_s: float = 0.002,
    mean_latency_s: float = 0.01,
    seed: int = 0,
) -> WriteRaceResult:
    """User 1 sets a balance to 100; ``gap_s`` seconds later user 2 sets it to 200. Which wins?

    Both writes travel to the same server over a network with Exponential(``mean_latency_s``)
    latency; the server applies them in the order they arrive, so the last to arrive wins
    (see :class:`WriteRaceResult`).

    >>> share = write_race(trials=100, seed=0).summary.loc["race", "earlier_write_won_share"]
    >>> bool(0 < share < 0.5)
    True
    """
    trials = check_int("trials", trials, 1, 100_000)
    gap_s = check_number("gap_s", gap_s, 0.0, MAX_SECONDS)
    mean_latency_s = check_number(
        "mean_latency_s", mean_latency_s, 0.0, MAX_SECONDS, min_inclusive=False
    )
    seed = check_seed(seed)

    world = World(seed=seed)
    net = Network(world, latency=Exponential(mean_latency_s))
    for name in ("user 1", "user 2", "bank"):
        net.add_node(name)
    spacing = 10 * mean_latency_s + gap_s + 1.0  # trials never overlap

    def users():
        for trial in range(trials):
            net.send("user 1", "bank", (trial, 100))
            yield world.env.timeout(gap_s)
            net.send("user 2", "bank", (trial, 200))
            yield world.env.timeout(spacing - gap_s)

    world.env.process(users())
    world.run()
    frame = _race_table(world.events(), trials)
    won = int(frame["earlier_write_won"].sum())
    summary = summary_row(
        "race", trials=trials, earlier_write_won=won, earlier_write_won_share=won / trials
    )
    params = plain_params(trials=trials, gap_s=gap_s, mean_latency_s=mean_latency_s, seed=seed)
    return WriteRaceResult(frame, summary, params)


def _race_table(events: pd.DataFrame, trials: int) -> pd.DataFrame:
    sends = events[events["kind"] == "send"]
    delivers = events[events["kind"] == "deliver"].set_index("msg_id")["time"]
    table = pd.DataFrame(
        {
            "trial": np.repeat(np.arange(trials), 2),
            "user": sends["src"].to_numpy(),
            "sent": sends["time"].to_numpy(),
            "arrived": delivers.reindex(sends["msg_id"]).to_numpy(),
        }
    )
    wide = table.pivot(index="trial", columns="user", values=["sent", "arrived"])
    result = pd.DataFrame(
        {
            "trial": wide.index.to_numpy(),
            "sent_1": wide[("sent", "user 1")].to_numpy(),
            "sent_2": wide[("sent", "user 2")].to_numpy(),
            "arrived_1": wide[("arrived", "user 1")].to_numpy(),
            "arrived_2": wide[("arrived", "user 2")].to_numpy(),
        }
    )
    user_1_last = result["arrived_1"] > result["arrived_2"]
    result["final_balance"] = np.where(user_1_last, 100, 200)
    result["winner"] = np.where(user_1_last, "user 1", "user 2")
    result["earlier_write_won"] = user_1_last
    return result


@dataclass(frozen=True)
class ClockOrderResult(Result):
    """What :func:`clock_order` returns.

    Attributes:
        frame: one row per event: ``event, server, true_time, timestamp`` (seconds) and
            ``misordered`` (its timestamp is not after the previous event's, though it
            happened later).
        summary: one row (index ``run``, label ``"clocks"``): ``events``, ``misordered``
            (count) and ``misordered_share``.
        params: the parameters, seed included.
    """


def clock_order(
    events: int = 200,
    *,
    skew_s: float = 0.005,
    mean_gap_s: float = 0.005,
    seed: int = 0,
) -> ClockOrderResult:
    """Events alternate between two servers whose clocks differ by ``skew_s``: are stamps in order?

    Event i happens at a true time (gaps Exponential(``mean_gap_s``)) on server 1 (even i) or
    server 2 (odd i); server 2's clock runs ``skew_s`` seconds ahead (see
    :class:`ClockOrderResult`).

    >>> int(clock_order(events=100, skew_s=0.0, seed=0).summary.loc["clocks", "misordered"])
    0
    """
    events = check_int("events", events, 2, 1_000_000)
    skew_s = check_number("skew_s", skew_s, 0.0, MAX_SECONDS)
    mean_gap_s = check_number("mean_gap_s", mean_gap_s, 0.0, MAX_SECONDS, min_inclusive=False)
    seed = check_seed(seed)

    rng = np.random.default_rng(seed)
    true_time = np.cumsum(rng.exponential(mean_gap_s, size=events))
    server = np.where(np.arange(events) % 2 == 0, 1, 2)
    timestamp = true_time + np.where(server == 2, skew_s, 0.0)
    misordered = np.zeros(events, dtype=bool)
    misordered[1:] = timestamp[1:] <= timestamp[:-1]
    frame = pd.DataFrame(
        {
            "event": np.arange(events),
            "server": server,
            "true_time": true_time,
            "timestamp": timestamp,
            "misordered": misordered,
        }
    )
    count = int(misordered.sum())
    summary = summary_row(
        "clocks", events=events, misordered=count, misordered_share=count / events
    )
    params = plain_params(events=events, skew_s=skew_s, mean_gap_s=mean_gap_s, seed=seed)
    return ClockOrderResult(frame, summary, params)
