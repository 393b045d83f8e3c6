import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  contains,
  cycle,
  isLayout,
  leaf,
  neighbour,
  normalizeSizes,
  paneRects,
  panesOf,
  reconcile,
  removePane,
  setSizes,
  shapeKey,
  splitPane
} from '../src/layout';
import type { LayoutNode } from '../src/layout';

/** The server's check (model.py _walk): sizes positive, one per child, summing to 1 +- 0.02. */
function assertValid(node: LayoutNode | null): void {
  if (node === null || node.type === 'pane') {
    return;
  }
  assert.ok(node.children.length >= 2, `a split with ${node.children.length} children`);
  assert.equal(node.sizes.length, node.children.length);
  assert.ok(node.sizes.every(s => s > 0), `sizes not positive: ${node.sizes}`);
  assert.ok(Math.abs(node.sizes.reduce((a, b) => a + b, 0) - 1) <= 0.02, `sizes ${node.sizes}`);
  node.children.forEach(assertValid);
}

/** Builds the 2x2 grid a user makes with: split right, then split each half down. */
function grid2x2(): LayoutNode {
  let l = splitPane(null, null, 'a', 'right');
  l = splitPane(l, 'a', 'b', 'right');
  l = splitPane(l, 'a', 'c', 'down');
  l = splitPane(l, 'b', 'd', 'down');
  return l;
}

describe('splitPane', () => {
  it('makes the first pane the whole layout', () => {
    assert.deepEqual(splitPane(null, null, 'a', 'right'), leaf('a'));
  });

  it('splits a lone pane in two halves, right = row, down = column', () => {
    assert.deepEqual(splitPane(leaf('a'), 'a', 'b', 'right'), {
      type: 'split',
      direction: 'row',
      children: [leaf('a'), leaf('b')],
      sizes: [0.5, 0.5]
    });
    assert.equal((splitPane(leaf('a'), 'a', 'b', 'down') as { direction: string }).direction, 'column');
  });

  it('adds a sibling (halving the target) instead of nesting a row in a row', () => {
    const l = splitPane(splitPane(leaf('a'), 'a', 'b', 'right'), 'a', 'c', 'right');
    assert.deepEqual(l, {
      type: 'split',
      direction: 'row',
      children: [leaf('a'), leaf('c'), leaf('b')],
      sizes: [0.25, 0.25, 0.5]
    });
    assertValid(l);
  });

  it('nests a column in a row for a split down', () => {
    const l = grid2x2();
    assert.equal(shapeKey(l), 'R(C(a,c),C(b,d))');
    assert.deepEqual(panesOf(l), ['a', 'c', 'b', 'd']);
    assertValid(l);
  });

  it('appends at the root without a target, keeping proportions', () => {
    const l = splitPane(splitPane(leaf('a'), 'a', 'b', 'right'), null, 'c', 'right');
    assert.equal(shapeKey(l), 'R(a,b,c)');
    const sizes = (l as { sizes: number[] }).sizes;
    assert.ok(Math.abs(sizes[0] - 1 / 3) < 0.001 && Math.abs(sizes[2] - 1 / 3) < 0.001, `${sizes}`);
    assertValid(l);
  });

  it('refuses an unknown target and a duplicate pane', () => {
    assert.throws(() => splitPane(leaf('a'), 'x', 'b', 'right'), /not in the layout/);
    assert.throws(() => splitPane(leaf('a'), 'a', 'a', 'right'), /already/);
  });

  it('does not mutate its input', () => {
    const before = grid2x2();
    const copy = JSON.parse(JSON.stringify(before));
    splitPane(before, 'c', 'e', 'right');
    assert.deepEqual(before, copy);
  });
});

describe('removePane', () => {
  it('removes the last pane to an empty layout', () => {
    assert.equal(removePane(leaf('a'), 'a'), null);
  });

  it('collapses a split left with one child into that child', () => {
    const l = splitPane(leaf('a'), 'a', 'b', 'down');
    assert.deepEqual(removePane(l, 'b'), leaf('a'));
  });

  it('gives the removed share to the siblings in proportion', () => {
    const l: LayoutNode = {
      type: 'split',
      direction: 'row',
      children: [leaf('a'), leaf('b'), leaf('c')],
      sizes: [0.5, 0.25, 0.25]
    };
    const r = removePane(l, 'a') as { sizes: number[] };
    assert.deepEqual(r.sizes, [0.5, 0.5]);
    const r2 = removePane(l, 'c') as { sizes: number[] };
    assert.ok(Math.abs(r2.sizes[0] - 2 / 3) < 0.001, `${r2.sizes}`);
    assertValid(r2 as LayoutNode);
  });

  it('merges a child that collapses into its parent\'s direction (no row in a row)', () => {
    // R(a, C(R(b, c), d)): removing d leaves R(b, c) inside the row, which must merge.
    const l: LayoutNode = {
      type: 'split',
      direction: 'row',
      children: [
        leaf('a'),
        {
          type: 'split',
          direction: 'column',
          children: [{ type: 'split', direction: 'row', children: [leaf('b'), leaf('c')], sizes: [0.5, 0.5] }, leaf('d')],
          sizes: [0.5, 0.5]
        }
      ],
      sizes: [0.5, 0.5]
    };
    const r = removePane(l, 'd');
    assert.equal(shapeKey(r), 'R(a,b,c)');
    assert.deepEqual((r as { sizes: number[] }).sizes, [0.5, 0.25, 0.25]);
    assertValid(r);
  });

  it('takes a 2x2 grid back down to one pane, valid at every step', () => {
    let l: LayoutNode | null = grid2x2();
    for (const id of ['d', 'a', 'b']) {
      l = removePane(l, id);
      assertValid(l);
      assert.ok(!contains(l, id));
    }
    assert.deepEqual(l, leaf('c'));
  });

  it('leaves a layout without the pane unchanged', () => {
    const l = grid2x2();
    assert.equal(removePane(l, 'zz'), l);
  });
});

describe('normalizeSizes and setSizes', () => {
  it('scales to a sum of exactly 1 with 4 decimals', () => {
    const s = normalizeSizes([1, 1, 1], 3);
    assert.equal(s.reduce((a, b) => a + b, 0).toFixed(10), '1.0000000000');
    assert.ok(s.every(x => Math.round(x * 10000) === x * 10000 || Math.abs(x * 10000 - Math.round(x * 10000)) < 1e-6));
  });

  it('repairs zero, negative, NaN and missing entries (a collapsed SplitPanel child)', () => {
    const s = normalizeSizes([0.7, 0, NaN], 3);
    assert.ok(s.every(x => x > 0), `${s}`);
    assert.ok(Math.abs(s.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.deepEqual(normalizeSizes([], 2), [0.5, 0.5]);
    assert.deepEqual(normalizeSizes([-1, -1], 2), [0.5, 0.5]);
  });

  it('sets the sizes of the split at a path', () => {
    const l = setSizes(grid2x2(), [1], [3, 1]);
    assert.deepEqual((l as { children: Array<{ sizes: number[] }> }).children[1].sizes, [0.75, 0.25]);
    assertValid(l);
  });

  it('refuses a path that does not lead to a split', () => {
    assert.throws(() => setSizes(grid2x2(), [0, 0], [0.5, 0.5]), /no split/);
    assert.throws(() => setSizes(grid2x2(), [5], [0.5, 0.5]), /no split/);
  });
});

describe('neighbour', () => {
  it('moves around a 2x2 grid', () => {
    const l = grid2x2(); // a | b  over  c | d
    assert.equal(neighbour(l, 'a', 'right'), 'b');
    assert.equal(neighbour(l, 'a', 'down'), 'c');
    assert.equal(neighbour(l, 'd', 'left'), 'c');
    assert.equal(neighbour(l, 'd', 'up'), 'b');
    assert.equal(neighbour(l, 'a', 'left'), null);
    assert.equal(neighbour(l, 'a', 'up'), null);
    assert.equal(neighbour(l, 'd', 'right'), null);
  });

  it('picks the pane sharing the longest stretch of the edge', () => {
    // Left: a over b (a is 70 % tall). Right: c, one tall pane.
    const l: LayoutNode = {
      type: 'split',
      direction: 'row',
      children: [
        { type: 'split', direction: 'column', children: [leaf('a'), leaf('b')], sizes: [0.7, 0.3] },
        leaf('c')
      ],
      sizes: [0.5, 0.5]
    };
    assert.equal(neighbour(l, 'c', 'left'), 'a');
    assert.equal(neighbour(l, 'b', 'right'), 'c');
  });

  it('crosses split boundaries that do not line up', () => {
    // a | b on top (50/50), one wide c below: from c, up goes to the pane above its middle.
    const l: LayoutNode = {
      type: 'split',
      direction: 'column',
      children: [{ type: 'split', direction: 'row', children: [leaf('a'), leaf('b')], sizes: [0.3, 0.7] }, leaf('c')],
      sizes: [0.5, 0.5]
    };
    assert.equal(neighbour(l, 'c', 'up'), 'b');
    assert.equal(neighbour(l, 'a', 'down'), 'c');
  });

  it('answers null for an unknown pane', () => {
    assert.equal(neighbour(grid2x2(), 'zz', 'left'), null);
  });
});

describe('paneRects, cycle, reconcile, isLayout', () => {
  it('covers the unit square exactly', () => {
    const rects = paneRects(grid2x2());
    const area = [...rects.values()].reduce((a, r) => a + r.w * r.h, 0);
    assert.ok(Math.abs(area - 1) < 1e-9);
    assert.deepEqual(rects.get('d'), { x: 0.5, y: 0.5, w: 0.5, h: 0.5 });
  });

  it('cycles in reading order and wraps', () => {
    const l = grid2x2(); // reading order a, c, b, d
    assert.equal(cycle(l, 'a', 1), 'c');
    assert.equal(cycle(l, 'd', 1), 'a');
    assert.equal(cycle(l, 'a', -1), 'd');
    assert.equal(cycle(l, null, 1), 'a');
    assert.equal(cycle(null, 'a', 1), null);
  });

  it('reconciles a tree with the panes the space has', () => {
    const l = reconcile(grid2x2(), ['a', 'b', 'c', 'e']);
    assert.deepEqual(new Set(panesOf(l)), new Set(['a', 'b', 'c', 'e']));
    assertValid(l);
    assert.equal(reconcile(null, []), null);
    assert.deepEqual(reconcile(null, ['x']), leaf('x'));
  });

  it('recognizes well-formed trees only', () => {
    assert.ok(isLayout(grid2x2()));
    assert.ok(!isLayout(null));
    assert.ok(!isLayout({ type: 'split', direction: 'row', children: [leaf('a')], sizes: [1] }));
    assert.ok(!isLayout({ type: 'split', direction: 'diagonal', children: [leaf('a'), leaf('b')], sizes: [0.5, 0.5] }));
    assert.ok(!isLayout({ type: 'pane' }));
  });
});
