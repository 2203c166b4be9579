/**
 * `<out>/sip/<call>.log`: the SIP messages of a failed call as each of its
 * legs' WebSockets saw them, merged in time order, then each leg's transport
 * timeline and last getStats sample. Messages are buffered per leg while the
 * call runs and dropped when it ends: a long run stays flat in memory.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { REDACTED, redactAuthorizationHeaders } from '../protocol/sipRedaction.js';
import type { CallResult, LegResult, RunEvent } from '../results.js';
import type { Reporter } from './reporter.js';
import { isoTime } from './csvFile.js';

export const SIP_EVIDENCE_DIR = 'sip';

export interface SipEvidenceOptions {
  /** Fraction (0..1) of the other calls also kept, picked by a hash of the call id. Default 0. */
  sampleSuccessful: number;
  /** Files written at most; later kept calls are counted as skipped. Default 1000. */
  maxFiles: number;
}

export const DEFAULT_EVIDENCE_OPTIONS: SipEvidenceOptions = { sampleSuccessful: 0, maxFiles: 1000 };

/** Memory bounds of the buffer; tests shrink them. */
export interface SipBufferLimits {
  /** Per leg: the first half and the last half are kept, the middle counted as omitted. */
  messagesPerLeg: number;
  /** A leg with no message for this long is dropped (its call never ended, or ended unseen). */
  idleMs: number;
  /** All buffered raw text together (characters, about bytes for SIP); oldest legs go first. */
  totalChars: number;
}

export const DEFAULT_BUFFER_LIMITS: SipBufferLimits = { messagesPerLeg: 200, idleMs: 10 * 60_000, totalChars: 20 * 1024 * 1024 };

/** Legs whose call has ended, remembered so that a late message (a 200 to the BYE) does not start a buffer no one will end. */
const ENDED_LEGS_REMEMBERED = 10_000;

/** Defaults applied and values checked: a bad option is the user's input, found before the run starts. */
export function evidenceOptions(given: Partial<SipEvidenceOptions> = {}): SipEvidenceOptions {
  const options = {
    sampleSuccessful: given.sampleSuccessful ?? DEFAULT_EVIDENCE_OPTIONS.sampleSuccessful,
    maxFiles: given.maxFiles ?? DEFAULT_EVIDENCE_OPTIONS.maxFiles,
  };
  if (!(options.sampleSuccessful >= 0 && options.sampleSuccessful <= 1)) {
    throw new InputError(`the SIP evidence sample ${options.sampleSuccessful} is not a fraction`, 'give a number from 0 (failed calls only) to 1 (every call)');
  }
  if (!Number.isInteger(options.maxFiles) || options.maxFiles < 0) {
    throw new InputError(`the SIP evidence file limit ${options.maxFiles} is not a whole number of files`, 'give 0 or more (0 keeps none)');
  }
  return options;
}

/** `sip/<call>.log`, relative to the out dir. Call ids are file-safe already; anything else gets a hash so two ids never share a file. */
export function evidencePath(callId: string): string {
  const safe = callId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '').slice(0, 150);
  const name = safe === callId && safe !== '' ? safe : `${safe}~${sha256(callId).toString('hex').slice(0, 8)}`;
  return `${SIP_EVIDENCE_DIR}/${name}.log`;
}

/**
 * Whether a call gets an evidence file (before maxFiles): every unexpected
 * failure, plus a stable sample of the rest. Expected failures are sampled
 * like successes: a scenario that expects 486 a thousand times would otherwise
 * spend maxFiles before the first real failure. Dropped and interrupted calls
 * are never kept: the first put nothing on the wire, the second were stopped
 * by the user (and writing hundreds of files would slow the stop).
 */
export function keepsEvidence(call: Pick<CallResult, 'callId' | 'result' | 'failureExpected' | 'failureReason'>, sampleSuccessful: number): boolean {
  if (call.failureReason === 'dropped' || call.failureReason === 'interrupted') return false;
  if (call.result === 'failed' && !call.failureExpected) return true;
  return sampleSuccessful > 0 && sampleFraction(call.callId) < sampleSuccessful;
}

/** The call id hashed to [0, 1): the same calls are picked on every rerun of a scenario. */
function sampleFraction(callId: string): number {
  return sha256(callId).readUInt32BE(0) / 2 ** 32;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Credentials out of SIP text, whatever the page already did: the page's own
 * rule for authorization headers (src/protocol/sipRedaction.ts) once more, then
 * any digest `response=` anywhere (an offline-crackable hash of the password)
 * and the literal secrets given.
 */
export function redactSip(text: string, secrets: readonly string[] = []): string {
  let redacted = text;
  for (const secret of secrets) if (secret !== '') redacted = redacted.split(secret).join(REDACTED);
  return redactAuthorizationHeaders(redacted).replace(/\bresponse[ \t]*=[ \t]*(?:"[^"]*"|[^\s,;]+)/gi, `response="${REDACTED}"`);
}

/** A failed call's evidence link only when its file exists (maxFiles reached, or the sip folder not copied with the reports). */
export function withoutMissingEvidence(outDir: string, calls: readonly CallResult[]): CallResult[] {
  return calls.map((call) => {
    if (call.evidence === undefined || call.result !== 'failed' || existsSync(join(outDir, call.evidence))) return call;
    return { ...call, evidence: undefined };
  });
}

interface BufferedMessage {
  atMs: number;
  agentId: string;
  sent: boolean;
  raw: string;
}

interface LegBuffer {
  sipCallId: string;
  head: BufferedMessage[];
  tail: BufferedMessage[];
  omitted: number;
  chars: number;
  lastAtMs: number;
}

export interface SipEvidenceReporterOptions extends Partial<SipEvidenceOptions> {
  /** Where skipped files and write failures are told (once, at the end). */
  warn?: (message: string) => void;
  /** Passwords to scrub should one ever appear in a message. */
  secrets?: readonly string[];
  limits?: Partial<SipBufferLimits>;
}

export class SipEvidenceReporter implements Reporter {
  readonly name = 'sip-evidence';
  private readonly options: SipEvidenceOptions;
  private readonly limits: SipBufferLimits;
  private readonly dir: string;
  private readonly warn: (message: string) => void;
  private readonly secrets: readonly string[];
  /** Ordered by last activity, least recent first: eviction takes from the front. */
  private buffers = new Map<string, LegBuffer>();
  private ended = new Set<string>();
  private chars = 0;
  private nowMs = 0;
  private writeFailure: unknown;
  private dirMade = false;
  written = 0;
  skipped = 0;
  writeFailures = 0;
  /** Legs dropped from the buffer before their call ended (idle or over the size bound). */
  evictedLegs = 0;

  constructor(
    private readonly outDir: string,
    options: SipEvidenceReporterOptions = {},
  ) {
    this.options = evidenceOptions(options);
    this.limits = { ...DEFAULT_BUFFER_LIMITS, ...options.limits };
    this.dir = join(outDir, SIP_EVIDENCE_DIR);
    this.warn = options.warn ?? (() => undefined);
    this.secrets = options.secrets ?? [];
  }

  get bufferedLegs(): number {
    return this.buffers.size;
  }

  get bufferedChars(): number {
    return this.chars;
  }

  /** A new run into an old --out must not show the old run's calls: remove the old logs (only ours: *.log in sip/). */
  onBegin(): void {
    this.buffers.clear();
    this.ended.clear();
    this.chars = 0;
    this.nowMs = 0;
    this.dirMade = false;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return; // no folder yet
    }
    try {
      for (const name of names) if (name.endsWith('.log')) rmSync(join(this.dir, name), { force: true });
      rmdirSync(this.dir);
    } catch {
      // Something else lives there (not ours to remove): leave it.
    }
  }

  onEvent(event: RunEvent): void {
    if (event.type !== 'sipMessage') return;
    const key = legKey(event.agentId, event.sipCallId);
    if (this.ended.has(key)) return;
    this.nowMs = Math.max(this.nowMs, event.atMs);
    const buffer = this.buffers.get(key) ?? { sipCallId: event.sipCallId, head: [], tail: [], omitted: 0, chars: 0, lastAtMs: event.atMs };
    this.buffers.delete(key); // re-inserted at the back: most recently active
    this.buffers.set(key, buffer);
    const message: BufferedMessage = { atMs: event.atMs, agentId: event.agentId, sent: event.sent, raw: event.raw };
    const half = Math.max(1, Math.floor(this.limits.messagesPerLeg / 2));
    (buffer.head.length < half ? buffer.head : buffer.tail).push(message);
    this.grow(buffer, message.raw.length);
    buffer.lastAtMs = Math.max(buffer.lastAtMs, event.atMs);
    if (buffer.tail.length > this.limits.messagesPerLeg - half) {
      const dropped = buffer.tail.shift()!;
      buffer.omitted += 1;
      this.grow(buffer, -dropped.raw.length);
    }
    this.evict();
  }

  onCallEnd(call: CallResult): void {
    const keys = this.legKeys(call);
    const legs = keys.map((key) => ({ key, buffer: this.buffers.get(key) }));
    for (const key of keys) this.forget(key);
    if (!keepsEvidence(call, this.options.sampleSuccessful)) return;
    if (this.written >= this.options.maxFiles) {
      this.skipped += 1;
      return;
    }
    try {
      if (!this.dirMade) mkdirSync(this.dir, { recursive: true });
      this.dirMade = true;
      // Synchronous: a few kilobytes, and the file exists once the call is reported (report.html links it).
      writeFileSync(join(this.outDir, evidencePath(call.callId)), redactSip(evidenceText(call, legs), this.secrets));
      this.written += 1;
    } catch (error) {
      this.writeFailures += 1;
      this.writeFailure ??= error;
    }
  }

  onEnd(): void {
    this.buffers.clear();
    this.chars = 0;
    if (this.skipped > 0) {
      this.warn(`SIP evidence: ${this.skipped} call(s) not written, the limit of ${this.options.maxFiles} files was reached (calls.csv still names their files)`);
    }
    if (this.writeFailures > 0) {
      const why = this.writeFailure instanceof Error ? this.writeFailure.message : String(this.writeFailure);
      this.warn(`SIP evidence: ${this.writeFailures} file(s) could not be written in ${this.dir}: ${why}`);
    }
  }

  /** The call's legs by agent and SIP Call-ID; without legs, any agent's buffer for the call's Call-ID. */
  private legKeys(call: CallResult): string[] {
    const fromLegs = (call.legs ?? []).flatMap((leg) => (leg.sipCallId === undefined ? [] : [legKey(leg.agentId, leg.sipCallId)]));
    if (fromLegs.length > 0 || call.sipCallId === undefined) return [...new Set(fromLegs)];
    return [...this.buffers].filter(([, buffer]) => buffer.sipCallId === call.sipCallId).map(([key]) => key);
  }

  private forget(key: string): void {
    this.drop(key);
    this.ended.add(key);
    if (this.ended.size > ENDED_LEGS_REMEMBERED) this.ended.delete(this.ended.values().next().value!);
  }

  private drop(key: string): void {
    const buffer = this.buffers.get(key);
    if (!buffer) return;
    this.chars -= buffer.chars;
    this.buffers.delete(key);
  }

  private grow(buffer: LegBuffer, chars: number): void {
    buffer.chars += chars;
    this.chars += chars;
  }

  /** Idle legs, then the least recently active ones while over the size bound. */
  private evict(): void {
    for (const [key, buffer] of this.buffers) {
      const idle = buffer.lastAtMs < this.nowMs - this.limits.idleMs;
      if (!idle && this.chars <= this.limits.totalChars) break;
      this.drop(key);
      this.evictedLegs += 1;
    }
  }
}

function legKey(agentId: string, sipCallId: string): string {
  return `${agentId} ${sipCallId}`;
}

function evidenceText(call: CallResult, legs: readonly { key: string; buffer: LegBuffer | undefined }[]): string {
  const outcome = call.result === 'success' ? 'success' : `failed${call.failureReason ? ` (${call.failureReason})` : ''}${call.failureExpected ? ', as expected' : ''}`;
  const lines = [
    `call:      ${call.callId}`,
    `scenario:  ${call.scenario}`,
    `result:    ${outcome}`,
    ...(call.sipStatus !== undefined ? [`sip:       ${call.sipStatus}`] : []),
    ...(call.failureDetail ? [`detail:    ${call.failureDetail}`] : []),
    `from:      ${call.from}`,
    `to:        ${call.to}`,
    `started:   ${isoTime(call.startedAtMs)}`,
    ...(call.sipCallId ? [`call-id:   ${call.sipCallId}`] : []),
    ...legs.map(({ key, buffer }) => `leg:       ${key}: ${legMessageCount(buffer)}`),
    '',
  ];
  const messages = legs.flatMap(({ buffer }) => (buffer ? [...buffer.head, ...buffer.tail] : [])).sort((a, b) => a.atMs - b.atMs);
  for (const message of messages) {
    // Size on the wire, before redaction: what matters for fragmentation and MTU trouble.
    lines.push(`--- ${isoTime(message.atMs)} ${message.agentId} ${message.sent ? 'sent' : 'received'} (${Buffer.byteLength(message.raw)} bytes) ---`);
    lines.push(message.raw.replace(/\r?\n$/, ''), '');
  }
  if (messages.length === 0) lines.push('(no SIP messages buffered for this call)', '');
  lines.push('=== legs ===');
  for (const leg of call.legs ?? []) lines.push(...legText(leg));
  if ((call.legs ?? []).length === 0) lines.push('(no legs recorded)');
  return `${lines.join('\n')}\n`;
}

function legMessageCount(buffer: LegBuffer | undefined): string {
  if (!buffer) return 'no messages buffered (none seen, or dropped: idle over 10 minutes or over the buffer bound)';
  const kept = buffer.head.length + buffer.tail.length;
  return `${kept} message(s)${buffer.omitted > 0 ? `, ${buffer.omitted} more omitted from the middle` : ''}`;
}

function legText(leg: LegResult): string[] {
  const { lastStats, ...timeline } = leg;
  return [`--- leg ${leg.legId} (${leg.role}, ${leg.direction}, agent ${leg.agentId}) ---`, prettyJson(timeline), 'lastStats:', lastStats === undefined ? '(none)' : prettyJson(lastStats)];
}

function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item), 2) ?? String(value);
  } catch {
    return String(value); // a cycle: say what we can rather than lose the file
  }
}
