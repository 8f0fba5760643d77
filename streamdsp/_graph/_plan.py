"""Graph planning: nodes, topology, rates and latency alignment (plain Python).

:class:`~streamdsp.Graph` (``_graph.py``) makes the nodes; the compiled
executor (``_executor.pyx``) asks :func:`plan` for a flat,
topologically ordered list of steps with the alignment delays already
inserted, and runs it without the interpreter.
"""

from fractions import Fraction

# Input frames per piece a container pushes through its blocks at once, and
# the most frames any of its intermediate buffers may need: chains that raise
# the rate get smaller pieces, so their buffers stay this small.
PIECE = 1024
MAX_STAGE_FRAMES = 16 * PIECE


def piece_frames(capacities):
    """Input frames per piece for a container, and its stages' buffer sizes.

    Parameters
    ----------
    capacities : callable
        ``capacities(piece)`` -> list of the most frames each stage can emit
        for ``piece`` input frames (from the blocks' ``max_out_frames``).

    Returns
    -------
    (piece, caps)
        ``PIECE`` halved until every stage fits ``MAX_STAGE_FRAMES`` (never
        below 1 frame), and ``capacities(piece)``.
    """
    piece = PIECE
    caps = capacities(piece)
    while piece > 1 and max(caps, default=0) > MAX_STAGE_FRAMES:
        piece //= 2
        caps = capacities(piece)
    return piece, caps


def step_capacities(steps, frames):
    """The most frames each step can emit when the graph inputs get ``frames`` frames."""
    Combiner = combiner_class()
    caps = {}
    out = []
    for st in steps:
        ins = [frames if (isinstance(src, Step) and src.block is None) else caps[id(src)]
               for src in st.sources]
        # a join emits what its slowest input completes: at most its fullest input
        c = max(ins) if isinstance(st.block, Combiner) else st.block.max_out_frames(ins[0])
        caps[id(st)] = c
        out.append(c)
    return out


def rate_of(blocks):
    """Output rate over input rate of ``blocks`` in series, a Fraction."""
    r = Fraction(1)
    for b in blocks:
        r *= b.rate
    return r


# what makes a latency whole again (a Delay would not: it delays the signal, not the latency)
_FRACTION_FIX = ("change the rate before the blocks with latency, or use a rate change whose factor "
                 "divides the latency before it")


def chain_latency(blocks):
    """Frames by which ``blocks`` in series lag the ideal result, at their output rate (a Fraction).

    A block's latency counts in its own output frames, so what comes
    before a rate change is scaled by it: 30 frames before a
    ``Downsample(3)`` are 10 after it (and 30 before a ``Downsample(4)``
    are 15/2, not a whole number: no stream lines up with that output).
    """
    lat = Fraction(0)
    for b in blocks:
        exact = getattr(b, "_latency_exact", None)
        lat = lat * b.rate + (exact() if exact is not None else b.latency)
    return lat


def whole_chain_latency(who, lat):
    """``lat`` as an int, or the error that says how to make it whole."""
    if lat.denominator != 1:
        raise ValueError(f"{who}: the output lags by {lat} frames, not a whole number: a latency "
                         f"before a rate change that does not divide by it, so no output frame lines "
                         f"up with the ideal result; {_FRACTION_FIX}")
    return int(lat)



class Node:
    """One block in a :class:`~streamdsp.Graph`, or one of its inputs.

    ``node >> block`` adds ``block`` to the same graph, fed by this node, and
    returns the new node, so chains read left to right.
    """

    def __init__(self, graph, block, inputs, name):
        self.graph = graph
        self.block = block        # None for a graph input
        self.inputs = list(inputs)
        self.name = name

    @property
    def is_input(self):
        return self.block is None

    def __rshift__(self, other):
        if isinstance(other, Node):
            self.graph.connect(self, other)
            return other
        return self.graph.add(other, self)

    def __repr__(self):
        return f"<Node {self.name}>"


def combiner_class():
    from streamdsp._blocks._combine import Combiner
    return Combiner


def toposort(nodes):
    """Nodes in an order where every node comes after its inputs; ValueError on a cycle."""
    order, state = [], {}

    def visit(node, path):
        s = state.get(id(node))
        if s == "done":
            return
        if s == "open":
            cycle = path[path.index(node):] + [node]
            raise ValueError("Graph: cycle " + " -> ".join(n.name for n in cycle)
                             + "; a stream graph must not feed a node back into itself")
        state[id(node)] = "open"
        for src in node.inputs:
            visit(src, path + [node])
        state[id(node)] = "done"
        order.append(node)

    for n in nodes:
        visit(n, [])
    return order


class Step:
    """A node as the executor runs it, after alignment delays are inserted."""

    def __init__(self, node, block, sources, latency, rate, delay=0):
        self.node = node          # the user's node (None for an inserted delay)
        self.block = block
        self.sources = sources    # Steps or input indices (int)
        self.latency = latency    # Fraction: frames of lag at this step's rate
        self.rate = rate          # Fraction: frames here per graph input frame
        self.delay = delay        # inserted alignment delay (frames), else 0

    @property
    def name(self):
        return self.node.name if self.node is not None else f"align+{self.delay}"


def check_complete(nodes, inputs, outputs):
    """Errors a graph must not reach streaming with: no output, loose or miswired nodes."""
    Combiner = combiner_class()
    if not outputs:
        raise ValueError("Graph: no output; call graph.output(node)")
    if not inputs:
        raise ValueError("Graph: no input; call graph.input()")
    used = set()
    for out in outputs:
        for n in toposort([out]):
            used.add(id(n))
    for n in nodes:
        if n.is_input:
            continue
        if not n.inputs:
            raise ValueError(f"Graph: node {n.name} has no input connected")
        if isinstance(n.block, Combiner):
            want = n.block.n_inputs
            if want is not None and len(n.inputs) != want:
                raise ValueError(f"Graph: node {n.name} expects {want} inputs, "
                                 f"{len(n.inputs)} connected ({', '.join(i.name for i in n.inputs)})")
        elif len(n.inputs) != 1:
            raise ValueError(f"Graph: node {n.name} takes one input, but {len(n.inputs)} are connected "
                             f"({', '.join(i.name for i in n.inputs)}); join them with Add, Mix, "
                             f"Multiply or Concatenate")
    for n in nodes:
        if id(n) not in used and not n.is_input:
            raise ValueError(f"Graph: node {n.name} does not lead to any output")


def plan(inputs, outputs):
    """Steps in execution order, with the delays that align every join.

    Returns (steps, output_steps).  Each join's inputs are delayed so that
    their latencies (path latency at the join's rate) are equal; branches
    of different rates cannot be joined.
    """
    from streamdsp._blocks._pointwise import Delay

    order = toposort(outputs)
    step_of = {}
    steps = []
    for node in order:
        if node.is_input:
            step_of[id(node)] = Step(node, None, [inputs.index(node)], Fraction(0), Fraction(1))
            continue
        srcs = [step_of[id(i)] for i in node.inputs]
        rates = {s.rate for s in srcs}
        if len(rates) > 1:
            desc = ", ".join(f"{s.name} ({s.rate} x the input rate)" for s in srcs)
            raise ValueError(f"Graph: node {node.name} joins branches of different rates: {desc}")
        rate = srcs[0].rate
        lat_in = max(s.latency for s in srcs)
        aligned = []
        for s in srcs:
            d = lat_in - s.latency
            if d:
                if d.denominator != 1:
                    raise ValueError(f"Graph: node {node.name} would need a delay of {d} frames on "
                                     f"its input from {s.name} to align it, and only whole frames "
                                     f"can be delayed; {_FRACTION_FIX}")
                dly = Delay(int(d))
                dly._set_latency(int(d))  # held back, so flush pushes it out
                ds = Step(None, dly, [s], lat_in, rate, delay=int(d))
                steps.append(ds)
                s = ds
            aligned.append(s)
        b = node.block
        q = b.rate
        st = Step(node, b, aligned, lat_in * q + b.latency, rate * q)
        steps.append(st)
        step_of[id(node)] = st
    return steps, [step_of[id(o)] for o in outputs]


def whole_latency(step):
    """The graph latency at an output, which must be a whole number of frames."""
    return whole_chain_latency(f"Graph: output {step.name}", step.latency)


def path_tail(step, _memo=None):
    """Frames a step rings on after the input ends: the largest sum of the
    blocks' ``tail_frames`` along a path to it (each at its own output rate;
    alignment delays count as latency, not tail)."""
    memo = {} if _memo is None else _memo
    if id(step) in memo:
        return memo[id(step)]
    if step.block is None:          # a graph input
        t = 0
    else:
        t_in = max(path_tail(s, memo) for s in step.sources)
        r = step.block.rate
        t = -(-t_in * r.numerator // r.denominator) + step.block.tail_frames
    memo[id(step)] = t
    return t


def to_dot(nodes, outputs, steps=None):
    """Graphviz text for the graph, latencies on the nodes and alignment delays on the edges."""
    lines = ["digraph streamdsp {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    try:
        steps, _ = plan([n for n in nodes if n.is_input], outputs)
    except ValueError:
        steps = []
    lat = {id(s.node): s for s in steps if s.node is not None}
    for n in nodes:
        if n.is_input:
            lines.append(f'  "{n.name}" [shape=ellipse];')
        else:
            s = lat.get(id(n))
            extra = f"\\nlatency {n.block.latency}" if n.block.latency else ""
            if s is not None and s.latency:
                extra += f"\\n(path {s.latency})"
            lines.append(f'  "{n.name}" [label="{n.name}\\n{type(n.block).__name__}{extra}"];')
    for s in steps:
        if s.node is None:
            continue
        for src in s.sources:
            label = ""
            while isinstance(src, Step) and src.node is None:      # through inserted delays
                label = f' [label="delay {src.delay}"]'
                src = src.sources[0]
            if isinstance(src, Step):
                lines.append(f'  "{src.name}" -> "{s.name}"{label};')
    for i, o in enumerate(outputs):
        lines.append(f'  "out{i}" [shape=ellipse];')
        lines.append(f'  "{o.name}" -> "out{i}";')
    lines.append("}")
    return "\n".join(lines)
