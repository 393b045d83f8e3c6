import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Backoff, InputBuffer, shouldReconnect } from '../src/reconnect';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap (no jitter)', () => {
    const b = new Backoff({ initial: 100, max: 1000, factor: 2, jitter: 0 });
    const delays = Array.from({ length: 7 }, () => b.next());
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
    assert.equal(b.attempts, 7);
  });

  it('starts again from the initial delay after a success', () => {
    const b = new Backoff({ initial: 100, jitter: 0 });
    b.next();
    b.next();
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 100);
  });

  it('keeps jittered delays between (1 - jitter) and 1 times the base', () => {
    const low = new Backoff({ initial: 1000, jitter: 0.5 }, () => 0);
    const high = new Backoff({ initial: 1000, jitter: 0.5 }, () => 0.999999);
    assert.equal(low.next(), 500);
    assert.equal(high.next(), 1000);
  });

  it('spreads the delays of many clients (jitter is really applied)', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const delays = new Set(Array.from({ length: 20 }, () => new Backoff({ initial: 1000, jitter: 0.5 }, random).next()));
    assert.ok(delays.size > 10, `only ${delays.size} distinct delays`);
  });

  it('never returns 0 or a negative delay, even with full jitter', () => {
    const b = new Backoff({ initial: 1, jitter: 5 }, () => 0);
    assert.equal(b.jitter, 1);
    assert.ok(b.next() >= 0);
    const c = new Backoff({ initial: 250, jitter: 0.5 }, () => 0);
    assert.ok(c.next() > 0);
  });
});

describe('shouldReconnect', () => {
  it('does not reconnect after a normal close (the pane ended)', () => {
    assert.equal(shouldReconnect(1000), false);
  });

  it('does not reconnect when the server refused the channel (4000 + an HTTP 4xx)', () => {
    for (const code of [4400, 4404, 4409, 4499]) {
      assert.equal(shouldReconnect(code), false, `code ${code}`);
    }
  });

  it('reconnects after a server going away, a dropped network or an error', () => {
    for (const code of [1001, 1006, 1011, 1012, 1013, 4000]) {
      assert.equal(shouldReconnect(code), true, `code ${code}`);
    }
  });
});

describe('InputBuffer', () => {
  it('keeps typed text in order and drains it once', () => {
    const buf = new InputBuffer(100);
    assert.equal(buf.push('ls'), 'buffered');
    assert.equal(buf.push(' -l\r'), 'buffered');
    assert.equal(buf.size, 6);
    assert.equal(buf.drain(), 'ls -l\r');
    assert.ok(buf.isEmpty);
    assert.equal(buf.drain(), '');
  });

  it('refuses a chunk that does not fit, whole, and everything after it', () => {
    const buf = new InputBuffer(5);
    assert.equal(buf.push('abc'), 'buffered');
    assert.equal(buf.push('def'), 'refused');
    // Even a chunk that would fit: sending it would leave a hole where "def" was.
    assert.equal(buf.push('g'), 'refused');
    assert.ok(buf.refusedSince);
    assert.equal(buf.drain(), 'abc');
  });

  it('accepts input again after a drain or a clear', () => {
    const buf = new InputBuffer(2);
    buf.push('xyz');
    buf.clear();
    assert.equal(buf.push('ok'), 'buffered');
    assert.equal(buf.refusedSince, false);
  });
});
