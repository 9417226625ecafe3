"""Two merges that lose information, beside the CRDTs that do not (notebook 05, experiment 4).

- :func:`cart_partition`: shopping carts on replicas that diverge during a partition. Merged by
  set union (Dynamo's cart), a deletion made on one side comes back when the sides merge; the
  OR-set (:class:`distlab.crdt.ORSet`) keeps it deleted. The OR-set is *add-wins*: a remove
  deletes only the adds it has seen, so an add concurrent with a remove keeps the item (counted
  apart, not an anomaly: it is the semantics chosen).
- :func:`counter_redelivery`: per-replica counts broadcast over a network that redelivers some
  messages. Merged by sum, every redelivered state is counted again; the G-counter's
  element-wise max (:class:`distlab.crdt.GCounter`) counts it once.

Both are pure functions of their parameters and seed; no simulated network is needed (the
replicas exchange whole states in rounds).

>>> r = cart_partition(carts=100, seed=0)
>>> r.summary.loc[["union", "or_set"], "resurrected"].tolist()
[57, 0]
>>> c = counter_redelivery(duplicates=[0.3], seed=1)
>>> c.summary["over_count"].round(1).tolist()
[11.5, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import check_int, check_number, check_probability, check_seed
from distlab.crdt import GCounter, ORSet, sum_merge, union_merge
from distlab.experiments.result import Result, plain_params
from distlab.experiments.scenario import check_work

__all__ = [
    "CATALOG",
    "CART_VARIANTS",
    "COUNTER_VARIANTS",
    "CartResult",
    "CounterResult",
    "cart_partition",
    "counter_redelivery",
]

#: The items a cart can hold (``items`` takes the first ones).
CATALOG = ("book", "phone", "mug", "lamp", "pen", "socks", "kettle", "scarf")
#: The cart merges compared: set union (Dynamo's) and the OR-set.
CART_VARIANTS = ("union", "or_set")
#: The counter merges compared: entry-wise sum and the G-counter's max.
COUNTER_VARIANTS = ("sum", "g_counter")
#: The most operations (cart operations, counter deliveries) one call simulates.
MAX_OPERATIONS = 1_000_000


@dataclass(frozen=True)
class CartResult(Result):
    """What :func:`cart_partition` returns.

    Attributes:
        frame: one row per ``(variant, cart, item)`` added at least once: ``adds, removes``
            (operations on it), ``intended`` (in the cart by add-wins semantics, worked out from
            which adds each remove had seen), ``in_cart`` (in the merged cart under the
            variant), ``concurrent`` (an add the removes had not seen was made without seeing
            them: add-wins keeps the item) and ``outcome``: ``lost_write`` when the merge
            disagrees with ``intended`` (a deletion undone, or an add lost), else ``ok``.
        summary: one row per variant: ``carts, removed_items`` (items removed at least once),
            ``resurrected`` (deleted items back in the cart), ``carts_affected``,
            ``lost_adds`` and ``concurrent_kept`` (items kept by add-wins).
        operations: one row per operation: ``cart, step, replica, op`` (``add``/``remove``),
            ``item`` and ``partitioned`` (made while the sides were cut off).
    """

    operations: pd.DataFrame


class _Cart:
    """One cart on ``n`` replicas: the union sets, the OR-sets, and what each replica has seen
    (the operation ids: ground truth for add-wins, kept apart from the OR-set's tags)."""

    def __init__(self, n: int) -> None:
        self.union = [frozenset()] * n
        self.orset = [ORSet()] * n
        self.seen: list[frozenset] = [frozenset()] * n
        self.ops: list[dict[str, Any]] = []

    def view(self, i: int) -> list[str]:
        """What a shopper on replica ``i`` sees: the items of add-wins semantics there."""
        return sorted(self.intended(self.seen[i]))

    def intended(self, seen: frozenset) -> set[str]:
        """Add-wins over the operations ``seen``: the items of the adds no seen remove saw."""
        observed = set().union(*(self.ops[k]["observed"] for k in seen if self.ops[k]["removes"]))
        return {
            self.ops[k]["item"] for k in seen if not self.ops[k]["removes"] and k not in observed
        }

    def apply(self, i: int, op: str, item: str, name: str) -> None:
        k = len(self.ops)
        adds = {
            a for a in self.seen[i] if not self.ops[a]["removes"] and self.ops[a]["item"] == item
        }
        self.ops.append({"item": item, "removes": op == "remove", "observed": adds,
                         "saw": self.seen[i]})  # fmt: skip
        self.seen[i] = self.seen[i] | {k}
        if op == "add":
            self.union[i] = self.union[i] | {item}
            self.orset[i] = self.orset[i].add(item, name)
        else:
            self.union[i] = self.union[i] - {item}
            self.orset[i] = self.orset[i].remove(item)

    def push(self, src: int, dst: int) -> None:
        """``src``'s state merged into ``dst``'s. The union cart merges as Dynamo's does: a
        state that has seen everything the other has replaces it (version vectors; here the
        sets of operations seen), and only concurrent states (siblings) are merged by union."""
        if self.seen[dst] <= self.seen[src]:
            self.union[dst] = self.union[src]
        elif not self.seen[src] <= self.seen[dst]:
            self.union[dst] = union_merge(self.union[dst], self.union[src])
        self.orset[dst] = self.orset[dst].merge(self.orset[src])
        self.seen[dst] = self.seen[dst] | self.seen[src]


def _dynamo_merge(cart: _Cart) -> frozenset:
    """The heal: the replicas' carts that no other has seen past (the siblings), unioned."""
    n = len(cart.seen)
    latest = [
        i for i in range(n)
        if not any(cart.seen[i] < cart.seen[j] or (cart.seen[i] == cart.seen[j] and j < i)
                   for j in range(n))
    ]  # fmt: skip
    final: frozenset = frozenset()
    for i in latest:
        final = union_merge(final, cart.union[i])
    return final


def _item_rows(cart: _Cart, index: int) -> list[dict[str, Any]]:
    """The merged cart (all replicas after the heal), item by item, for both variants."""
    final_union = _dynamo_merge(cart)
    final_orset = ORSet()
    for state in cart.orset:
        final_orset = final_orset.merge(state)
    everything = frozenset(range(len(cart.ops)))
    intended = cart.intended(everything)
    rows = []
    for item in sorted({op["item"] for op in cart.ops}):
        ids = [k for k, op in enumerate(cart.ops) if op["item"] == item]
        adds = [k for k in ids if not cart.ops[k]["removes"]]
        removes = [k for k in ids if cart.ops[k]["removes"]]
        observed = set().union(*(cart.ops[k]["observed"] for k in removes))
        concurrent = any(
            a not in observed and not any(rm in cart.ops[a]["saw"] for rm in removes) for a in adds
        ) and bool(removes)
        for variant, final in (("union", final_union), ("or_set", final_orset.elements)):
            wrong = (item in final) != (item in intended)
            rows.append({
                "variant": variant, "cart": index, "item": item, "adds": len(adds),
                "removes": len(removes), "intended": item in intended, "in_cart": item in final,
                "concurrent": concurrent,
                "outcome": outcomes.LOST_WRITE if wrong else outcomes.OK,
            })  # fmt: skip
    return rows


def _sides(n: int) -> np.ndarray:
    """Which side of the partition each replica is on: the first half against the rest."""
    return (np.arange(n) >= (n + 1) // 2).astype(int)


def _one_cart(rng: np.random.Generator, index: int, spec: dict[str, Any]) -> tuple:
    n, steps = spec["replicas"], spec["operations"]
    cart, sides, ops = _Cart(n), _sides(n), []
    start, end = (round(f * steps) for f in spec["partition"])
    names = [f"r{i}" for i in range(n)]
    for step in range(steps):
        cut = start <= step < end
        i = int(rng.integers(n))
        view = cart.view(i)
        if view and rng.random() < spec["remove_share"]:
            op, item = "remove", view[int(rng.integers(len(view)))]
        else:
            op, item = "add", CATALOG[int(rng.integers(spec["items"]))]
        cart.apply(i, op, item, names[i])
        ops.append({"cart": index, "step": step, "replica": names[i], "op": op, "item": item,
                    "partitioned": cut})  # fmt: skip
        for src in range(n):  # gossip: each replica pushes to each peer it can reach
            for dst in range(n):
                reachable = dst != src and (not cut or sides[dst] == sides[src])
                if reachable and rng.random() < spec["gossip"]:
                    cart.push(src, dst)
    return _item_rows(cart, index), ops


def _cart_summary(frame: pd.DataFrame, carts: int) -> pd.DataFrame:
    rows = {}
    for variant in CART_VARIANTS:
        part = frame[frame["variant"] == variant]
        back = part["in_cart"] & ~part["intended"] & (part["removes"] > 0)
        lost = ~part["in_cart"] & part["intended"]
        rows[variant] = {
            "carts": carts,
            "removed_items": int((part["removes"] > 0).sum()),
            "resurrected": int(back.sum()),
            "carts_affected": int(part.loc[back, "cart"].nunique()),
            "lost_adds": int(lost.sum()),
            "concurrent_kept": int((part["in_cart"] & part["concurrent"]).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant")


def cart_partition(
    *,
    replicas: int = 3,
    carts: int = 200,
    operations: int = 12,
    items: int = 6,
    remove_share: float = 0.4,
    partition: Sequence[float] = (0.25, 0.75),
    gossip: float = 0.8,
    seed: int = 0,
) -> CartResult:
    """``carts`` shopping carts, each edited by ``operations`` operations on random replicas
    (a remove, with probability ``remove_share``, of an item the shopper sees there; else an
    add of one of the first ``items`` of :data:`CATALOG`). After each operation every replica
    pushes its state, with probability ``gossip``, to each peer it can reach; while the
    partition is on (the fractions ``partition`` of the operations) the first half of the
    replicas and the rest cannot reach each other. Then the partition heals and every replica's
    state is merged: by union and as OR-sets. See :class:`CartResult`.

    >>> r = cart_partition(carts=50, seed=1)
    >>> back = r.summary["resurrected"]
    >>> bool(back["union"] > 0 and back["or_set"] == 0)
    True
    """
    spec = {
        "replicas": check_int("replicas", replicas, 2, 50),
        "operations": check_int("operations", operations, 1, 10_000),
        "items": check_int("items", items, 1, len(CATALOG)),
        "remove_share": check_probability("remove_share", remove_share),
        "partition": _window(partition),
        "gossip": check_probability("gossip", gossip),
    }
    carts = check_int("carts", carts, 1, 100_000)
    seed = check_seed(seed)
    check_work("operations", carts * spec["operations"] * spec["replicas"], MAX_OPERATIONS,
               f"carts={carts} x operations={operations} x replicas={replicas}")  # fmt: skip
    rng = np.random.default_rng([seed, 5])
    rows, ops = [], []
    for index in range(carts):
        item_rows, cart_ops = _one_cart(rng, index, spec)
        rows += item_rows
        ops += cart_ops
    columns = ["variant", "cart", "item", "adds", "removes", "intended", "in_cart",
               "concurrent", "outcome"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.sort_values(["variant", "cart", "item"], kind="stable", ignore_index=True)
    params = plain_params(carts=carts, **spec, seed=seed)
    return CartResult(frame, _cart_summary(frame, carts), params, pd.DataFrame(ops))


def _window(partition: Any) -> tuple[float, float]:
    if isinstance(partition, (str, bytes)) or not isinstance(partition, Sequence):
        raise TypeError(f"partition={partition!r} must be a (start, end) pair of fractions")
    if len(partition) != 2:
        raise ValueError(f"partition={partition!r} must be a (start, end) pair of fractions")
    start = check_probability("partition[0]", partition[0])
    end = check_probability("partition[1]", partition[1])
    if end < start:
        raise ValueError(f"partition={partition!r}: the end must not come before the start")
    return (start, end)


@dataclass(frozen=True)
class CounterResult(Result):
    """What :func:`counter_redelivery` returns.

    Attributes:
        frame: one row per delivery: ``variant, duplicate`` (the redelivery probability),
            ``trial, sender, receiver, copy`` (0: the first delivery, 1: a redelivery),
            ``count_sent`` (the sender's own count in the state) and ``value_after`` (the
            receiver's counter value once merged).
        summary: one row per ``(variant, duplicate)``, over the trials: ``replicas,
            true_total`` (increments made), ``redeliveries`` (per trial), ``mean_value`` (the
            counter value at the replicas at the end), ``over_count`` (mean value minus the
            true total) and ``share_wrong`` (of the replicas, over the trials).
    """


def _counter_run(variant: str, duplicate: float, counts: list[int], rounds: int, rng) -> list:
    n = len(counts)
    names = [f"r{i}" for i in range(n)]
    states: list[Any] = [{names[i]: counts[i]} if counts[i] else {} for i in range(n)]
    if variant == "g_counter":
        states = [GCounter(s) for s in states]
    sent = [dict(s) if variant == "sum" else s for s in states]  # what each broadcasts
    rows = []
    pairs = [(src, dst) for _ in range(rounds) for src in range(n) for dst in range(n)]
    for src, dst in pairs:
        if dst != src:
            copies = 1 + int(rng.random() < duplicate)
            for copy in range(copies):
                if variant == "sum":
                    states[dst] = sum_merge(states[dst], sent[src])
                    value = sum(states[dst].values())
                else:
                    states[dst] = states[dst].merge(sent[src])
                    value = states[dst].value
                rows.append({"variant": variant, "duplicate": duplicate, "sender": names[src],
                             "receiver": names[dst], "copy": copy, "count_sent": counts[src],
                             "value_after": value})  # fmt: skip
    return rows


def _counter_summary(frame: pd.DataFrame, replicas: int, true: int) -> pd.DataFrame:
    final = frame.groupby(["variant", "duplicate", "trial", "receiver"], sort=False)[
        "value_after"
    ].last()
    by = final.groupby(level=["variant", "duplicate"], sort=False)
    table = pd.DataFrame({
        "replicas": replicas, "true_total": true,
        "redeliveries": frame.groupby(["variant", "duplicate"], sort=False)["copy"].sum()
        / frame["trial"].nunique(),
        "mean_value": by.mean(), "over_count": by.mean() - true,
        "share_wrong": (final != true).groupby(level=["variant", "duplicate"], sort=False).mean(),
    })  # fmt: skip
    return table


def counter_redelivery(
    *,
    replicas: int = 5,
    increments: float = 10.0,
    duplicates: Sequence[float] = (0.0, 0.1, 0.2, 0.3),
    rounds: int = 1,
    trials: int = 100,
    seed: int = 0,
) -> CounterResult:
    """A page-view counter on ``replicas`` replicas: each counts its own views (1 plus a
    Poisson number of mean ``increments - 1``, the same in every trial), then sends its state
    once to every other replica (``rounds`` times: anti-entropy resends whole states); the
    network redelivers each message (a second copy) with probability ``duplicate``, for each
    of ``duplicates``, ``trials`` times. The receiver merges every copy it gets, by sum or as
    a G-counter; the same draws serve both. See :class:`CounterResult`.

    >>> r = counter_redelivery(duplicates=[0.0, 0.2], trials=50, seed=3)
    >>> r.summary["over_count"].round(1).tolist()
    [0.0, 8.9, 0.0, 0.0]
    """
    replicas = check_int("replicas", replicas, 2, 200)
    increments = check_number("increments", increments, 1.0, 1e6)
    if isinstance(duplicates, (str, bytes)) or not isinstance(duplicates, Sequence):
        raise TypeError(f"duplicates={duplicates!r} must be a list of probabilities")
    if not duplicates:
        raise ValueError("duplicates=() is empty: give at least one probability")
    dups = tuple(check_probability(f"duplicates[{i}]", d) for i, d in enumerate(duplicates))
    rounds = check_int("rounds", rounds, 1, 1000)
    trials = check_int("trials", trials, 1, 10_000)
    seed = check_seed(seed)
    check_work("deliveries", 4 * len(dups) * rounds * trials * replicas * replicas,
               MAX_OPERATIONS, f"replicas={replicas} x rounds={rounds} x trials={trials} x "
               f"{len(dups)} duplicates")  # fmt: skip
    rows = []
    counts = (1 + np.random.default_rng([seed, 6]).poisson(increments - 1.0, replicas)).tolist()
    for variant in COUNTER_VARIANTS:
        for d, duplicate in enumerate(dups):
            rng = np.random.default_rng([seed, 7, d])  # the same redeliveries for both merges
            for trial in range(trials):
                run = _counter_run(variant, duplicate, counts, rounds, rng)
                rows += [{**row, "trial": trial} for row in run]
    columns = ["variant", "duplicate", "trial", "sender", "receiver", "copy", "count_sent",
               "value_after"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    params = plain_params(replicas=replicas, increments=increments, duplicates=dups,
                          rounds=rounds, trials=trials, seed=seed)  # fmt: skip
    return CounterResult(frame, _counter_summary(frame, replicas, sum(counts)), params)
