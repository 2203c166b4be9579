/**
 * The open WebSocket connections and which contact lives behind which one.
 * Browser user agents cannot be reached by address, only over the socket they
 * opened, so every Contact seen on a connection (REGISTER, INVITE, 180/200...)
 * is remembered here and in-dialog requests are routed by Request-URI lookup.
 */

/** One client connection, as the proxy sees it (the WebSocket stays in index.ts). */
export interface SipConnection {
  readonly id: number;
  /** Sends one SIP message (or keep-alive); false when the socket is no longer open. */
  send(raw: string): boolean;
  isOpen(): boolean;
  /** Drops the connection abruptly, as a network fault would. */
  terminate(): void;
}

export class ConnectionTable {
  readonly #connections = new Map<number, SipConnection>();
  readonly #connectionByContact = new Map<string, number>();
  /** Users seen on a connection (registered, or calling From): targets of dropConnections(user). */
  readonly #usersByConnection = new Map<number, Set<string>>();

  add(connection: SipConnection): void {
    this.#connections.set(connection.id, connection);
  }

  /** Forgets a connection and its contacts; false if it was already gone. */
  remove(connectionId: number): boolean {
    if (!this.#connections.delete(connectionId)) return false;
    for (const [key, id] of this.#connectionByContact) {
      if (id === connectionId) this.#connectionByContact.delete(key);
    }
    this.#usersByConnection.delete(connectionId);
    return true;
  }

  get(connectionId: number): SipConnection | undefined {
    return this.#connections.get(connectionId);
  }

  /** The connection if it exists and is still open. */
  open(connectionId: number | undefined): SipConnection | undefined {
    if (connectionId === undefined) return undefined;
    const connection = this.#connections.get(connectionId);
    return connection?.isOpen() ? connection : undefined;
  }

  all(): SipConnection[] {
    return [...this.#connections.values()];
  }

  learnContact(contactKey: string, connectionId: number): void {
    if (this.#connections.has(connectionId)) this.#connectionByContact.set(contactKey, connectionId);
  }

  connectionForContact(contactKey: string): SipConnection | undefined {
    return this.open(this.#connectionByContact.get(contactKey));
  }

  noteUser(connectionId: number, user: string): void {
    if (!this.#connections.has(connectionId)) return;
    let users = this.#usersByConnection.get(connectionId);
    if (users === undefined) {
      users = new Set();
      this.#usersByConnection.set(connectionId, users);
    }
    users.add(user);
  }

  connectionsOfUser(user: string): number[] {
    return [...this.#usersByConnection].filter(([, users]) => users.has(user)).map(([id]) => id);
  }
}
