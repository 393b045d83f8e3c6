/**
 * The reconnect policy of a pane channel, kept free of timers and sockets so it can be tested:
 * when to try again (exponential backoff with jitter), whether to try at all (how the socket
 * closed), and what happens to keystrokes typed while there is no connection (a bounded buffer
 * that refuses, visibly, what does not fit, instead of dropping it silently).
 */

export interface IBackoffOptions {
  /** Delay before the first retry, in ms. */
  initial?: number;
  /** Largest delay, in ms. */
  max?: number;
  /** Growth factor per failed attempt. */
  factor?: number;
  /**
   * Fraction of each delay that is randomized (0 = none, 1 = "full jitter"). Jitter spreads
   * the reconnects of many panes and many browsers after a server restart, so they do not all
   * hit the new server in the same millisecond.
   */
  jitter?: number;
}

/** Exponential backoff: initial, initial*factor, ... capped at max, each with jitter. */
export class Backoff {
  constructor(options: IBackoffOptions = {}, random: () => number = Math.random) {
    this.initial = options.initial ?? 250;
    this.max = options.max ?? 15000;
    this.factor = options.factor ?? 2;
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this._random = random;
  }

  readonly initial: number;
  readonly max: number;
  readonly factor: number;
  readonly jitter: number;

  /** Failed attempts since the last success. */
  get attempts(): number {
    return this._attempts;
  }

  /** The delay before the next attempt (ms); each call counts one more failed attempt. */
  next(): number {
    const base = Math.min(this.max, this.initial * Math.pow(this.factor, this._attempts));
    this._attempts += 1;
    // Keep (1 - jitter) of the delay and randomize the rest, so the delay never drops to 0
    // and a tight loop of failures cannot hammer the server.
    const delay = base * (1 - this.jitter) + base * this.jitter * this._random();
    return Math.round(delay);
  }

  /** A connection succeeded: the next failure starts again from `initial`. */
  reset(): void {
    this._attempts = 0;
  }

  private _attempts = 0;
  private _random: () => number;
}

/**
 * Whether a channel that closed with `code` should be opened again.
 *
 * The server closes with 1000 and a reason when the pane's stream is over (the pane was
 * deleted, or its tmux session ended): reconnecting would only fail or, worse, reattach to a
 * pane restarted by someone else without the user seeing why the old one ended. Anything
 * else (1001 server going away, 1006 dropped network, 1011 server error, a refused handshake)
 * is a connection problem and is retried.
 */
export function shouldReconnect(code: number): boolean {
  // 1000: the pane ended. 4400-4499: the server refused the channel (4000 + an HTTP 4xx: the
  // pane does not exist, is gone, or the query was bad); retrying would get the same answer.
  return code !== 1000 && !(code >= 4400 && code <= 4499);
}

/** What `InputBuffer.push` did with the text. */
export type BufferResult = 'buffered' | 'refused';

/**
 * Keystrokes typed while the channel is down, sent in order when it is back.
 *
 * Bounded (a stuck key or a paste into a dead pane must not grow memory without end), and
 * all-or-nothing per chunk: a chunk that does not fit is refused whole, so what is sent later
 * is always a prefix of what was typed, never a sequence with holes in the middle (a half-sent
 * command line is worse than none).
 */
export class InputBuffer {
  constructor(readonly capacity = 4096) {}

  get size(): number {
    return this._size;
  }

  get isEmpty(): boolean {
    return this._chunks.length === 0;
  }

  /** Whether anything was refused since the last `drain`/`clear` (to keep the warning up). */
  get refusedSince(): boolean {
    return this._refused;
  }

  push(text: string): BufferResult {
    if (this._refused || this._size + text.length > this.capacity) {
      // Once something is refused, refuse the rest too: sending keys typed after a gap would
      // run them without the ones that were lost.
      this._refused = true;
      return 'refused';
    }
    this._chunks.push(text);
    this._size += text.length;
    return 'buffered';
  }

  /** Everything buffered, in order, as one string; the buffer is empty afterwards. */
  drain(): string {
    const out = this._chunks.join('');
    this.clear();
    return out;
  }

  clear(): void {
    this._chunks = [];
    this._size = 0;
    this._refused = false;
  }

  private _chunks: string[] = [];
  private _size = 0;
  private _refused = false;
}
