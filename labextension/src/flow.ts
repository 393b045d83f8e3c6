/**
 * Acknowledgements for the pane channel's windowed flow control, as the xterm.js flow-control
 * guide describes: count what xterm.js has *processed* (its write callback), not what arrived,
 * and tell the server now and then. The server then keeps at most its window
 * (SpacesApp.flow_window, 32 K characters by default) unacknowledged, so a flood such as `yes`
 * is held back in tmux instead of piling up in the browser, and a Ctrl-C is seen promptly.
 *
 * Pure bookkeeping; the channel owns the socket and the timer.
 */

/**
 * Characters as the server counts them (Python str length: code points), not UTF-16 units.
 *
 * Counting more than the server sent would be harmless (it clamps acks to what it sent), but
 * counting fewer would leave the window short forever; counting exactly keeps both honest.
 */
export function charCount(text: string): number {
  let n = text.length;
  // Fast path: most output has no astral characters (emoji, some CJK), so skip the scan.
  if (!/[\uD800-\uDBFF]/.test(text)) {
    return n;
  }
  for (let i = 0; i < text.length - 1; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n -= 1;
        i += 1;
      }
    }
  }
  return n;
}

/**
 * `text` in pieces of at most `size` UTF-16 units, never splitting a surrogate pair (so each
 * piece counts the characters the server counted, and xterm.js never sees half an emoji).
 */
export function slices(text: string, size: number): string[] {
  if (text.length <= size) {
    return [text];
  }
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff && end - 1 > start) {
      end -= 1;
    }
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

export class AckTracker {
  /**
   * @param step - send an ack each time this many more characters have been processed. It
   *   must stay well below the server's window (32 K) or the server would stall waiting for
   *   an ack the client is not yet willing to send; `idleAck` covers smaller windows.
   */
  constructor(readonly step = 8192) {}

  /** Characters received on this connection. */
  get received(): number {
    return this._received;
  }

  /** Characters xterm.js has processed on this connection. */
  get processed(): number {
    return this._processed;
  }

  /** The last total sent to the server. */
  get acked(): number {
    return this._acked;
  }

  /** Whether everything received has been processed. */
  get caughtUp(): boolean {
    return this._processed >= this._received;
  }

  /** `n` characters arrived and were handed to xterm.js. */
  receive(n: number): void {
    this._received += n;
  }

  /**
   * xterm.js finished processing `n` characters. Returns the total to acknowledge now, or
   * null when no ack is due yet (less than `step` since the last one).
   */
  process(n: number): number | null {
    this._processed = Math.min(this._received, this._processed + n);
    if (this._processed - this._acked >= this.step) {
      this._acked = this._processed;
      return this._acked;
    }
    return null;
  }

  /**
   * The total to acknowledge when output has gone quiet, or null if everything processed is
   * already acknowledged. Sent after a short idle delay, so that a server with a window
   * smaller than `step` still gets its acks, without an ack message per echoed keystroke.
   */
  idleAck(): number | null {
    if (this._processed > this._acked) {
      this._acked = this._processed;
      return this._acked;
    }
    return null;
  }

  /** A new connection: the server counts from 0 again. */
  reset(): void {
    this._received = 0;
    this._processed = 0;
    this._acked = 0;
  }

  private _received = 0;
  private _processed = 0;
  private _acked = 0;
}
