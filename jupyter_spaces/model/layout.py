"""The layout tree of a space: checked, walked, and changed one pane at a time."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from .basics import _SIZES_TOLERANCE, MAX_LAYOUT_DEPTH, SPLIT_DIRECTIONS, Layout


def _walk(node: object, where: str, depth: int = 0) -> Iterable[str]:
    """Yield the pane ids of a layout tree in order; ValueError names the first malformed node."""
    if depth > MAX_LAYOUT_DEPTH:
        raise ValueError(f"layout is nested more than {MAX_LAYOUT_DEPTH} levels deep")
    if not isinstance(node, dict):
        raise ValueError(f"{where} must be an object, not {type(node).__name__}")
    kind = node.get("type")
    if kind == "pane":
        pane = node.get("pane")
        if not isinstance(pane, str):
            raise ValueError(f"{where}.pane must be a pane id string")
        yield pane
        return
    if kind != "split":
        raise ValueError(f"{where}.type must be 'pane' or 'split', not {kind!r}")
    if node.get("direction") not in SPLIT_DIRECTIONS:
        raise ValueError(
            f"{where}.direction must be 'row' or 'column', not {node.get('direction')!r}"
        )
    children = node.get("children")
    if not isinstance(children, list) or len(children) < 2:
        raise ValueError(f"{where}.children must be a list of at least two nodes")
    sizes = node.get("sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) != len(children)
        or not all(isinstance(s, int | float) and not isinstance(s, bool) for s in sizes)
    ):
        raise ValueError(f"{where}.sizes must be a list of one number per child")
    # Written as "not ... <=" so that NaN, which compares false with everything, fails too.
    if not all(s > 0 for s in sizes) or not abs(sum(sizes) - 1) <= _SIZES_TOLERANCE:
        raise ValueError(f"{where}.sizes must be positive fractions summing to 1, not {sizes}")
    for i, child in enumerate(children):
        yield from _walk(child, f"{where}.children[{i}]", depth + 1)


def layout_panes(layout: Layout | None) -> list[str]:
    """The pane ids in ``layout``, in reading order; ValueError if the tree is malformed."""
    return [] if layout is None else list(_walk(layout, "layout"))


def validate_layout(layout: Layout | None, pane_ids: Iterable[str]) -> None:
    """Raise ValueError unless ``layout`` is well formed and holds each of ``pane_ids`` once."""
    wanted = set(pane_ids)
    seen: set[str] = set()
    for pane in layout_panes(layout):
        if pane in seen:
            raise ValueError(f"layout shows pane {pane!r} more than once")
        if pane not in wanted:
            raise ValueError(f"layout shows pane {pane!r}, which is not in the space")
        seen.add(pane)
    missing = sorted(wanted - seen)
    if missing:
        raise ValueError(f"layout does not show pane(s) {', '.join(map(repr, missing))}")


def _leaf(pane_id: str) -> Layout:
    return {"type": "pane", "pane": pane_id}


def layout_add(
    layout: Layout | None, pane_id: str, next_to: str | None = None, direction: str = "row"
) -> Layout:
    """Return a new layout with ``pane_id`` added beside ``next_to`` (default: at the root's end).

    The new pane gets an equal share of the space it splits: beside a leaf it takes half of
    that leaf's share; at the root's end it takes 1/n and the others keep their proportions.
    """
    if direction not in SPLIT_DIRECTIONS:
        raise ValueError(f"direction must be 'row' or 'column', not {direction!r}")
    present = layout_panes(layout)
    if pane_id in present:
        raise ValueError(f"pane {pane_id!r} is already in the layout")
    if layout is None:
        if next_to is not None:
            raise ValueError(f"pane {next_to!r} is not in the layout")
        return _leaf(pane_id)
    if next_to is None:
        root = copy.deepcopy(layout)
        if root["type"] == "split" and root["direction"] == direction:
            n = len(root["children"]) + 1
            root["sizes"] = [s * (n - 1) / n for s in root["sizes"]] + [1 / n]
            root["children"].append(_leaf(pane_id))
            return root
        return {
            "type": "split",
            "direction": direction,
            "children": [root, _leaf(pane_id)],
            "sizes": [0.5, 0.5],
        }
    if next_to not in present:
        raise ValueError(f"pane {next_to!r} is not in the layout")

    def add(node: Layout) -> Layout:
        if node["type"] == "pane":
            if node["pane"] != next_to:
                return node
            return {
                "type": "split",
                "direction": direction,
                "children": [node, _leaf(pane_id)],
                "sizes": [0.5, 0.5],
            }
        children, sizes = node["children"], node["sizes"]
        for i, child in enumerate(children):
            # Beside a leaf in a split of the same direction, a new sibling reads better than
            # a nested split of one direction inside another of the same direction.
            if node["direction"] == direction and child.get("pane") == next_to:
                half = sizes[i] / 2
                node["children"] = [*children[: i + 1], _leaf(pane_id), *children[i + 1 :]]
                node["sizes"] = [*sizes[:i], half, half, *sizes[i + 1 :]]
                return node
        node["children"] = [add(child) for child in children]
        return node

    return add(copy.deepcopy(layout))


def layout_remove(layout: Layout | None, pane_id: str) -> Layout | None:
    """Return a new layout without ``pane_id``; splits left with one child collapse into it.

    The removed pane's share goes to its siblings in proportion to their sizes.
    """
    if pane_id not in layout_panes(layout):
        raise ValueError(f"pane {pane_id!r} is not in the layout")

    def remove(node: Layout) -> Layout | None:
        if node["type"] == "pane":
            return None if node["pane"] == pane_id else node
        kept: list[tuple[Layout, float]] = []
        for child, size in zip(node["children"], node["sizes"], strict=True):
            rest = remove(child)
            if rest is not None:
                kept.append((rest, size))
        if len(kept) == 1:
            return kept[0][0]
        # A child that collapsed into a split of our direction is merged into us, so the tree
        # never nests a row directly inside a row.
        children: list[Layout] = []
        sizes: list[float] = []
        for child, size in kept:
            if child["type"] == "split" and child["direction"] == node["direction"]:
                children += child["children"]
                sizes += [size * s for s in child["sizes"]]
            else:
                children.append(child)
                sizes.append(size)
        total = sum(sizes)
        node["children"] = children
        node["sizes"] = [s / total for s in sizes]
        return node

    assert layout is not None  # layout_panes(None) is empty, so the check above raised
    return remove(copy.deepcopy(layout))
