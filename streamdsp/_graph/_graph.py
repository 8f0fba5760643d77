"""Graph: blocks connected in any acyclic way (the builder, plain Python).

:class:`Graph` holds the nodes and answers questions about them
(``latency``, ``to_dot``); the compiled :class:`GraphExecutor` it derives
from plans them (``_plan.py``) and runs the plan without the interpreter.
"""

from streamdsp._core._block import Block
from streamdsp._core._validate import whole_number
from streamdsp._graph import _plan
from streamdsp._graph._executor import GraphExecutor


class Graph(GraphExecutor):
    """Blocks connected as a directed acyclic graph, itself a block.

    Build it in Python, then push chunks through it: a compiled executor
    runs the whole graph per chunk inside ``nogil``, fan-out reads the same
    buffer, and joins are aligned automatically by inserting the delays the
    paths' latencies call for.

    Parameters
    ----------
    profile : bool, optional
        Time every node (see :meth:`stats`); costs two clock reads per node.

    Notes
    -----
    Latency: the path latency at the output, after alignment.  A graph
    with one input and one output is a block (``process``/``flush``); with
    several, use :meth:`process_all` / :meth:`flush_all`.

    Examples
    --------
    A dry/wet mix whose wet path has latency 64, aligned automatically:

    >>> import numpy as np, streamdsp as sd
    >>> g = sd.Graph()
    >>> x = g.input()
    >>> wet = x >> sd.FIR(np.r_[1.0, np.zeros(99)], method="fft", block_size=64)
    >>> dry = x >> sd.Gain(1.0)
    >>> g.output(g.add(sd.Mix([0.5, 0.5]), dry, wet))
    >>> g.latency
    64
    >>> y = np.concatenate([g.process(np.arange(4.0)), g.flush()])
    >>> np.allclose(y[64:], [0.0, 1.0, 2.0, 3.0])
    True
    """

    def __init__(self, profile=False):
        super().__init__(profile)

    def _name(self, block, name):
        if name is None:
            base = type(block).__name__ if block is not None else "in"
            k = sum(1 for n in self._nodes if n.name.rstrip("0123456789") == base)
            name = f"{base}{k}"
        if any(n.name == name for n in self._nodes):
            raise ValueError(f"Graph: a node is already named {name!r}")
        return name

    def input(self, name=None):
        """Add an input of the graph and return its node."""
        self._check_building()
        node = _plan.Node(self, None, [], self._name(None, name))
        self._nodes.append(node)
        self._inputs.append(node)
        return node

    def add(self, block, *sources, name=None):
        """Add ``block`` fed by ``sources`` (nodes of this graph); return its node.

        A block with several inputs (``Add``, ``Mix``, ``Multiply``,
        ``Concatenate``) takes them in the order given.
        """
        self._check_building()
        if not isinstance(block, Block):
            raise TypeError(f"Graph: expected a streamdsp block, got {type(block).__name__} {block!r:.60}")
        for n in self._nodes:
            if n.block is block:
                raise ValueError(f"Graph: {block!r} is already node {n.name}; a block holds one "
                                 f"stream's state, so make a second one")
        for s in sources:
            self._own(s)
        node = _plan.Node(self, block, sources, self._name(block, name))
        self._nodes.append(node)
        return node

    def _own(self, node):
        if not isinstance(node, _plan.Node) or node.graph is not self:
            raise TypeError(f"Graph: expected a node of this graph, got {node!r:.60}")

    def connect(self, *items):
        """Connect items in a chain: ``connect(a, b, c)`` feeds a to b and b to c.

        Items are nodes of this graph or blocks (added as new nodes).
        Returns the last node.
        """
        self._check_building()
        if len(items) < 2:
            raise TypeError("Graph.connect: expected at least two items to connect")
        prev = items[0] if isinstance(items[0], _plan.Node) else self.add(items[0])
        self._own(prev)
        for it in items[1:]:
            if isinstance(it, _plan.Node):
                self._own(it)
                if it.is_input:
                    raise ValueError(f"Graph: {it.name} is a graph input; nothing can feed it")
                it.inputs.append(prev)
                prev = it
            else:
                prev = self.add(it, prev)
        _plan.toposort([prev])   # refuse a cycle as soon as it is made
        return prev

    def output(self, node):
        """Make ``node``'s output an output of the graph."""
        self._check_building()
        self._own(node)
        self._outputs.append(node)

    @property
    def nodes(self):
        """The nodes, in the order they were added."""
        return list(self._nodes)

    @property
    def latency(self):
        """Frames by which output 0 lags the zero-delay result, after alignment."""
        _plan.check_complete(self._nodes, self._inputs, self._outputs)
        steps, outs = _plan.plan(self._inputs, self._outputs)
        return _plan.whole_latency(outs[0])

    @property
    def tail_frames(self):
        """Frames output 0 rings on after the input: the largest sum of tails along a path."""
        _plan.check_complete(self._nodes, self._inputs, self._outputs)
        steps, outs = _plan.plan(self._inputs, self._outputs)
        return _plan.path_tail(outs[0])

    @property
    def rate(self):
        """Rate of output 0 over the input rate, a Fraction (1 unless the graph resamples)."""
        _plan.check_complete(self._nodes, self._inputs, self._outputs)
        steps, outs = _plan.plan(self._inputs, self._outputs)
        return outs[0].rate

    @property
    def up(self):
        """Numerator of :attr:`rate`."""
        return self.rate.numerator

    @property
    def down(self):
        """Denominator of :attr:`rate`."""
        return self.rate.denominator

    @property
    def decimation(self):
        """Input frames per frame of output 0, ``down / up``: an int when whole."""
        r = 1 / self.rate
        return int(r) if r.denominator == 1 else r

    def max_out_frames(self, frames):
        """The most frames output 0 can emit for ``frames`` input frames, in any state."""
        frames = whole_number("Graph", "frames", frames, minimum=0)
        _plan.check_complete(self._nodes, self._inputs, self._outputs)
        steps, outs = _plan.plan(self._inputs, self._outputs)
        return _plan.step_capacities(steps, frames)[steps.index(outs[0])]

    def to_dot(self):
        """The graph as Graphviz ``dot`` text, latencies and alignment delays shown."""
        return _plan.to_dot(self._nodes, self._outputs)

    def plot(self, path=None):
        """Draw the graph (Graphviz ``dot`` if installed, else matplotlib); return the figure or path."""
        from streamdsp._graph._draw import draw_graph
        return draw_graph(self, path)

    def __repr__(self):
        try:
            lat = f" latency={self.latency}"
        except ValueError:
            lat = ""
        return (f"<Graph{lat} with {sum(1 for n in self._nodes if not n.is_input)} nodes, "
                f"{len(self._inputs)} input{'s' if len(self._inputs) != 1 else ''}, "
                f"{len(self._outputs)} output{'s' if len(self._outputs) != 1 else ''}>")


class Parallel(Graph):
    """Branches fed the same input, aligned by latency and combined.

    Parameters
    ----------
    *branches : Block
        Each branch is a block (a chain built with ``>>`` is one).
    combine : {"sum", "concat"}, optional
        Sum the branches (equal channel counts, or mono broadcast), or stack
        their channels in order.

    Notes
    -----
    Latency: the largest branch latency (shorter branches are delayed to
    match).  Offline equivalent: ``sum(branch(x))`` or
    ``np.concatenate([branch(x) ...], axis=1)`` of the aligned branches.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> p = sd.Parallel(sd.Gain(1.0), sd.Gain(10.0))
    >>> p.process(np.array([1.0, 2.0]))
    array([11., 22.])
    """

    def __init__(self, *branches, combine="sum"):
        from streamdsp._blocks._combine import Add, Concatenate
        super().__init__()
        if not branches:
            raise TypeError("Parallel: expected at least one branch")
        if combine not in ("sum", "concat"):
            raise ValueError(f"Parallel: expected combine 'sum' or 'concat', got {combine!r}")
        x = self.input()
        outs = [self.add(b, x) for b in branches]
        joiner = Add(len(outs)) if combine == "sum" else Concatenate(len(outs))
        self.output(self.add(joiner, *outs, name="combine"))
        self.combine = combine
        try:
            # plan now: branches at different rates are refused here, with the
            # constructor's name, not by the first property that plans
            self.latency
        except ValueError as e:
            raise ValueError(f"Parallel: cannot combine these branches: {e}") from None

    def __repr__(self):
        branches = [repr(n.block) for n in self._nodes if n.block is not None and n.name != "combine"]
        return f"<Parallel combine={self.combine!r} latency={self.latency} [{', '.join(branches)}]>"
