/**
 * The live channel of one pane: a WebSocket speaking terminado's messages plus the two
 * jupyter-spaces additions (`["ack", n]` from us, `["error", message]` from the server).
 *
 * It survives the network: a dropped socket is reopened with backoff and jitter (the policy
 * is in reconnect.ts), keystrokes typed meanwhile are kept and sent in order when the socket
 * is back (or refused visibly when too many pile up), and every reconnect gets a fresh
 * redraw of the screen and scrollback from the server. Output is acknowledged as xterm.js
 * processes it (flow.ts), so a flood never gets ahead of what the browser can paint.
 */

import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';

import { AckTracker, charCount, slices } from './flow';
import { Backoff, InputBuffer, shouldReconnect } from './reconnect';

/**
 * - connecting: the first attempt is under way;
 * - open: connected, output flows;
 * - reconnecting: the connection was lost (or an attempt failed) and is being retried;
 * - closed: the server ended the channel for good (the pane was deleted or its session
 *   ended), or the channel was disposed. `reconnect()` may still open it again (after the
 *   pane is restarted).
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Hands output to the terminal; `done` must be called once xterm.js has processed it. */
export type OutputSink = (text: string, done: () => void) => void;

/** What happened to typed text. */
export type SendResult = 'sent' | 'buffered' | 'refused';

export interface IPaneChannelOptions {
  /** The WebSocket URL, evaluated at every attempt (settings may have changed). */
  url: () => string;
  backoff?: Backoff;
  /** Most characters kept while disconnected. */
  bufferCapacity?: number;
  /** Characters between acks (see AckTracker). */
  ackStep?: number;
  /** Largest piece of output handed to the terminal in one write (see _deliver). */
  sliceSize?: number;
  /** ms of quiet output after which processed output is acknowledged anyway. */
  idleAckDelay?: number;
  /** ms an attempt may stay unanswered before it is abandoned and retried. */
  connectTimeout?: number;
  /** For tests and non-browser hosts. */
  WebSocket?: typeof WebSocket;
}

export class PaneChannel implements IDisposable {
  constructor(options: IPaneChannelOptions) {
    this._url = options.url;
    this._backoff = options.backoff ?? new Backoff();
    this._buffer = new InputBuffer(options.bufferCapacity ?? 4096);
    this._acks = new AckTracker(options.ackStep ?? 8192);
    this._sliceSize = options.sliceSize ?? 4096;
    this._idleAckDelay = options.idleAckDelay ?? 100;
    this._connectTimeout = options.connectTimeout ?? 15000;
    this._WebSocket = options.WebSocket ?? WebSocket;
    window.addEventListener('online', this._onOnline);
  }

  get state(): ConnectionState {
    return this._state;
  }

  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  /** `["error", message]` from the server: a message of ours it refused. */
  get serverError(): ISignal<this, string> {
    return this._serverError;
  }

  /** The server's reason when it closed the channel for good (state `closed`). */
  get closeReason(): string {
    return this._closeReason;
  }

  /** Delay (ms) before the next attempt while `reconnecting`; 0 otherwise. */
  get retryDelay(): number {
    return this._retryDelay;
  }

  /** Characters typed while disconnected, waiting to be sent. */
  get buffered(): number {
    return this._buffer.size;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Where output goes. Output that arrives before a sink is set (xterm.js loads lazily) is
   * kept and handed over, in order, when it is set.
   */
  setSink(sink: OutputSink): void {
    this._sink = sink;
    const early = this._early;
    this._early = [];
    for (const [gen, text] of early) {
      this._deliver(gen, text);
    }
  }

  /** Open the channel (first time, or again after `closed`). */
  connect(): void {
    if (this._isDisposed || this._ws !== null) {
      return;
    }
    this._open();
  }

  /**
   * Try again now, skipping any backoff delay (when the user asks). With `fresh`, an open
   * connection is replaced too, for a full redraw: after a restart tmux resets the pane's
   * screen without sending anything that would tell a watching terminal to do the same.
   */
  reconnect(fresh = false): void {
    if (this._isDisposed) {
      return;
    }
    if (!fresh && (this._state === 'open' || this._state === 'connecting')) {
      return;
    }
    this._clearRetry();
    this._backoff.reset();
    this._closeSocket();
    this._open();
  }

  /** Type `text` into the pane. */
  send(text: string): SendResult {
    if (this._isDisposed || text === '') {
      return 'refused';
    }
    if (this._state === 'open' && this._ws !== null) {
      this._ws.send(JSON.stringify(['stdin', text]));
      return 'sent';
    }
    if (this._state === 'closed') {
      // The pane is over: nothing would ever send it.
      return 'refused';
    }
    const result = this._buffer.push(text);
    this._bufferChanged.emit(this._buffer.size);
    return result;
  }

  /** The number of buffered characters changed (typed offline, or flushed on reconnect). */
  get bufferChanged(): ISignal<this, number> {
    return this._bufferChanged;
  }

  /** Throw away what was typed while disconnected (the user chose not to send it). */
  discardBuffered(): void {
    this._buffer.clear();
    this._bufferChanged.emit(0);
  }

  /** The terminal's size; sent now if connected, and on every reconnect. */
  resize(rows: number, cols: number): void {
    if (rows < 1 || cols < 1 || (rows === this._size?.[0] && cols === this._size?.[1])) {
      return;
    }
    this._size = [rows, cols];
    if (this._state === 'open') {
      this._ws?.send(JSON.stringify(['set_size', rows, cols]));
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    window.removeEventListener('online', this._onOnline);
    this._clearRetry();
    this._clearIdleAck();
    this._closeSocket();
    this._setState('closed');
    Signal.clearData(this);
  }

  private _open(): void {
    this._gen += 1;
    const gen = this._gen;
    this._acks.reset();
    this._setState(this._everOpened || this._backoff.attempts > 0 ? 'reconnecting' : 'connecting');
    let ws: WebSocket;
    try {
      ws = new this._WebSocket(this._url());
    } catch (error) {
      // A malformed URL: retrying will not help, but keep the visible state honest.
      console.error('jupyter-spaces: cannot open the pane channel', error);
      this._closeReason = String(error);
      this._setState('closed');
      return;
    }
    this._ws = ws;
    this._connectTimer = window.setTimeout(() => {
      if (gen === this._gen && ws.readyState === ws.CONNECTING) {
        ws.close();
      }
    }, this._connectTimeout);
    ws.onopen = () => {
      if (gen !== this._gen) {
        return;
      }
      window.clearTimeout(this._connectTimer);
      this._everOpened = true;
      this._backoff.reset();
      this._retryDelay = 0;
      this._closeReason = '';
      if (this._size !== null) {
        ws.send(JSON.stringify(['set_size', this._size[0], this._size[1]]));
      }
      // Keys typed while disconnected go first, in order, before anything typed from now on.
      if (!this._buffer.isEmpty) {
        ws.send(JSON.stringify(['stdin', this._buffer.drain()]));
        this._bufferChanged.emit(0);
      }
      this._setState('open');
    };
    ws.onmessage = (event: MessageEvent) => {
      if (gen === this._gen) {
        this._onMessage(gen, event.data);
      }
    };
    ws.onclose = (event: CloseEvent) => {
      if (gen === this._gen) {
        this._onClose(event.code, event.reason);
      }
    };
  }

  private _onMessage(gen: number, data: unknown): void {
    if (typeof data !== 'string') {
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      console.warn('jupyter-spaces: a pane channel message is not JSON');
      return;
    }
    if (!Array.isArray(msg) || typeof msg[0] !== 'string') {
      return;
    }
    switch (msg[0]) {
      case 'stdout':
        if (typeof msg[1] === 'string' && msg[1] !== '') {
          this._deliver(gen, msg[1]);
        }
        break;
      case 'error':
        this._serverError.emit(String(msg[1]));
        break;
      case 'setup':
        // The server counts acknowledged characters per connection, from here.
        this._acks.reset();
        break;
      default:
        // terminado's 'disconnect' and anything newer: nothing to do.
        break;
    }
  }

  private _deliver(gen: number, text: string): void {
    if (this._sink === null) {
      this._early.push([gen, text]);
      return;
    }
    // xterm.js calls back once per write, when all of it is parsed. A 32 K frame written
    // whole would be acknowledged only at its end, leaving the server's window empty while
    // xterm.js parses: stop-and-wait. Written in slices, acks go out while the rest is still
    // being parsed and the server refills the window meanwhile. Measured here (bench.mjs):
    // Ctrl-C under a `yes` flood to the next prompt, median 496 ms whole vs 225 ms sliced.
    for (const slice of slices(text, this._sliceSize)) {
      const n = charCount(slice);
      this._acks.receive(n);
      this._sink(slice, () => this._processed(gen, n));
    }
  }

  private _processed(gen: number, n: number): void {
    // xterm.js calls back for text it got on an older connection too; that server is gone.
    if (gen !== this._gen || this._isDisposed) {
      return;
    }
    const ack = this._acks.process(n);
    if (ack !== null) {
      this._sendAck(ack);
    }
    this._clearIdleAck();
    if (this._acks.caughtUp) {
      this._idleAckTimer = window.setTimeout(() => {
        const idle = this._acks.idleAck();
        if (idle !== null && gen === this._gen) {
          this._sendAck(idle);
        }
      }, this._idleAckDelay);
    }
  }

  private _sendAck(n: number): void {
    if (this._state === 'open' && this._ws !== null && this._ws.readyState === this._ws.OPEN) {
      this._ws.send(JSON.stringify(['ack', n]));
    }
  }

  private _onClose(code: number, reason: string): void {
    window.clearTimeout(this._connectTimer);
    this._clearIdleAck();
    this._ws = null;
    if (this._isDisposed) {
      return;
    }
    if (!shouldReconnect(code)) {
      this._closeReason = reason || 'the channel was closed';
      this._retryDelay = 0;
      this._setState('closed');
      return;
    }
    this._retryDelay = this._backoff.next();
    this._setState('reconnecting');
    this._retryTimer = window.setTimeout(() => {
      this._retryTimer = 0;
      this._open();
    }, this._retryDelay);
  }

  private _onOnline = (): void => {
    // The network is back: do not sit out the rest of a long backoff delay.
    if (this._state === 'reconnecting' && this._retryTimer !== 0) {
      this.reconnect();
    }
  };

  private _closeSocket(): void {
    const ws = this._ws;
    this._ws = null;
    window.clearTimeout(this._connectTimer);
    if (ws !== null) {
      this._gen += 1; // its events no longer concern us
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close();
    }
  }

  private _clearRetry(): void {
    if (this._retryTimer !== 0) {
      window.clearTimeout(this._retryTimer);
      this._retryTimer = 0;
    }
  }

  private _clearIdleAck(): void {
    if (this._idleAckTimer !== 0) {
      window.clearTimeout(this._idleAckTimer);
      this._idleAckTimer = 0;
    }
  }

  private _setState(state: ConnectionState): void {
    if (this._state !== state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _url: () => string;
  private _backoff: Backoff;
  private _buffer: InputBuffer;
  private _acks: AckTracker;
  private _idleAckDelay: number;
  private _sliceSize: number;
  private _connectTimeout: number;
  private _WebSocket: typeof WebSocket;
  private _ws: WebSocket | null = null;
  private _gen = 0;
  private _state: ConnectionState = 'connecting';
  private _everOpened = false;
  private _closeReason = '';
  private _retryDelay = 0;
  private _retryTimer = 0;
  private _connectTimer = 0;
  private _idleAckTimer = 0;
  private _size: [number, number] | null = null;
  private _sink: OutputSink | null = null;
  private _early: Array<[number, string]> = [];
  private _isDisposed = false;
  private _stateChanged = new Signal<this, ConnectionState>(this);
  private _serverError = new Signal<this, string>(this);
  private _bufferChanged = new Signal<this, number>(this);
}
