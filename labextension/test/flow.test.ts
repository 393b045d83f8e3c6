import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AckTracker, charCount, slices } from '../src/flow';

describe('charCount', () => {
  it('counts code points, as the server (Python) does', () => {
    assert.equal(charCount('hello'), 5);
    assert.equal(charCount(''), 0);
    assert.equal(charCount('\u{1F600}'), 1); // one emoji: 2 UTF-16 units, 1 code point
    assert.equal(charCount('a\u{1F600}b\u{1F680}'), 4);
    assert.equal(charCount('\uD83D'), 1); // a lone surrogate counts once
  });
});

describe('AckTracker', () => {
  it('acknowledges each time a step more has been processed', () => {
    const t = new AckTracker(10);
    t.receive(25);
    assert.equal(t.process(6), null);
    assert.equal(t.process(6), 12);
    assert.equal(t.process(6), null);
    assert.equal(t.process(7), 25);
    assert.ok(t.caughtUp);
  });

  it('acknowledges the rest when output goes quiet, once', () => {
    const t = new AckTracker(16384);
    t.receive(5);
    assert.equal(t.process(5), null);
    assert.equal(t.idleAck(), 5);
    assert.equal(t.idleAck(), null);
  });

  it('never acknowledges more than was received', () => {
    const t = new AckTracker(4);
    t.receive(3);
    assert.equal(t.process(10), null);
    assert.equal(t.processed, 3);
    assert.equal(t.idleAck(), 3);
  });

  it('counts from zero again on a new connection', () => {
    const t = new AckTracker(4);
    t.receive(8);
    t.process(8);
    t.reset();
    assert.deepEqual([t.received, t.processed, t.acked], [0, 0, 0]);
    t.receive(4);
    assert.equal(t.process(4), 4);
  });

  it('keeps at most a step unacknowledged, so the server window (32 K) never stalls', () => {
    const t = new AckTracker(16384);
    let acked = 0;
    for (let i = 0; i < 100; i++) {
      t.receive(1000);
      const a = t.process(1000);
      if (a !== null) {
        acked = a;
      }
      assert.ok(t.processed - acked < 16384);
    }
  });
});

describe('slices', () => {
  it('cuts long output into pieces of at most the size, losing nothing', () => {
    const text = 'x'.repeat(10000);
    const parts = slices(text, 4096);
    assert.deepEqual(parts.map(p => p.length), [4096, 4096, 1808]);
    assert.equal(parts.join(''), text);
    assert.deepEqual(slices('short', 4096), ['short']);
  });

  it('never splits a surrogate pair', () => {
    const text = 'ab\u{1F600}cd';
    const parts = slices(text, 3); // a cut after 3 units would halve the emoji
    assert.equal(parts.join(''), text);
    for (const p of parts) {
      assert.equal(charCount(p), [...p].length, JSON.stringify(p));
      assert.ok(!/[\uD800-\uDBFF]$/.test(p), `piece ends in half an emoji: ${JSON.stringify(p)}`);
    }
  });
});
