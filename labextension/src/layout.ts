/**
 * Pure functions on a space's layout tree (no DOM, no JupyterLab), so they can be unit-tested
 * under node and so the grid on screen and the tree in the workspace file never disagree.
 *
 * The tree is the one the server stores (jupyter_spaces/model/layout.py):
 *   {type: "pane", pane: id}
 *   {type: "split", direction: "row" | "column", children: [...], sizes: [...]}
 * A "row" lays its children left to right, a "column" top to bottom; sizes are positive
 * fractions summing to 1. Every function returns a new tree and never mutates its input.
 */

export type Direction = 'row' | 'column';

export interface IPaneNode {
  type: 'pane';
  pane: string;
}

export interface ISplitNode {
  type: 'split';
  direction: Direction;
  children: LayoutNode[];
  sizes: number[];
}

export type LayoutNode = IPaneNode | ISplitNode;

/** Where a split of a pane puts the new pane: to its right or below it. */
export type SplitSide = 'right' | 'down';

/** A direction to move keyboard focus in. */
export type Heading = 'left' | 'right' | 'up' | 'down';

/** Indexes of children from the root to a node. */
export type LayoutPath = number[];

/** A pane's place on a unit square (x, y, width, height all in 0..1). */
export interface IRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function leaf(pane: string): IPaneNode {
  return { type: 'pane', pane };
}

/** The pane ids in reading order (depth first, children in order). */
export function panesOf(layout: LayoutNode | null): string[] {
  if (layout === null) {
    return [];
  }
  if (layout.type === 'pane') {
    return [layout.pane];
  }
  return layout.children.flatMap(panesOf);
}

/** Whether `layout` shows `paneId`. */
export function contains(layout: LayoutNode | null, paneId: string): boolean {
  return panesOf(layout).includes(paneId);
}

/**
 * Sizes scaled to sum to 1, with non-positive or non-finite entries replaced by an equal share.
 *
 * The server rejects sizes that are not positive or do not sum to 1 (within 0.02), and a
 * SplitPanel can report a 0 for a collapsed child, so every size we send goes through here.
 * Values are rounded to 4 decimals (a workspace file that a person reads and diffs should not
 * carry 17 digits of float noise) and the rounding error is put on the largest entry.
 */
export function normalizeSizes(sizes: readonly number[], count: number): number[] {
  if (count <= 0) {
    return [];
  }
  const fair = 1 / count;
  let raw = Array.from({ length: count }, (_, i) => {
    const s = sizes[i];
    return typeof s === 'number' && Number.isFinite(s) && s > 0 ? s : 0;
  });
  const total = raw.reduce((a, b) => a + b, 0);
  if (total <= 0) {
    raw = raw.map(() => fair);
  } else {
    // Give missing entries a fair share of the whole before scaling.
    const missing = raw.filter(s => s === 0).length;
    if (missing > 0) {
      const present = raw.filter(s => s > 0).length;
      const share = (total / Math.max(present, 1)) || fair;
      raw = raw.map(s => (s > 0 ? s : share));
    }
  }
  const sum = raw.reduce((a, b) => a + b, 0);
  // Never round a share down to 0: the server requires every size to be positive.
  const rounded = raw.map(s => Math.max(0.0001, Math.round((s / sum) * 10000) / 10000));
  const error = 1 - rounded.reduce((a, b) => a + b, 0);
  let biggest = 0;
  rounded.forEach((s, i) => {
    if (s > rounded[biggest]) {
      biggest = i;
    }
  });
  rounded[biggest] = Math.round((rounded[biggest] + error) * 10000) / 10000;
  return rounded;
}

function directionOf(side: SplitSide): Direction {
  return side === 'right' ? 'row' : 'column';
}

/**
 * A new tree with `newPane` put right of or below `target`, taking half of its share.
 *
 * Beside a pane whose parent already splits in that direction the new pane becomes a sibling,
 * rather than a nested split of the same direction: the same rule as the server's
 * `layout_add`, so the tree a client predicts after `POST .../panes {next_to, direction}` is
 * the tree the server stores. With an empty layout the new pane is the whole layout.
 */
export function splitPane(
  layout: LayoutNode | null,
  target: string | null,
  newPane: string,
  side: SplitSide
): LayoutNode {
  if (contains(layout, newPane)) {
    throw new Error(`pane ${newPane} is already in the layout`);
  }
  if (layout === null) {
    return leaf(newPane);
  }
  const direction = directionOf(side);
  if (target === null) {
    // No target: append at the root's end, the others keep their proportions.
    if (layout.type === 'split' && layout.direction === direction) {
      const n = layout.children.length + 1;
      return {
        ...layout,
        children: [...layout.children, leaf(newPane)],
        sizes: normalizeSizes([...layout.sizes.map(s => (s * (n - 1)) / n), 1 / n], n)
      };
    }
    return { type: 'split', direction, children: [layout, leaf(newPane)], sizes: [0.5, 0.5] };
  }
  if (!contains(layout, target)) {
    throw new Error(`pane ${target} is not in the layout`);
  }
  const add = (node: LayoutNode): LayoutNode => {
    if (node.type === 'pane') {
      return node.pane === target
        ? { type: 'split', direction, children: [node, leaf(newPane)], sizes: [0.5, 0.5] }
        : node;
    }
    if (node.direction === direction) {
      const i = node.children.findIndex(c => c.type === 'pane' && c.pane === target);
      if (i >= 0) {
        const half = node.sizes[i] / 2;
        return {
          ...node,
          children: [...node.children.slice(0, i + 1), leaf(newPane), ...node.children.slice(i + 1)],
          sizes: [...node.sizes.slice(0, i), half, half, ...node.sizes.slice(i + 1)]
        };
      }
    }
    return { ...node, children: node.children.map(add) };
  };
  return add(layout);
}

/**
 * A new tree without `paneId` (null when it was the last pane).
 *
 * Splits left with one child collapse into that child, a child split that ends up with the
 * direction of its parent is merged into it, and the removed share goes to the siblings in
 * proportion to their sizes (the server's `layout_remove` does the same).
 */
export function removePane(layout: LayoutNode | null, paneId: string): LayoutNode | null {
  if (!contains(layout, paneId)) {
    return layout;
  }
  const remove = (node: LayoutNode): LayoutNode | null => {
    if (node.type === 'pane') {
      return node.pane === paneId ? null : node;
    }
    const kept: Array<[LayoutNode, number]> = [];
    node.children.forEach((child, i) => {
      const rest = remove(child);
      if (rest !== null) {
        kept.push([rest, node.sizes[i]]);
      }
    });
    if (kept.length === 0) {
      return null;
    }
    if (kept.length === 1) {
      return kept[0][0];
    }
    const children: LayoutNode[] = [];
    const sizes: number[] = [];
    for (const [child, size] of kept) {
      if (child.type === 'split' && child.direction === node.direction) {
        children.push(...child.children);
        sizes.push(...child.sizes.map(s => s * size));
      } else {
        children.push(child);
        sizes.push(size);
      }
    }
    return { ...node, children, sizes: normalizeSizes(sizes, children.length) };
  };
  return remove(layout as LayoutNode);
}

/** The node at `path`, or null if the path leads nowhere. */
export function nodeAt(layout: LayoutNode | null, path: LayoutPath): LayoutNode | null {
  let node = layout;
  for (const i of path) {
    if (node === null || node.type !== 'split' || i < 0 || i >= node.children.length) {
      return null;
    }
    node = node.children[i];
  }
  return node;
}

/**
 * A new tree with the split at `path` given `sizes` (normalized). Throws if `path` does not
 * lead to a split, so a stale path from a grid drawn for an older tree is noticed.
 */
export function setSizes(layout: LayoutNode, path: LayoutPath, sizes: readonly number[]): LayoutNode {
  const target = nodeAt(layout, path);
  if (target === null || target.type !== 'split') {
    throw new Error(`no split at [${path.join(', ')}]`);
  }
  const set = (node: LayoutNode, depth: number): LayoutNode => {
    if (node.type !== 'split') {
      return node;
    }
    if (depth === path.length) {
      return { ...node, sizes: normalizeSizes(sizes, node.children.length) };
    }
    const i = path[depth];
    return {
      ...node,
      children: node.children.map((c, j) => (j === i ? set(c, depth + 1) : c))
    };
  };
  return set(layout, 0);
}

/** The tree without its sizes: two trees with the same shape draw the same panels. */
export function shapeKey(layout: LayoutNode | null): string {
  if (layout === null) {
    return '';
  }
  if (layout.type === 'pane') {
    return layout.pane;
  }
  return `${layout.direction === 'row' ? 'R' : 'C'}(${layout.children.map(shapeKey).join(',')})`;
}

/**
 * A tree that shows exactly `paneIds`: panes the tree does not know are appended in a row at
 * the end, and entries for panes that are gone are removed.
 *
 * The server keeps the tree and the pane list consistent, so this is a safety net for a
 * client that holds a tree while events arrive out of order, not a routine path.
 */
export function reconcile(layout: LayoutNode | null, paneIds: readonly string[]): LayoutNode | null {
  const wanted = new Set(paneIds);
  let out = layout;
  for (const id of panesOf(layout)) {
    if (!wanted.has(id)) {
      out = removePane(out, id);
    }
  }
  for (const id of paneIds) {
    if (!contains(out, id)) {
      out = splitPane(out, null, id, 'right');
    }
  }
  return out;
}

/** Every pane's rectangle on the unit square. */
export function paneRects(layout: LayoutNode | null): Map<string, IRect> {
  const out = new Map<string, IRect>();
  const walk = (node: LayoutNode, r: IRect): void => {
    if (node.type === 'pane') {
      out.set(node.pane, r);
      return;
    }
    const total = node.sizes.reduce((a, b) => a + b, 0) || 1;
    let offset = 0;
    node.children.forEach((child, i) => {
      const share = (node.sizes[i] ?? 0) / total;
      if (node.direction === 'row') {
        walk(child, { x: r.x + offset * r.w, y: r.y, w: share * r.w, h: r.h });
      } else {
        walk(child, { x: r.x, y: r.y + offset * r.h, w: r.w, h: share * r.h });
      }
      offset += share;
    });
  };
  if (layout !== null) {
    walk(layout, { x: 0, y: 0, w: 1, h: 1 });
  }
  return out;
}

const EPS = 1e-6;

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

/**
 * The pane next to `paneId` in `heading`, as a person looking at the grid would pick it: among
 * the panes that touch its edge on that side, the one sharing the longest stretch of that edge
 * (ties: the one nearest the middle of the edge). Null at the grid's border.
 */
export function neighbour(layout: LayoutNode | null, paneId: string, heading: Heading): string | null {
  const rects = paneRects(layout);
  const me = rects.get(paneId);
  if (me === undefined) {
    return null;
  }
  let best: string | null = null;
  let bestOverlap = 0;
  let bestDistance = Infinity;
  for (const [id, r] of rects) {
    if (id === paneId) {
      continue;
    }
    let touches: boolean;
    let shared: number;
    let distance: number;
    if (heading === 'left' || heading === 'right') {
      touches =
        heading === 'right' ? Math.abs(r.x - (me.x + me.w)) < EPS : Math.abs(r.x + r.w - me.x) < EPS;
      shared = overlap(me.y, me.y + me.h, r.y, r.y + r.h);
      distance = Math.abs(r.y + r.h / 2 - (me.y + me.h / 2));
    } else {
      touches =
        heading === 'down' ? Math.abs(r.y - (me.y + me.h)) < EPS : Math.abs(r.y + r.h - me.y) < EPS;
      shared = overlap(me.x, me.x + me.w, r.x, r.x + r.w);
      distance = Math.abs(r.x + r.w / 2 - (me.x + me.w / 2));
    }
    if (!touches || shared <= EPS) {
      continue;
    }
    if (shared > bestOverlap + EPS || (Math.abs(shared - bestOverlap) <= EPS && distance < bestDistance)) {
      best = id;
      bestOverlap = shared;
      bestDistance = distance;
    }
  }
  return best;
}

/** The pane `step` places after `paneId` in reading order, wrapping around. */
export function cycle(layout: LayoutNode | null, paneId: string | null, step: number): string | null {
  const ids = panesOf(layout);
  if (ids.length === 0) {
    return null;
  }
  const i = paneId === null ? -1 : ids.indexOf(paneId);
  if (i < 0) {
    return step >= 0 ? ids[0] : ids[ids.length - 1];
  }
  return ids[(((i + step) % ids.length) + ids.length) % ids.length];
}

/** Whether a JSON value is a well-formed layout tree (for data that comes off the wire). */
export function isLayout(value: unknown, depth = 0): value is LayoutNode {
  if (depth > 32 || typeof value !== 'object' || value === null) {
    return false;
  }
  const v = value as Record<string, unknown>;
  if (v.type === 'pane') {
    return typeof v.pane === 'string';
  }
  if (v.type !== 'split' || (v.direction !== 'row' && v.direction !== 'column')) {
    return false;
  }
  const { children, sizes } = v;
  return (
    Array.isArray(children) &&
    Array.isArray(sizes) &&
    children.length >= 2 &&
    sizes.length === children.length &&
    sizes.every(s => typeof s === 'number') &&
    children.every(c => isLayout(c, depth + 1))
  );
}
