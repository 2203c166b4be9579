/**
 * Location service: address-of-record (user part, one domain) -> contact
 * bindings, each tied to the WebSocket connection it was registered over
 * because browser contacts (random ".invalid" hosts) cannot be resolved.
 * Expiry is applied lazily on every read, so there is no timer to stop.
 */

export interface Binding {
  readonly user: string;
  /** Contact URI as the user agent wrote it, without angle brackets. */
  readonly contactUri: string;
  /** user@host[:port] of the contact URI. */
  readonly contactKey: string;
  readonly connectionId: number;
  readonly expiresAtMs: number;
  readonly registeredAtMs: number;
}

export class Registrar {
  readonly #bindings = new Map<string, Map<string, Binding>>();
  /** Users that have ever registered: INVITEs to them get 480 rather than 404 when they are away. */
  readonly #everRegistered = new Set<string>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  now(): number {
    return this.#now();
  }

  /** Live bindings of a user, most recently registered first. */
  bindingsOf(user: string): Binding[] {
    const byContact = this.#bindings.get(user);
    if (byContact === undefined) return [];
    const now = this.#now();
    for (const [key, binding] of byContact) {
      if (binding.expiresAtMs <= now) byContact.delete(key);
    }
    if (byContact.size === 0) this.#bindings.delete(user);
    return [...byContact.values()].sort((a, b) => b.registeredAtMs - a.registeredAtMs);
  }

  bind(binding: Omit<Binding, 'registeredAtMs'>): void {
    let byContact = this.#bindings.get(binding.user);
    if (byContact === undefined) {
      byContact = new Map();
      this.#bindings.set(binding.user, byContact);
    }
    byContact.set(binding.contactKey, { ...binding, registeredAtMs: this.#now() });
    this.#everRegistered.add(binding.user);
  }

  unbind(user: string, contactKey: string): void {
    const byContact = this.#bindings.get(user);
    byContact?.delete(contactKey);
    if (byContact?.size === 0) this.#bindings.delete(user);
  }

  unbindAll(user: string): void {
    this.#bindings.delete(user);
  }

  /** Removes every binding made over a connection; returns the users affected. */
  unbindConnection(connectionId: number): string[] {
    const affected = new Set<string>();
    for (const [user, byContact] of this.#bindings) {
      for (const [key, binding] of byContact) {
        if (binding.connectionId === connectionId) {
          byContact.delete(key);
          affected.add(user);
        }
      }
      if (byContact.size === 0) this.#bindings.delete(user);
    }
    return [...affected];
  }

  /** Connections that hold a live binding of this user. */
  connectionsOf(user: string): number[] {
    return [...new Set(this.bindingsOf(user).map((binding) => binding.connectionId))];
  }

  hasEverRegistered(user: string): boolean {
    return this.#everRegistered.has(user);
  }

  registeredUserCount(): number {
    let count = 0;
    for (const user of [...this.#bindings.keys()]) {
      if (this.bindingsOf(user).length > 0) count++;
    }
    return count;
  }
}
