/**
 * Account slots and pairing. A slot is a distinct set of accounts: slot s uses
 * the s-th account of every role, so the caller and callee of one call are
 * paired by their position in their pools, and two calls in progress at once
 * (which hold different slots) never share an account. The loader checks that
 * every role has an account per slot.
 */
import type { Account, Role } from '../scenario/types.js';

export function accountForSlot(role: Role, slot: number): Account {
  const account = role.accounts[slot];
  if (!account) throw new Error(`role ${role.name} has no account for slot ${slot} (${role.accounts.length} accounts)`);
  return account;
}

/** Who plays each role in each slot: what a dry run prints. */
export function pairSlots(roles: readonly Role[], slots: number): { slot: number; users: Record<string, string> }[] {
  return Array.from({ length: slots }, (_, slot) => ({
    slot,
    users: Object.fromEntries(roles.map((role) => [role.name, accountForSlot(role, slot).user])),
  }));
}

/** Accounts that appear in more than one slot (there are none when every role has an account per slot). */
export function sharedAccounts(roles: readonly Role[], slots: number): string[] {
  const owner = new Map<string, number>();
  const shared = new Set<string>();
  for (let slot = 0; slot < slots; slot++) {
    for (const role of roles) {
      const user = role.accounts[slot % role.accounts.length]!.user;
      const first = owner.get(user);
      if (first !== undefined && first !== slot) shared.add(user);
      owner.set(user, slot);
    }
  }
  return [...shared];
}

/**
 * Free slots, lowest first: a run at low concurrency keeps reusing the same
 * few slots, so it registers (and places in Chromium) only the agents it needs.
 */
export class SlotPool {
  private readonly free: number[];
  private readonly busy = new Set<number>();

  constructor(readonly size: number) {
    this.free = Array.from({ length: size }, (_, slot) => slot);
  }

  get available(): number {
    return this.free.length;
  }

  get inUse(): number {
    return this.busy.size;
  }

  /** The lowest free slot, or undefined when all are in use. */
  acquire(): number | undefined {
    const slot = this.free.shift();
    if (slot !== undefined) this.busy.add(slot);
    return slot;
  }

  release(slot: number): void {
    if (!this.busy.delete(slot)) throw new Error(`slot ${slot} is not in use`);
    // Sorted insert: the pool stays lowest-first.
    const at = this.free.findIndex((free) => free > slot);
    if (at === -1) this.free.push(slot);
    else this.free.splice(at, 0, slot);
  }
}
