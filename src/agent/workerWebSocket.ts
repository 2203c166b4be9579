/**
 * The page's SIP WebSockets, run in one dedicated Worker so each incoming
 * message is timestamped on arrival by a thread that is never busy. On the
 * page's main thread (SIP.js, WebRTC, getStats for dozens of legs) a message
 * can wait tens of milliseconds in the queue before any script sees it: a
 * timestamp taken there is harness time, not the wire's.
 *
 * The page sees an object with the WebSocket surface SIP.js uses (constructor,
 * binaryType, send, close, open/message/close/error events); while a message
 * event is being dispatched, arrivalTimeOfCurrentMessage() gives the worker's
 * timestamp of it. A send is timestamped by the worker as it hands the message
 * to its socket, and told back to whoever asked with whenNextSendLeaves().
 */

const WORKER_SOURCE = `
const sockets = new Map();
// Sub-millisecond epoch time: Date.now() floors to whole ms, which alone puts up to 1 ms into a
// difference of two stamps. The monotonic clock is re-anchored to the wall clock whenever they part
// by more than a millisecond, so absolute times never drift from the system clock a capture uses.
let origin = performance.timeOrigin;
const now = () => {
  const t = origin + performance.now();
  const wall = Date.now();
  if (t >= wall - 1 && t < wall + 2) return t;
  origin = wall + 0.5 - performance.now();
  return wall + 0.5;
};
onmessage = (event) => {
  const m = event.data;
  if (m.op === 'open') {
    let ws;
    try {
      ws = new WebSocket(m.url, m.protocols);
    } catch (error) {
      postMessage({ id: m.id, ev: 'error' });
      postMessage({ id: m.id, ev: 'close', code: 1006, reason: String(error), wasClean: false });
      return;
    }
    ws.binaryType = 'arraybuffer';
    sockets.set(m.id, ws);
    ws.onopen = () => postMessage({ id: m.id, ev: 'open', protocol: ws.protocol });
    ws.onmessage = (e) => postMessage({ id: m.id, ev: 'message', data: e.data, atMs: now() });
    ws.onerror = () => postMessage({ id: m.id, ev: 'error' });
    ws.onclose = (e) => {
      sockets.delete(m.id);
      postMessage({ id: m.id, ev: 'close', code: e.code, reason: e.reason, wasClean: e.wasClean });
    };
  } else if (m.op === 'send') {
    const ws = sockets.get(m.id);
    if (ws && ws.readyState === 1) ws.send(m.data);
    // Told back for every send, in order, so the page can pair each with its time.
    postMessage({ id: m.id, ev: 'sent', atMs: now() });
  } else if (m.op === 'close') {
    sockets.get(m.id)?.close(m.code, m.reason);
  }
};`;

type WorkerEvent =
  | { id: number; ev: 'open'; protocol: string }
  | { id: number; ev: 'message'; data: string | ArrayBuffer; atMs: number }
  | { id: number; ev: 'sent'; atMs: number }
  | { id: number; ev: 'error' }
  | { id: number; ev: 'close'; code: number; reason: string; wasClean: boolean };

let worker: Worker | undefined;
let nextId = 1;
const sockets = new Map<number, WorkerWebSocket>();
let currentArrivalMs: number | undefined;
/** Waiting for the next send() to be handed to a worker socket. */
let nextSendListener: ((atMs: number) => void) | undefined;
let inUse = false;

/**
 * Calls `listener` with the time the next send() leaves the worker's socket.
 * Returns false (and calls nothing) when sockets are not worker-backed. The
 * caller must then call takeUnclaimedSendListener() after its send: a send
 * that never reached a socket leaves the listener unclaimed.
 */
export function whenNextSendLeaves(listener: (atMs: number) => void): boolean {
  if (!inUse) return false;
  nextSendListener = listener;
  return true;
}

export function takeUnclaimedSendListener(): ((atMs: number) => void) | undefined {
  const listener = nextSendListener;
  nextSendListener = undefined;
  return listener;
}

/** The worker's arrival time of the message being dispatched right now, if any. */
export function arrivalTimeOfCurrentMessage(): number | undefined {
  return currentArrivalMs;
}

function theWorker(): Worker {
  if (worker) return worker;
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  worker = new Worker(url);
  worker.onmessage = (event: MessageEvent<WorkerEvent>) => sockets.get(event.data.id)?.deliver(event.data);
  return worker;
}

export class WorkerWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 0;
  protocol = '';
  binaryType: BinaryType = 'arraybuffer';
  readonly bufferedAmount = 0;
  readonly extensions = '';
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  private readonly id = nextId++;
  /** One per send, in order: the worker tells each send's time back in the same order. */
  private readonly sendListeners: (((atMs: number) => void) | undefined)[] = [];

  constructor(
    readonly url: string,
    protocols?: string | string[],
  ) {
    super();
    sockets.set(this.id, this);
    theWorker().postMessage({ op: 'open', id: this.id, url, protocols });
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new DOMException('WebSocket is not open', 'InvalidStateError');
    this.sendListeners.push(takeUnclaimedSendListener());
    theWorker().postMessage({ op: 'send', id: this.id, data });
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    theWorker().postMessage({ op: 'close', id: this.id, code, reason });
  }

  deliver(event: WorkerEvent): void {
    switch (event.ev) {
      case 'open':
        this.readyState = 1;
        this.protocol = event.protocol;
        this.fire(new Event('open'), this.onopen);
        return;
      case 'message':
        currentArrivalMs = event.atMs;
        try {
          this.fire(new MessageEvent('message', { data: event.data }), this.onmessage);
        } finally {
          currentArrivalMs = undefined;
        }
        return;
      case 'sent':
        this.sendListeners.shift()?.(event.atMs);
        return;
      case 'error':
        this.fire(new Event('error'), this.onerror);
        return;
      case 'close':
        this.readyState = 3;
        sockets.delete(this.id);
        for (const listener of this.sendListeners.splice(0)) listener?.(Date.now());
        this.fire(new CloseEvent('close', { code: event.code, reason: event.reason, wasClean: event.wasClean }), this.onclose);
        return;
    }
  }

  private fire<E extends Event>(event: E, handler: ((event: E) => void) | null): void {
    handler?.call(this, event);
    this.dispatchEvent(event);
  }
}

/** Every WebSocket the page opens from now on lives in the worker (the page opens none but SIP's). */
export function useWorkerWebSockets(): boolean {
  if (typeof Worker !== 'function' || typeof Blob !== 'function') return false;
  (globalThis as unknown as { WebSocket: unknown }).WebSocket = WorkerWebSocket;
  inUse = true;
  return true;
}
