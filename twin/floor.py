"""Walking on a store's floor plan: a walkable grid around the gondolas and shortest paths through it.

Shoppers walk the aisles, not through shelves: the floor is a grid of 0.25 m cells minus the gondola
footprints (with a little clearance), and a walk between two floor points is the grid's shortest
path (8-neighbour moves), straightened by dropping the cells a straight line can skip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from walkout.catalog import Store

CELL_M = 0.25
CLEARANCE_M = 0.15

Point = tuple[float, float]


@dataclass
class FloorGrid:
    """The walkable cells of one store and cached shortest-path trees from the cells asked about."""

    store: Store
    walkable: npt.NDArray[np.bool_]
    graph: csr_matrix
    _trees: dict[int, npt.NDArray[np.int32]] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.walkable.shape
        return int(rows), int(cols)

    def cell_of(self, point: Point) -> int:
        """The walkable cell nearest to a floor point."""
        rows, cols = self.shape
        row = min(max(int(point[1] / CELL_M), 0), rows - 1)
        col = min(max(int(point[0] / CELL_M), 0), cols - 1)
        if self.walkable[row, col]:
            return row * cols + col
        free_rows, free_cols = np.nonzero(self.walkable)
        nearest = int(np.argmin((free_rows - row) ** 2 + (free_cols - col) ** 2))
        return int(free_rows[nearest]) * cols + int(free_cols[nearest])

    def centre(self, cell: int) -> Point:
        cols = self.shape[1]
        return ((cell % cols + 0.5) * CELL_M, (cell // cols + 0.5) * CELL_M)

    def route(self, start: Point, end: Point) -> list[Point]:
        """Waypoints of a walk from ``start`` to ``end`` through the aisles (both ends included)."""
        source, target = self.cell_of(start), self.cell_of(end)
        predecessors = self._tree(target)
        cells = [source]
        while cells[-1] != target:
            step = int(predecessors[cells[-1]])
            if step < 0:  # unreachable: the floor plan is split; walk straight rather than fail
                break
            cells.append(step)
        return [start, *self._straighten([self.centre(cell) for cell in cells[1:-1]]), end]

    def _tree(self, target: int) -> npt.NDArray[np.int32]:
        # The graph is undirected, so the tree rooted at the target gives every walk toward it.
        if target not in self._trees:
            _, predecessors = dijkstra(self.graph, directed=False, indices=[target], return_predecessors=True)
            self._trees[target] = predecessors[0].astype(np.int32)
        return self._trees[target]

    def _straighten(self, points: list[Point]) -> list[Point]:
        """Keep only the turns: drop waypoints on a straight run."""
        if len(points) < 3:
            return points
        kept = [points[0]]
        for before, here, after in zip(points, points[1:], points[2:], strict=False):
            if not np.isclose(
                (here[0] - before[0]) * (after[1] - here[1]), (here[1] - before[1]) * (after[0] - here[0])
            ):
                kept.append(here)
        kept.append(points[-1])
        return kept


def build_floor_grid(store: Store) -> FloorGrid:
    """The walkable grid of a store: its floor minus gondolas (and clearance around them)."""
    cols = int(np.ceil(store.width_m / CELL_M))
    rows = int(np.ceil(store.depth_m / CELL_M))
    xs = (np.arange(cols) + 0.5) * CELL_M
    ys = (np.arange(rows) + 0.5) * CELL_M
    walkable = np.ones((rows, cols), dtype=bool)
    for gondola in store.gondolas:
        blocked_x = (xs > gondola.x0 - CLEARANCE_M) & (xs < gondola.x1 + CLEARANCE_M)
        blocked_y = (ys > gondola.y0 - CLEARANCE_M) & (ys < gondola.y1 + CLEARANCE_M)
        walkable[np.ix_(blocked_y, blocked_x)] = False
    return FloorGrid(store=store, walkable=walkable, graph=_grid_graph(walkable))


def _grid_graph(walkable: npt.NDArray[np.bool_]) -> csr_matrix:
    rows, cols = walkable.shape
    index = np.arange(rows * cols).reshape(rows, cols)
    sources: list[npt.NDArray[np.int64]] = []
    targets: list[npt.NDArray[np.int64]] = []
    weights: list[npt.NDArray[np.float64]] = []
    for d_row, d_col in ((0, 1), (1, 0), (1, 1), (1, -1)):
        row_slice = slice(0, rows - d_row)
        col_from = slice(max(0, -d_col), cols - max(0, d_col))
        col_to = slice(max(0, d_col), cols + min(0, d_col))
        both = walkable[row_slice, col_from] & walkable[d_row:, col_to]
        sources.append(index[row_slice, col_from][both])
        targets.append(index[d_row:, col_to][both])
        weights.append(np.full(int(both.sum()), np.hypot(d_row, d_col) * CELL_M))
    return csr_matrix(
        (np.concatenate(weights), (np.concatenate(sources), np.concatenate(targets))),
        shape=(rows * cols,) * 2,
    )
