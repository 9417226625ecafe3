"""A simulated network of named nodes: latency, loss, partitions, crashes and slow nodes.

Messages are fire-and-forget. Every message shows in the world's event log as one ``send`` and then
exactly one ``deliver`` or ``drop`` (with a ``reason``: ``loss``, ``partition`` or ``crashed``).

>>> from distlab.sim import World, Network, Exponential
>>> world = World(seed=1)
>>> net = Network(world, latency=Exponential(0.01), loss=0.1)
>>> a, b = net.add_node("a"), net.add_node("b")
>>> for i in range(3):
...     _ = net.send("a", "b", f"ping {i}")
>>> world.run()
>>> world.events()["kind"].tolist()
['send', 'send', 'send', 'deliver', 'deliver', 'deliver']

Design notes (why it is written this way): the network is the hot path of every experiment, so a
message costs one ``simpy`` timeout with a callback (no process per message), latencies and loss
draws come from the world's generator in blocks, and a log record is nine cells added to the
world's flat log (:attr:`World.cells`, no object kept per record) that become a DataFrame only in
:meth:`World.events`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from simpy.events import Timeout

from distlab._validate import check_bool, check_choice, check_probability
from distlab.sim.conditions import Conditions, FaultEffect, check_slow_factor
from distlab.sim.distributions import Constant, Distribution, as_distribution
from distlab.sim.world import World

__all__ = ["Message", "Node", "Network", "Sampler"]


@dataclass(slots=True)
class Message:
    """One message on the wire.

    >>> Message(msg_id=0, src="a", dst="b", payload="hi", sent_at=0.0)
    Message(msg_id=0, src='a', dst='b', payload='hi', sent_at=0.0)
    """

    msg_id: int
    src: str
    dst: str
    payload: Any
    sent_at: float


class Node:
    """A host on the network (made by :meth:`Network.add_node`, not directly).

    Attributes
    ----------
    name: the node's name.
    inbox: a ``simpy.Store`` of delivered :class:`Message` objects (unless ``on_message`` is set).
    alive: ``False`` while crashed (by :meth:`Network.crash` or a fault); read it, do not set it.
    slow_factor: every latency to or from this node is multiplied by it (1 = normal); set it with
        :meth:`Network.slow`.
    state: a dict for the node's volatile state; cleared when the node crashes.
    on_message: optional ``callable(Message)`` called at delivery instead of putting the message
        into ``inbox`` (services use it).
    incarnation: how many times the node has crashed; work started in an earlier incarnation is
        abandoned by services.

    A crash replaces ``inbox`` by a new, empty store: processes still waiting on the old inbox
    never wake up, as if they died with the node.

    >>> from distlab.sim import World, Network
    >>> world = World(); net = Network(world, latency=0.5)
    >>> server = net.add_node("server"); _ = net.add_node("client")
    >>> def serve():
    ...     msg = yield server.recv()
    ...     world.log("got", node="server", detail=msg.payload)
    >>> _ = world.env.process(serve())
    >>> _ = net.send("client", "server", "hello")
    >>> world.run()
    >>> world.events()["kind"].tolist()
    ['send', 'deliver', 'got']
    """

    __slots__ = ("name", "inbox", "alive", "slow_factor", "state", "on_message", "incarnation")

    def __init__(self, name: str, env: simpy.Environment) -> None:
        self.name = name
        self.inbox: simpy.Store = simpy.Store(env)
        self.alive = True
        self.slow_factor = 1.0
        self.state: dict[str, Any] = {}
        self.on_message: Callable[[Message], Any] | None = None
        self.incarnation = 0

    def recv(self) -> simpy.events.Event:
        """An event that fires with the next delivered :class:`Message` (``yield node.recv()``)."""
        return self.inbox.get()

    def __repr__(self) -> str:
        status = "alive" if self.alive else "crashed"
        slow = f", slow_factor={self.slow_factor:g}" if self.slow_factor != 1 else ""
        return f"Node({self.name!r}, {status}{slow})"


class Sampler:
    """Draws from one distribution in blocks, handing out Python floats one by one.

    Blocks start at 64 values and double up to 4096: short runs stay cheap, long runs amortise
    the draw. The values are exactly those of ``dist.sample(rng, n)`` called block by block.

    >>> from distlab.sim import Uniform
    >>> s = Sampler(Uniform(1, 2), np.random.default_rng(0))
    >>> 1 <= s.next() <= 2
    True
    """

    __slots__ = ("dist", "rng", "buf", "i", "const", "block")

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        self.dist = dist
        self.rng = rng
        self.buf: list[float] = []
        self.i = 0
        self.const = dist.value if isinstance(dist, Constant) else None
        self.block = 64

    def refill(self) -> list[float]:
        """Draw the next block; return it (``i`` is reset to 0)."""
        self.buf = self.dist.sample(self.rng, self.block).tolist()
        self.i = 0
        if self.block < 4096:
            self.block *= 2
        return self.buf

    def next(self) -> float:
        """The next value."""
        if self.const is not None:
            return self.const
        i = self.i
        buf = self.buf
        if i >= len(buf):
            buf = self.refill()
            i = 0
        self.i = i + 1
        return buf[i]


class _Link:
    __slots__ = ("sampler", "loss", "duplicate")

    def __init__(self, sampler: Sampler, loss: float, duplicate: float = 0.0) -> None:
        self.sampler = sampler
        self.loss = loss
        self.duplicate = duplicate


class _Duplicates:
    """The part of :class:`Network` that duplicates messages (only installed when asked for)."""

    _default: _Link
    _links: dict[tuple[str, str], _Link]
    _nodes: dict[str, Node]

    @property
    def duplicate(self) -> float:
        """The default probability that a message is delivered twice."""
        return self._default.duplicate

    def _install_send(self) -> None:
        """With any duplication configured, ``send`` also sends copies; without, the plain
        :meth:`Network.send` runs, untouched (the hot path pays nothing for duplicates)."""
        links = [self._default, *self._links.values()]
        if any(link.duplicate for link in links):
            self.send = self._send_duplicating  # type: ignore[method-assign]
        else:
            self.__dict__.pop("send", None)

    def _send_duplicating(
        self, src: str, dst: str, payload: Any = None, *, on_delivery: Callable | None = None
    ) -> int:
        mid = type(self).send(self, src, dst, payload, on_delivery=on_delivery)  # type: ignore[attr-defined]
        s, d = self._nodes[src], self._nodes[dst]
        groups = self._groups
        if not s.alive or (groups is not None and groups.get(src, -1) != groups.get(dst, -1)):
            return mid  # dropped at the sender: no copy either
        link = self._links.get((src, dst), self._default)
        if link.duplicate and self._uniform() < link.duplicate:
            self._send_copy(link, s, d, payload, on_delivery)
        return mid

    def _send_copy(
        self, link: _Link, s: Node, d: Node, payload: Any, on_delivery: Callable | None
    ) -> None:
        """The second delivery of a duplicated message: a new id, its own latency and loss."""
        mid = self._next_id
        self._next_id = mid + 1
        now = self._env.now
        if self._rec is not None:
            self._rec.extend((now, "send", s.name, s.name, d.name, mid, "duplicate", None, None))
        delay = link.sampler.next() * s.slow_factor * d.slow_factor
        timeout = Timeout(self._env, delay, Message(mid, s.name, d.name, payload, now))
        lost = link.loss and self._uniform() < link.loss
        timeout.callbacks.append(self._lost_cb if lost else self._arrive_cb)
        if on_delivery is not None:
            self._hooks[mid] = on_delivery


class _Controls(_Duplicates):
    """The half of :class:`Network` that changes conditions: links, loss, partitions, crashes,
    slow nodes and fault effects (it works on the attributes ``Network.__init__`` sets)."""

    _nodes: dict[str, Node]
    _cond: Conditions

    # -- links and loss ------------------------------------------------------------------------
    def set_link(
        self,
        src: str,
        dst: str,
        latency: float | Distribution | None = None,
        loss: float | None = None,
        symmetric: bool = True,
        duplicate: float | None = None,
    ) -> None:
        """Override latency, loss and/or duplication on the link ``src -> dst`` (and back, if
        ``symmetric``).

        ``None`` keeps following the network default for that property; all ``None`` resets the
        link to the defaults. A link cut by an active fault loses everything until the fault ends.

        >>> from distlab.sim import World, Network, Exponential
        >>> net = Network(World(), latency=0.01)
        >>> _ = net.add_node("eu"); _ = net.add_node("us")
        >>> net.set_link("eu", "us", latency=Exponential(0.08), loss=0.01)
        """
        self.check_node("src", src)
        self.check_node("dst", dst)
        symmetric = check_bool("symmetric", symmetric)
        sampler = None
        if latency is not None:
            sampler = Sampler(as_distribution(latency, name="latency"), self.world.rng)
        if loss is not None:
            loss = check_probability("loss", loss)
        if duplicate is not None:
            duplicate = check_probability("duplicate", duplicate)
        pairs = [(src, dst)] + ([(dst, src)] if symmetric and src != dst else [])
        for pair in pairs:
            if sampler is None and loss is None and duplicate is None:
                self._overrides.pop(pair, None)
            else:
                self._overrides[pair] = (sampler, loss, duplicate)
        self._rebuild_links()

    def set_loss(self, loss: float) -> None:
        """Set the default loss probability (links with their own ``loss`` keep it). While a
        :class:`~distlab.sim.LossBurst` holds, the burst's loss applies until it ends.

        >>> from distlab.sim import World, Network
        >>> net = Network(World()); net.set_loss(0.2); net.loss
        0.2
        """
        self._cond.loss = check_probability("loss", loss)
        self._rebuild_links()

    def _rebuild_links(self) -> None:
        self._loss = self._default.loss = loss_now = self._cond.default_loss()
        default_sampler = self._default.sampler
        dup_now = self._default.duplicate
        links = {
            pair: _Link(
                sampler if sampler is not None else default_sampler,
                loss if loss is not None else loss_now,
                dup if dup is not None else dup_now,
            )
            for pair, (sampler, loss, dup) in self._overrides.items()
        }
        for pair in self._cond.cut_links():
            link = links.get(pair)
            links[pair] = _Link(link.sampler if link else default_sampler, 1.0)
        self._links = links
        self._install_send()

    # -- partitions ----------------------------------------------------------------------------
    def partition(self, *groups: str | Iterable[str]) -> None:
        """Cut the network into groups: messages between different groups are dropped.

        Each group is an iterable of node names (a bare string is a group of one). Nodes not named
        form one more group together. A new partition replaces the previous one set here (a
        fault's partition holds on top of it until the fault ends); messages already in flight
        across the cut are dropped when they arrive.

        >>> from distlab.sim import World, Network
        >>> net = Network(World())
        >>> for n in "abcd":
        ...     _ = net.add_node(n)
        >>> net.partition(["a", "b"], "c")
        >>> net.groups
        [['a', 'b'], ['c'], ['d']]
        """
        _, group_list = self.check_groups(groups)
        self._cond.partition = tuple(group_list)
        self._refresh_partition()

    def check_groups(
        self, groups: tuple[Iterable[str] | str, ...]
    ) -> tuple[dict[str, int], list[tuple[str, ...]]]:
        """Validate partition groups; return node -> group index and the groups as tuples.

        >>> from distlab.sim import World, Network
        >>> net = Network(World()); _ = net.add_node("a"); _ = net.add_node("b")
        >>> net.check_groups((["a", ["b"]],))
        Traceback (most recent call last):
        TypeError: groups[0] node=['b'] must be a node name (str)
        """
        if not isinstance(groups, tuple | list):
            raise TypeError(f"groups={groups!r} must be a tuple of groups of node names")
        if not groups:
            raise ValueError("groups=() is empty: partition() needs at least one group of nodes")
        where: dict[str, int] = {}
        group_list: list[tuple[str, ...]] = []
        for gi, group in enumerate(groups):
            if isinstance(group, str):
                members: tuple[Any, ...] = (group,)
            elif isinstance(group, Iterable):
                members = tuple(group)
            else:
                raise TypeError(f"groups[{gi}]={group!r} must be a node name or a list of names")
            if not members:
                raise ValueError(f"groups[{gi}]=[] is empty: each group needs at least one node")
            for name in members:
                self.check_node(f"groups[{gi}] node", name)
                if name in where:
                    raise ValueError(
                        f"groups: node={name!r} appears in groups[{where[name]}] and groups[{gi}]; "
                        "each node may be in at most one group"
                    )
                where[name] = gi
            group_list.append(members)
        return where, group_list

    def heal(self) -> None:
        """Remove the partition set by :meth:`partition` (a fault's holds until it ends).

        >>> from distlab.sim import World, Network
        >>> net = Network(World()); _ = net.add_node("a")
        >>> net.partition("a"); net.heal(); net.groups is None
        True
        """
        if self._cond.partition is None:
            return
        self._cond.partition = None
        self._refresh_partition()

    def _refresh_partition(self) -> None:
        was = self._groups
        self._groups, self._group_list = self._cond.sides(self._nodes)
        if self._groups is not None:
            detail = " | ".join("{" + ", ".join(g) + "}" for g in (self.groups or []))
            self.world.log("partition", detail=detail)
        elif was is not None:
            self.world.log("heal")

    # -- crashes and slow nodes ----------------------------------------------------------------
    def crash(self, name: str) -> None:
        """Crash node ``name``: its inbox and ``state`` are lost, and it sends and receives nothing.

        Messages to it are dropped when they arrive (reason ``crashed``), messages from it are
        dropped when sent. Crashing a crashed node does nothing.

        >>> from distlab.sim import World, Network
        >>> net = Network(World()); node = net.add_node("a")
        >>> node.state["counter"] = 3
        >>> net.crash("a"); node.alive, node.state
        (False, {})
        """
        self._cond.down.add(self.check_node("node", name))
        self._refresh_alive(name)

    def restart(self, name: str) -> None:
        """Bring a node crashed by :meth:`crash` back, with an empty inbox and empty state (a node
        an active :class:`~distlab.sim.Crash` fault holds down comes back when the fault ends).

        >>> from distlab.sim import World, Network
        >>> net = Network(World()); _ = net.add_node("a")
        >>> net.crash("a"); net.restart("a"); net.node("a").alive
        True
        """
        self._cond.down.discard(self.check_node("node", name))
        self._refresh_alive(name)

    def _refresh_alive(self, name: str) -> None:
        node = self._nodes[name]
        alive = not self._cond.is_down(name)
        if alive == node.alive:
            return
        node.alive = alive
        if alive:
            self.world.log("restart", node=name)
            return
        node.incarnation += 1
        node.state.clear()
        node.inbox = simpy.Store(self._env)
        self.world.log("crash", node=name)

    def slow(self, name: str, factor: float) -> None:
        """Multiply every latency to and from node ``name`` by ``factor`` (in (0, 1e6]; 1 restores
        it). While a :class:`~distlab.sim.SlowNode` fault on it holds, the fault's factor applies.

        >>> from distlab.sim import World, Network
        >>> net = Network(World()); _ = net.add_node("a")
        >>> net.slow("a", 10); net.node("a").slow_factor
        10.0
        """
        self.check_node("node", name)
        self._cond.slow[name] = check_slow_factor("factor", factor)
        self._refresh_slow(name)

    def _refresh_slow(self, name: str) -> None:
        node = self._nodes[name]
        node.slow_factor = self._cond.slow_factor(name)
        self.world.log("slow", node=name, detail=f"factor={node.slow_factor:g}")

    # -- fault effects -------------------------------------------------------------------------
    def check_effect(self, effect: FaultEffect, *, param: str = "effect") -> FaultEffect:
        """Return ``effect`` if it can apply to this network (its nodes exist), else raise.

        >>> from distlab.sim import World, Network, FaultEffect
        >>> net = Network(World()); _ = net.add_node("a")
        >>> net.check_effect(FaultEffect(crashed=["b"]))
        Traceback (most recent call last):
        ValueError: node='b' is not one of 'a'
        """
        if not isinstance(effect, FaultEffect):
            raise TypeError(f"{param}={effect!r} must be a distlab.sim.FaultEffect")
        for name in effect.crashed:
            self.check_node("node", name)
        for name, _factor in effect.slow:
            self.check_node("node", name)
        for src, dst in effect.cut:
            self.check_node("src", src)
            self.check_node("dst", dst)
        if effect.groups is not None:
            self.check_groups(effect.groups)
        return effect

    def apply_effect(self, effect: FaultEffect) -> int:
        """Apply a fault's ``effect`` on top of everything else; return a handle for
        :meth:`remove_effect`. See :mod:`distlab.sim.conditions` for how effects compose.

        >>> from distlab.sim import World, Network, FaultEffect
        >>> net = Network(World()); _ = net.add_node("a")
        >>> handle = net.apply_effect(FaultEffect(crashed=["a"]))
        >>> net.node("a").alive
        False
        """
        handle = self._cond.add(self.check_effect(effect))
        self._refresh(effect)
        return handle

    def remove_effect(self, handle: int) -> None:
        """Undo exactly the effect applied with ``handle``; the others stay.

        >>> from distlab.sim import World, Network, FaultEffect
        >>> net = Network(World()); _ = net.add_node("a")
        >>> net.remove_effect(net.apply_effect(FaultEffect(crashed=["a"])))
        >>> net.node("a").alive
        True
        """
        self._refresh(self._cond.remove(handle))

    def _refresh(self, effect: FaultEffect) -> None:
        for name in effect.crashed:
            self._refresh_alive(name)
        for name, _factor in effect.slow:
            self._refresh_slow(name)
        if effect.loss is not None or effect.cut:
            self._rebuild_links()
        if effect.groups is not None:
            self._refresh_partition()


class Network(_Controls):
    """Named nodes joined by links with a latency distribution and a loss probability.

    Parameters
    ----------
    world: the :class:`World` whose clock, generator and event log the network uses.
    latency: seconds per message, a number or a distribution (default 10 ms).
    loss: probability that a message is lost, in [0, 1] (default 0).
    duplicate: probability that a message is delivered twice, in [0, 1] (default 0): the copy is
        logged as one more ``send`` (``reason`` ``duplicate``, a new message id) with its own
        latency (so it may overtake the original) and its own loss draw.

    Latency of one message = a draw from its link's distribution x ``src.slow_factor`` x
    ``dst.slow_factor``. A message is checked when sent (sender crashed? partitioned?) and again
    when it arrives (receiver crashed? partitioned in the meantime?); a lost message is logged as
    dropped, node = destination, at the time it would have arrived. Drops at send are logged at
    the sender.

    Faults (:mod:`distlab.sim.faults`) act through :meth:`apply_effect` / :meth:`remove_effect`,
    on top of what the methods below set; :mod:`distlab.sim.conditions` says how they compose.

    >>> from distlab.sim import World, Network
    >>> world = World(seed=3)
    >>> net = Network(world, latency=0.02)
    >>> for name in ("a", "b", "c"):
    ...     _ = net.add_node(name)
    >>> net.partition(["a"], ["b"])          # c, not named, is a third group
    >>> _ = net.send("a", "b", "x"); _ = net.send("c", "c", "y")
    >>> world.run()
    >>> world.events().query("kind == 'drop'")["reason"].tolist()
    ['partition']
    """

    def __init__(
        self,
        world: World,
        latency: float | Distribution = 0.01,
        loss: float = 0.0,
        duplicate: float = 0.0,
    ):
        if not isinstance(world, World):
            raise TypeError(f"world={world!r} must be a distlab.sim.World")
        self.world = world
        self._env = world.env
        self._rec = world.cells if world.log_messages else None
        self._latency = as_distribution(latency, name="latency")
        self._loss = check_probability("loss", loss)
        self._cond = Conditions(self._loss)
        self._nodes: dict[str, Node] = {}
        dup = check_probability("duplicate", duplicate)
        self._default = _Link(Sampler(self._latency, world.rng), self._loss, dup)
        # (src, dst) -> (sampler, loss, duplicate), each None to follow the network default.
        self._overrides: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
        self._links: dict[tuple[str, str], _Link] = {}
        self._groups: dict[str, Any] | None = None
        self._group_list: list[tuple[str, ...]] = []
        self._next_id = 0
        self._next_request_id = 0
        self._hooks: dict[int, Callable[[Message], Any]] = {}
        self._uniform_buf: list[float] = []
        self._uniform_i = 0
        self._arrive_cb = self._arrive  # bound once: the hot path appends them to every message
        self._lost_cb = self._lost
        self._install_send()

    # -- nodes ---------------------------------------------------------------------------------
    def add_node(self, name: str) -> Node:
        """Add a node called ``name`` and return it.

        >>> from distlab.sim import World, Network
        >>> Network(World()).add_node("db")
        Node('db', alive)
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"name={name!r} must be a non-empty string")
        if name in self._nodes:
            raise ValueError(f"name={name!r} is already a node of this network")
        node = Node(name, self._env)
        self._nodes[name] = node
        return node

    def node(self, name: str) -> Node:
        """The :class:`Node` called ``name`` (``ValueError`` if there is none).

        >>> from distlab.sim import World, Network
        >>> net = Network(World()); _ = net.add_node("a")
        >>> net.node("a").alive
        True
        """
        return self._nodes[self.check_node("node", name)]

    @property
    def nodes(self) -> list[str]:
        """Names of the nodes, in the order they were added."""
        return list(self._nodes)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._nodes

    def __repr__(self) -> str:
        return (
            f"Network(latency={self._latency!r}, loss={self._loss:g}, nodes={self.nodes!r}"
            f"{f', duplicate={self.duplicate:g}' if self.duplicate else ''}"
            f"{', partitioned' if self._groups is not None else ''})"
        )

    @property
    def latency(self) -> Distribution:
        """The default latency distribution (links without an override use it)."""
        return self._latency

    @property
    def loss(self) -> float:
        """The default loss probability now (links without an override use it); while a
        :class:`~distlab.sim.LossBurst` holds, the burst's."""
        return self._loss

    @property
    def groups(self) -> list[list[str]] | None:
        """The current partition as lists of node names (unnamed nodes last), or ``None``.

        While several partitions hold at once (a fault's and another's), their intersection.
        """
        if self._groups is None:
            return None
        named = [list(g) for g in self._group_list]
        rest = [n for n in self._nodes if n not in self._groups]
        return named + ([rest] if rest else [])

    @property
    def env(self) -> simpy.Environment:
        """The SimPy environment of the network's world (``world.env``)."""
        return self._env

    def new_request_id(self) -> int:
        """A fresh request id, unique in this network (0, 1, 2, ...), for request/response
        protocols.

        >>> from distlab.sim import World, Network
        >>> net = Network(World())
        >>> net.new_request_id(), net.new_request_id()
        (0, 1)
        """
        rid = self._next_request_id
        self._next_request_id = rid + 1
        return rid

    def check_node(self, param: str, name: Any) -> str:
        """Return ``name`` if it is a node of this network, else raise a ``ValueError`` that names
        ``param`` and the nodes allowed (``TypeError`` if it is not a string).

        >>> from distlab.sim import World, Network
        >>> net = Network(World()); _ = net.add_node("a")
        >>> net.check_node("dst", "b")
        Traceback (most recent call last):
        ...
        ValueError: dst='b' is not one of 'a'
        """
        if not isinstance(name, str):
            raise TypeError(f"{param}={name!r} must be a node name (str)")
        if name in self._nodes:
            return name
        if not self._nodes:
            raise ValueError(f"{param}={name!r} is not a node: the network has no nodes yet")
        return check_choice(param, name, self._nodes)  # raises, naming the allowed nodes

    def can_reach(self, a: str, b: str) -> bool:
        """Whether a message from ``a`` can reach ``b`` now: both alive, on the same side of any
        partition, and the link not cut (loss < 1). A perfect failure detector, as the course's
        ``getHealthyNodes()`` assumes.

        >>> from distlab.sim import World, Network
        >>> net = Network(World()); _ = net.add_node("a"); _ = net.add_node("b")
        >>> net.partition(["a"], ["b"]); net.can_reach("a", "b")
        False
        """
        nodes = self._nodes
        if not (nodes[self.check_node("a", a)].alive and nodes[self.check_node("b", b)].alive):
            return False
        groups = self._groups
        if groups is not None and groups.get(a, -1) != groups.get(b, -1):
            return False
        if a == b:
            return True
        link = self._links.get((a, b))
        return link is None or link.loss < 1.0

    # -- sending -------------------------------------------------------------------------------
    def send(
        self,
        src: str,
        dst: str,
        payload: Any = None,
        *,
        on_delivery: Callable[[Message], Any] | None = None,
    ) -> int:
        """Send ``payload`` from ``src`` to ``dst``; return the message id. Fire and forget.

        The message is delivered into ``dst``'s inbox (or handed to its ``on_message``) after the
        link latency, unless it is lost, cut by a partition or meets a crashed node. With
        ``on_delivery``, a delivered message is handed to ``on_delivery(message)`` instead of the
        node (RPC replies go straight to the waiting call this way, not to the inbox).

        >>> from distlab.sim import World, Network
        >>> world = World(); net = Network(world, latency=0.1)
        >>> _ = net.add_node("a"); _ = net.add_node("b")
        >>> net.send("a", "b", {"op": "put"})
        0
        """
        nodes = self._nodes
        try:
            s, d = nodes.get(src), nodes.get(dst)
        except TypeError:  # unhashable: not a node name; check_node says so below
            s = d = None
        if s is None or d is None:
            self.check_node("src", src)
            self.check_node("dst", dst)
        if on_delivery is not None and not callable(on_delivery):
            raise TypeError(f"on_delivery={on_delivery!r} must be callable (message -> None)")
        mid = self._next_id
        self._next_id = mid + 1
        env = self._env
        now = env.now
        rec = self._rec
        if rec is not None:
            rec.extend((now, "send", src, src, dst, mid, None, None, None))
        groups = self._groups
        if not s.alive or (groups is not None and groups.get(src, -1) != groups.get(dst, -1)):
            if rec is not None:  # dropped at the sender
                why = "partition" if s.alive else "crashed"  # type: ignore[union-attr]
                rec.extend((now, "drop", src, src, dst, mid, why, None, None))
            return mid
        link = self._links.get((src, dst), self._default) if self._links else self._default
        sampler = link.sampler
        delay = sampler.const
        if delay is None:
            i = sampler.i
            buf = sampler.buf
            if i >= len(buf):
                buf = sampler.refill()
                i = 0
            delay = buf[i]
            sampler.i = i + 1
        delay = delay * s.slow_factor * d.slow_factor  # type: ignore[union-attr]
        timeout = Timeout(env, delay, Message(mid, src, dst, payload, now))
        loss = link.loss
        if loss and self._uniform() < loss:
            timeout.callbacks.append(self._lost_cb)
        else:
            timeout.callbacks.append(self._arrive_cb)
        if on_delivery is not None:
            self._hooks[mid] = on_delivery
        return mid

    def _uniform(self) -> float:
        i = self._uniform_i
        buf = self._uniform_buf
        if i >= len(buf):
            buf = self._uniform_buf = self.world.rng.random(1024).tolist()
            i = 0
        self._uniform_i = i + 1
        return buf[i]

    def _arrive(self, event: simpy.events.Event) -> None:
        msg: Message = event.value
        dst = msg.dst
        d = self._nodes[dst]
        if not d.alive:
            self._drop_at_arrival(msg, "crashed")
            return
        groups = self._groups
        if groups is not None and groups.get(msg.src, -1) != groups.get(dst, -1):
            self._drop_at_arrival(msg, "partition")
            return
        rec = self._rec
        if rec is not None:
            rec.extend((self._env.now, "deliver", dst, msg.src, dst, msg.msg_id, None, None, None))
        if self._hooks:
            hook = self._hooks.pop(msg.msg_id, None)
            if hook is not None:
                hook(msg)
                return
        handler = d.on_message
        if handler is None:
            d.inbox.put(msg)
        else:
            handler(msg)

    def _lost(self, event: simpy.events.Event) -> None:
        self._drop_at_arrival(event.value, "loss")

    def _drop_at_arrival(self, msg: Message, why: str) -> None:
        if self._hooks:
            self._hooks.pop(msg.msg_id, None)
        rec = self._rec
        if rec is not None:
            dst = msg.dst
            rec.extend((self._env.now, "drop", dst, msg.src, dst, msg.msg_id, why, None, None))
