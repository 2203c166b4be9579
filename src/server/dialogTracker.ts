/**
 * Counts established calls for stats() and maxConcurrentCalls. A dialog is
 * counted when a 2xx to an initial INVITE passes through and uncounted on BYE
 * or when either side's connection goes away (a crashed page never says BYE).
 */

/** Call-ID plus both tags, order-free, so requests from either side find it. */
export function dialogKey(callId: string, tagA: string, tagB: string): string {
  return [callId, ...[tagA, tagB].sort()].join('|');
}

export class DialogTracker {
  readonly #connectionsByDialog = new Map<string, readonly [number, number]>();

  /** False if the dialog was already counted (2xx retransmission). */
  add(key: string, callerConnectionId: number, calleeConnectionId: number): boolean {
    if (this.#connectionsByDialog.has(key)) return false;
    this.#connectionsByDialog.set(key, [callerConnectionId, calleeConnectionId]);
    return true;
  }

  remove(key: string): boolean {
    return this.#connectionsByDialog.delete(key);
  }

  /** Ends every dialog with a leg on this connection; returns how many. */
  removeConnection(connectionId: number): number {
    let removed = 0;
    for (const [key, legs] of this.#connectionsByDialog) {
      if (legs.includes(connectionId)) {
        this.#connectionsByDialog.delete(key);
        removed++;
      }
    }
    return removed;
  }

  get size(): number {
    return this.#connectionsByDialog.size;
  }

  clear(): void {
    this.#connectionsByDialog.clear();
  }
}
