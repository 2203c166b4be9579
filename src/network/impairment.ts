import type { ImpairmentDirection, NetworkProfile } from '../scenario/types.js';

/**
 * The pure part of applying a profile: what the impairer (helpers/impairer.py) is told, and the
 * tbf arguments that limit the rate. Kept apart from the commands so it is tested without root.
 */

/** One JSON line for the impairer's stdin: both directions, every field given (a switch replaces all). */
export function impairerLine(profile: NetworkProfile): string {
  const direction = (d: ImpairmentDirection) => ({
    lossPct: d.lossPercent,
    burst: d.lossBurst,
    delayMs: d.delayMs,
    jitterMs: d.jitterMs,
    reorderPct: d.reorderPercent,
  });
  return `${JSON.stringify({ up: direction(profile.up), down: direction(profile.down) })}\n`;
}

/**
 * `tc` arguments that set (or clear) a device's rate limit. tbf's bucket holds at least one full
 * packet (1600 bytes) or 10 ms at the rate, and queues up to 200 ms before dropping: a slow link's
 * queue, not an infinite one.
 */
export function rateLimitArgs(device: string, rateKbit: number | undefined): string[] {
  if (rateKbit === undefined || rateKbit <= 0) return ['qdisc', 'del', 'dev', device, 'root'];
  const burstBytes = Math.max(1600, Math.ceil((rateKbit * 1000) / 8 / 100));
  return ['qdisc', 'replace', 'dev', device, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', String(burstBytes), 'latency', '200ms'];
}

/** What a profile does in a few words, for logs and the summary: "up loss 5% delay 100ms; down clean". */
export function describeProfile(profile: NetworkProfile): string {
  const side = (d: ImpairmentDirection) => {
    const parts = [
      d.lossPercent > 0 ? `loss ${d.lossPercent}%${d.lossBurst > 1 ? ` (bursts of ${d.lossBurst})` : ''}` : '',
      d.delayMs > 0 ? `delay ${d.delayMs}ms` : '',
      d.jitterMs > 0 ? `jitter ${d.jitterMs}ms` : '',
      d.reorderPercent > 0 ? `reorder ${d.reorderPercent}%` : '',
      d.rateKbit !== undefined ? `rate ${d.rateKbit}kbit` : '',
    ].filter(Boolean);
    return parts.length ? parts.join(' ') : 'clean';
  };
  return `up ${side(profile.up)}; down ${side(profile.down)}`;
}
