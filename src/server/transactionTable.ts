/**
 * Stateful-proxy transactions (RFC 3261 16): one record pairs the server
 * transaction with the user agent that sent a request (upstream) and the
 * client transaction we opened towards the target (downstream).
 *
 * Upstream key: connection + the client's top Via branch, which is how a
 * retransmission, its CANCEL and the ACK of a non-2xx final response find it.
 * Downstream key: our own Via branch + CSeq method, which is how responses
 * find it.
 */
import type { SipRequest, SipResponse } from './sipMessage.js';

export interface DownstreamLeg {
  readonly connectionId: number;
  readonly branch: string;
  /** The request exactly as forwarded (our Via on top): CANCEL and ACK copy from it. */
  readonly request: SipRequest;
}

export interface ProxyTransaction {
  readonly key: string;
  readonly method: string;
  readonly upstreamConnectionId: number;
  /** The request as received, for responses this proxy generates itself. */
  readonly request: SipRequest;
  downstream?: DownstreamLeg;
  /** Last response sent upstream, sent again when the request is retransmitted. */
  lastResponse?: SipResponse;
  finalStatus?: number;
  cancelled: boolean;
}

export function upstreamKey(connectionId: number, branch: string): string {
  return `${connectionId}|${branch}`;
}

export class TransactionTable {
  readonly #byUpstream = new Map<string, ProxyTransaction>();
  readonly #byDownstream = new Map<string, ProxyTransaction>();
  readonly #timers = new Map<ProxyTransaction, NodeJS.Timeout>();

  open(key: string, upstreamConnectionId: number, request: SipRequest): ProxyTransaction {
    const transaction: ProxyTransaction = {
      key,
      method: request.method,
      upstreamConnectionId,
      request,
      cancelled: false,
    };
    this.#byUpstream.set(key, transaction);
    return transaction;
  }

  byUpstream(key: string): ProxyTransaction | undefined {
    return this.#byUpstream.get(key);
  }

  byDownstream(branch: string, method: string): ProxyTransaction | undefined {
    return this.#byDownstream.get(`${branch}|${method}`);
  }

  setDownstream(transaction: ProxyTransaction, leg: DownstreamLeg): void {
    transaction.downstream = leg;
    this.#byDownstream.set(`${leg.branch}|${transaction.method}`, transaction);
  }

  all(): ProxyTransaction[] {
    return [...this.#byUpstream.values()];
  }

  /** Runs `onExpire` after `delayMs`, replacing any timer the transaction had. */
  arm(transaction: ProxyTransaction, delayMs: number, onExpire: () => void): void {
    clearTimeout(this.#timers.get(transaction));
    const timer = setTimeout(() => {
      this.#timers.delete(transaction);
      onExpire();
    }, delayMs);
    timer.unref();
    this.#timers.set(transaction, timer);
  }

  /** Keeps a finished transaction a while (to absorb ACKs, retransmissions, 2xx repeats), then forgets it. */
  retire(transaction: ProxyTransaction, lingerMs: number): void {
    this.arm(transaction, lingerMs, () => this.delete(transaction));
  }

  delete(transaction: ProxyTransaction): void {
    clearTimeout(this.#timers.get(transaction));
    this.#timers.delete(transaction);
    if (this.#byUpstream.get(transaction.key) === transaction) this.#byUpstream.delete(transaction.key);
    if (transaction.downstream !== undefined) {
      this.#byDownstream.delete(`${transaction.downstream.branch}|${transaction.method}`);
    }
  }

  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#byUpstream.clear();
    this.#byDownstream.clear();
  }

  get size(): number {
    return this.#byUpstream.size;
  }
}
