"""Drawing a graph: Graphviz when its `dot` program is installed, matplotlib otherwise."""

import shutil
import subprocess


def draw_graph(graph, path=None):
    """Render ``graph``; with ``path`` write a PNG there and return the path, else return a figure."""
    dot = graph.to_dot()
    exe = shutil.which("dot")
    if exe and path is not None:
        subprocess.run([exe, "-Tpng", "-o", str(path)], input=dot.encode(), check=True)
        return str(path)
    import matplotlib
    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from streamdsp._graph._plan import toposort

    nodes = graph.nodes
    depth = {}
    for n in toposort(nodes):
        depth[id(n)] = 1 + max((depth[id(i)] for i in n.inputs), default=-1)
    columns = {}
    for n in nodes:
        columns.setdefault(depth[id(n)], []).append(n)
    pos = {id(n): (d, -i) for d, col in columns.items() for i, n in enumerate(col)}
    fig, ax = plt.subplots(figsize=(2 + 2.2 * len(columns), 1.5 + max(len(c) for c in columns.values())))
    for n in nodes:
        x, y = pos[id(n)]
        for src in n.inputs:
            sx, sy = pos[id(src)]
            ax.annotate("", xy=(x - 0.35, y), xytext=(sx + 0.35, sy),
                        arrowprops=dict(arrowstyle="->", color="0.4"))
        label = n.name if n.block is None else f"{n.name}\n{type(n.block).__name__}"
        if n.block is not None and n.block.latency:
            label += f"\nlatency {n.block.latency}"
        ax.text(x, y, label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", fc="#e8f0ff" if n.block is not None else "#fff3d6", ec="0.5"))
    ax.set_xlim(-0.6, max(columns) + 0.6)
    ax.set_ylim(-max(len(c) for c in columns.values()) + 0.4, 0.6)
    ax.axis("off")
    ax.set_title(repr(graph), fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        return str(path)
    return fig
