/**
 * The shape of each step as written: a single-key map `{ <kind>: <fields> }`,
 * or a bare kind (`- register`). Short forms (`hold: alice`, `wait: 5s`,
 * `register: [alice, bob]`) are expanded to their mapping before validation.
 * References between steps (roles, calls) are checked later, in steps.ts.
 */
import { z } from 'zod';
import { canonicalCodecName, codecKindOf, isPrimaryCodecOf, KNOWN_CODECS } from '../sdp/codecs.js';
import { validateExtraSdpLine } from '../sdp/sdp.js';
import type { Check } from './types.js';
import { decimal, duration, durationJson, flag, integer, jsonSchemaHints, matching, oneOf, strictFields, text, textOrInteger } from './fields.js';
import { describeValue, joinPath, type Problems } from './problems.js';
import { profileRef } from './network.js';

export const CALL_NAME = /^[A-Za-z0-9_.-]+$/;
export const DEFAULT_CALL_NAME = 'main';
export const DEFAULT_TRANSFER_CALL_NAME = 'transfer';
/** The call an incoming answer (`answer: { role, incoming: true }`) creates when it has no `as`. */
export const DEFAULT_INCOMING_CALL_NAME = 'incoming';

const ALL_CODECS = [...new Set([...KNOWN_CODECS.audio, ...KNOWN_CODECS.video])];

const timeout = duration(0.1, 3600).optional();
const roleRef = text('a role name');
const partyRef = text('a role name or a sip:/sips: URI');
const callRef = matching(CALL_NAME, 'a call name of letters, digits, _, . or -');

const codec = text('a codec name').transform((name, context) => {
  const canonical = canonicalCodecName(name);
  if (canonical !== undefined) return canonical;
  context.addIssue({ code: 'custom', message: `unknown codec ${describeValue(name)} (allowed: ${ALL_CODECS.join(', ')})` });
  return z.NEVER;
});

// An allow-list of only rtx/red/FEC/CN/telephone-event restricts nothing (see sdp/codecs.ts), which is surely not what was meant.
const codecList = z
  .array(codec)
  .min(1)
  .refine((names) => names.some((name) => isPrimaryCodecOf('audio', name) || isPrimaryCodecOf('video', name)), {
    message: 'names no media codec: rtx, red, FEC, CN and telephone-event only ride along with one such as opus, PCMU or VP8',
  });

const sdpLine = text('an SDP line such as b=AS:64').superRefine((line, context) => {
  const problem = validateExtraSdpLine(line);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

// Set by SIP.js for every request; a second copy would break the dialog or the authentication.
const STACK_HEADERS = new Set(
  ['via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq', 'contact', 'm', 'content-length', 'l', 'content-type', 'c', 'max-forwards', 'authorization', 'proxy-authorization'],
);
const HEADER = /^([A-Za-z0-9!%'*+\-.^_`~]+)[ \t]*:[ \t]*(\S.*)$/;

const header = text('a header line such as "X-Test: 1"').superRefine((line, context) => {
  const match = HEADER.exec(line);
  if (/[\r\n\0]/.test(line) || !match) {
    context.addIssue({ code: 'custom', message: `expected one "Name: value" header line such as "X-Test: 1", got ${describeValue(line)}` });
  } else if (STACK_HEADERS.has((match[1] ?? '').toLowerCase())) {
    context.addIssue({ code: 'custom', message: `${match[1]} is written by the SIP stack and cannot be set here` });
  }
});

const tones = textOrInteger('DTMF tones (0-9, A-D, *, #)').transform((value, context) => {
  if (/^[0-9A-Da-d*#]+$/.test(value)) return value.toUpperCase();
  context.addIssue({ code: 'custom', message: `expected DTMF tones (0-9, A-D, *, #), got ${describeValue(value)}` });
  return z.NEVER;
});

const rolesFields = strictFields({ roles: z.array(roleRef).min(1).optional(), timeout }, 'a role name, a list of role names or a mapping');
const roleAndCallFields = strictFields({ role: roleRef.optional(), call: callRef.optional(), timeout }, 'a role name or a mapping');

/**
 * Extra SDP lines: a list goes in at session level; a mapping can also put lines into the audio or
 * video sections (`{ video: [b=AS:256] }`): browsers read bandwidth (b=) only from a media section.
 */
const extraSdp = z.union([
  z.array(sdpLine),
  strictFields({ session: z.array(sdpLine).optional(), audio: z.array(sdpLine).optional(), video: z.array(sdpLine).optional() }, 'a list of SDP lines, or a mapping of session, audio and video to lists'),
]);

const callFields = strictFields({
  from: roleRef,
  to: partyRef,
  name: callRef.optional(),
  audio: flag().optional(),
  video: flag().optional(),
  /** Listen only: offer recvonly, capture nothing, send nothing. */
  receiveOnly: flag().optional(),
  codecs: codecList.optional(),
  extraSdp: extraSdp.optional(),
  headers: z.array(header).optional(),
  until: oneOf(['sent', 'ringing', 'established']).optional(),
  timeout,
});

const answerFields = strictFields(
  {
    role: roleRef.optional(),
    call: callRef.optional(),
    after: duration(0, 3600).optional(),
    reject: integer(400, 699).optional(),
    audio: flag().optional(),
    video: flag().optional(),
    /** Listen only: answer recvonly, capture nothing, send nothing. */
    receiveOnly: flag().optional(),
    codecs: codecList.optional(),
    extraSdp: extraSdp.optional(),
    /** A call from outside callwright (a SIP device): wait for it instead of a call step's. */
    incoming: flag().optional(),
    as: callRef.optional(),
    timeout,
  },
  'a role name or a mapping',
);

const VIDEO_LIMITS = ['minFps', 'maxFreezes', 'maxFreezeSeconds', 'minKbps', 'maxKbps', 'minWidth', 'minHeight'] as const;
const videoLimits = strictFields(
  {
    minFps: decimal(0, 240).optional(),
    maxFreezes: integer(0, 1_000_000).optional(),
    maxFreezeSeconds: duration(0, 86_400).optional(),
    minKbps: decimal(0, 1_000_000).optional(),
    maxKbps: decimal(0, 1_000_000).optional(),
    minWidth: integer(1, 16_384).optional(),
    minHeight: integer(1, 16_384).optional(),
  },
  'a mapping of limits such as { minFps: 20, maxFreezes: 0 }',
)
  .refine((limits) => VIDEO_LIMITS.some((key) => limits[key] !== undefined), { message: `needs at least one limit: ${VIDEO_LIMITS.join(', ')}` })
  .refine((limits) => limits.minKbps === undefined || limits.maxKbps === undefined || limits.minKbps <= limits.maxKbps, { message: 'minKbps must not be above maxKbps' });

const inviteSize = strictFields({ min: integer(1, 65_535).optional(), max: integer(1, 65_535).optional() })
  .refine((size) => size.min !== undefined || size.max !== undefined, { message: 'needs min, max or both (bytes)' })
  .refine((size) => size.min === undefined || size.max === undefined || size.min <= size.max, { message: 'min must not be above max' });

// What an sdp check looks for: the start of one SDP line, e.g. b=TIAS:64000 or m=video 0.
const sdpMatch = text('an SDP line such as b=AS:64 or m=video 0').refine((line) => /^[a-z]=\S/.test(line) && !/[\r\n\0]/.test(line), {
  message: 'expected the start of one SDP line, <letter>=<value>, such as b=AS:64 or m=video 0',
});
const sdpMatches = z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(sdpMatch).min(1));
jsonSchemaHints.add(sdpMatches, { json: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] } });

/** Every field an expect step may have; which go together is checked in readExpect. */
const expectFields = strictFields({
  call: callRef.optional(),
  role: roleRef.optional(),
  within: timeout,
  state: oneOf(['ringing', 'established', 'ended', 'failed']).optional(),
  status: integer(100, 699).optional(),
  media: oneOf(['flowing', 'stopped']).optional(),
  direction: oneOf(['both', 'in', 'out']).optional(),
  kind: oneOf(['audio', 'video']).optional(),
  codec: codec.optional(),
  firstAudio: duration(0.01, 600).optional(),
  dtmf: tones.optional(),
  message: textOrInteger('a message body').optional(),
  inviteSize: inviteSize.optional(),
  sdp: sdpMatches.optional(),
  video: videoLimits.optional(),
  /** true: the call must be transcoded somewhere on its way; false: it must not. */
  transcoded: flag().optional(),
});

type CheckKind = Check['kind'];
export const CHECK_KINDS = ['state', 'media', 'codec', 'firstAudio', 'dtmf', 'message', 'inviteSize', 'sdp', 'transcoded', 'video'] as const satisfies readonly CheckKind[];
/** Fields that only make sense next to some checks. */
const COMPANIONS: Record<string, readonly CheckKind[]> = {
  status: ['state'],
  direction: ['media', 'codec', 'sdp'],
  kind: ['media', 'codec'],
  // Messages are sent outside calls here (the message step), so they are not tied to one.
  call: CHECK_KINDS.filter((kind) => kind !== 'message'),
};

/** `wait: holdTime` holds the call for the iteration's draw from load.holdTime; anything else is a duration. */
export const HOLD_TIME_WAIT = 'holdTime';
const waitSeconds = duration(0, 86_400);
const waitLength = z.unknown().transform((value, context): number | typeof HOLD_TIME_WAIT => {
  if (value === HOLD_TIME_WAIT) return HOLD_TIME_WAIT;
  const parsed = waitSeconds.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) context.addIssue({ code: 'custom', message: issue.message });
  return z.NEVER;
});
jsonSchemaHints.add(waitLength, {
  json: { anyOf: [{ const: HOLD_TIME_WAIT }, durationJson(0, 86_400)] },
  description: 'how long: a duration, or holdTime for the draw from load.holdTime',
});

export const SHAPES = {
  register: rolesFields,
  unregister: rolesFields,
  call: callFields,
  answer: answerFields,
  expect: expectFields,
  wait: strictFields({ seconds: waitLength }, 'a duration, holdTime or a mapping'),
  dtmf: strictFields(
    {
      role: roleRef.optional(),
      call: callRef.optional(),
      tones,
      mode: oneOf(['rfc4733', 'info']).optional(),
      duration: duration(0.04, 6).optional(),
      gap: duration(0.03, 6).optional(),
      timeout,
    },
    'tones or a mapping',
  ),
  hold: roleAndCallFields,
  unhold: roleAndCallFields,
  hangup: roleAndCallFields,
  fault: strictFields(
    { role: roleRef.optional(), call: callRef.optional(), media: oneOf(['stop', 'silence', 'restore']), kind: oneOf(['audio', 'video']).optional(), timeout },
    'a mapping: { role, media: stop | silence | restore, kind: audio | video }',
  ),
  transfer: strictFields({ role: roleRef.optional(), call: callRef.optional(), to: partyRef, as: callRef.optional(), timeout }),
  message: strictFields({
    from: roleRef,
    to: partyRef,
    body: textOrInteger('the message body'),
    contentType: matching(/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(?:\s*;.*)?$/, 'a MIME type such as text/plain').optional(),
    timeout,
  }),
  network: strictFields({ role: roleRef, profile: profileRef, timeout }, 'a mapping: { role, profile }'),
} as const;

type Kind = keyof typeof SHAPES;
export const STEP_KINDS = Object.keys(SHAPES) as Kind[];

/** Short forms: the key a lone value stands for; `list` wraps a single value (`register: alice`). */
export interface Shorthand {
  key: string;
  accepts: (value: unknown) => boolean;
  list?: boolean;
}
const isText = (value: unknown): boolean => typeof value === 'string';
const isTextOrNumber = (value: unknown): boolean => typeof value === 'string' || typeof value === 'number';
const isTextOrList = (value: unknown): boolean => typeof value === 'string' || Array.isArray(value);
export const SHORTHAND: Partial<Record<Kind, Shorthand>> = {
  register: { key: 'roles', accepts: isTextOrList, list: true },
  unregister: { key: 'roles', accepts: isTextOrList, list: true },
  answer: { key: 'role', accepts: isText },
  hold: { key: 'role', accepts: isText },
  unhold: { key: 'role', accepts: isText },
  hangup: { key: 'role', accepts: isText },
  wait: { key: 'seconds', accepts: isTextOrNumber },
  dtmf: { key: 'tones', accepts: isTextOrNumber },
};

export interface ExpectFields {
  call?: string;
  role?: string;
  within?: number;
  check: Check;
}
type Fields<K extends Kind> = K extends 'expect' ? ExpectFields : z.output<(typeof SHAPES)[K]>;

/** One step that passed shape validation. `at` gives the path to quote for a field, wherever the user wrote it. */
export type StepDraft = {
  [K in Kind]: { kind: K; path: string; at: (key: string, index?: number) => string; fields: Fields<K> };
}[Kind];

/** A step with shape problems; the call it would have created, so later references to it add no noise. */
export interface FailedStep {
  kind: 'failed';
  createsCall?: string;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Validates one item of `steps`. */
export function readStep(item: unknown, path: string, problems: Problems): StepDraft | FailedStep {
  let kind: string;
  let value: unknown;
  if (typeof item === 'string') {
    kind = item;
  } else if (isMapping(item) && Object.keys(item).length === 1) {
    [kind, value] = Object.entries(item)[0] as [string, unknown];
  } else {
    const keys = isMapping(item) ? Object.keys(item) : [];
    problems.add(
      path,
      keys.length > 1
        ? `a step has one key, its kind; got ${keys.join(', ')} (indent the fields under the kind: "- call:" then "    from: alice")`
        : `expected a step such as "register" or "call: { from: alice, to: bob }" (kinds: ${STEP_KINDS.join(', ')}), got ${describeValue(item)}`,
    );
    return { kind: 'failed' };
  }
  const kindPath = joinPath(path, kind);
  if (!(STEP_KINDS as string[]).includes(kind)) {
    // `- hold alice` reads as one string; the argument goes after a colon.
    const [first = '', ...rest] = kind.split(' ');
    const colonHint = typeof item === 'string' && rest.length > 0 && (STEP_KINDS as string[]).includes(first) ? `; write "${first}: ${rest.join(' ')}"` : '';
    problems.add(kindPath, `unknown step kind ${JSON.stringify(kind)} (allowed: ${STEP_KINDS.join(', ')})${colonHint}`);
    return { kind: 'failed' };
  }
  const known = kind as Kind;
  const shorthand = SHORTHAND[known];
  const short = shorthand !== undefined && shorthand.accepts(value) ? shorthand : undefined;
  const single = short !== undefined && !Array.isArray(value);
  // A bare kind (`- register`, `- hangup:`) has no fields: every default applies.
  const normalized = short ? { [short.key]: short.list && single ? [value] : value } : (value ?? {});
  const at = (key: string, index?: number): string => {
    const base = short?.key === key ? kindPath : joinPath(kindPath, key);
    // `register: alice` is one value: its role is the value itself, not [0].
    return index === undefined || (short?.key === key && single) ? base : joinPath(base, index);
  };

  if (known === 'expect') {
    const fields = readExpect(normalized, kindPath, problems);
    return fields ? { kind: known, path: kindPath, at, fields } : { kind: 'failed' };
  }
  const fields = problems.parse(SHAPES[known], normalized, kindPath, short?.key);
  if (fields !== undefined) return { kind: known, path: kindPath, at, fields } as StepDraft;
  return { kind: 'failed', createsCall: createdCallName(known, normalized) };
}

function createdCallName(kind: string, fields: unknown): string | undefined {
  const record = fields !== null && typeof fields === 'object' ? (fields as Record<string, unknown>) : {};
  if (kind === 'call') return typeof record.name === 'string' ? record.name : DEFAULT_CALL_NAME;
  if (kind === 'transfer') return typeof record.as === 'string' ? record.as : DEFAULT_TRANSFER_CALL_NAME;
  if (kind === 'answer' && record.incoming === true) return typeof record.as === 'string' ? record.as : DEFAULT_INCOMING_CALL_NAME;
  return undefined;
}

function readExpect(value: unknown, path: string, problems: Problems): ExpectFields | undefined {
  const before = problems.count;
  const keys = isMapping(value) ? Object.keys(value) : [];
  const checks = CHECK_KINDS.filter((kind) => keys.includes(kind));
  if (isMapping(value) && checks.length !== 1) {
    problems.add(
      path,
      checks.length === 0
        ? `needs one check: ${CHECK_KINDS.join(', ')}`
        : `has ${checks.length} checks (${checks.join(', ')}); write one expect step per check`,
    );
  }
  const [check] = checks;
  if (checks.length === 1 && check !== undefined) {
    for (const [companion, kinds] of Object.entries(COMPANIONS)) {
      if (keys.includes(companion) && !kinds.includes(check)) {
        problems.add(joinPath(path, companion), `does not go with a ${check} check (it goes with: ${kinds.join(', ')})`);
      }
    }
  }
  const fields = problems.parse(expectFields, value, path);
  if (fields?.codec !== undefined && fields.kind !== undefined) {
    const own = codecKindOf(fields.codec);
    if (own !== undefined && own !== fields.kind) {
      problems.add(joinPath(path, 'kind'), `${fields.codec} is ${own === 'audio' ? 'an audio' : 'a video'} codec, not ${fields.kind}; leave kind out (or write kind: ${own})`);
    }
  }
  const parsedCheck = fields && toCheck(fields);
  if (!fields || !parsedCheck || problems.count > before) return undefined;
  const { call, role, within } = fields;
  return { call, role, within, check: parsedCheck };
}

/** readExpect made sure exactly one check field is present. */
function toCheck(fields: z.output<typeof expectFields>): Check | undefined {
  const { state, status, media, direction = 'both', kind, codec, firstAudio, dtmf, message, inviteSize, sdp, transcoded } = fields;
  if (state !== undefined) return status === undefined ? { kind: 'state', state } : { kind: 'state', state, status };
  if (media !== undefined) return { kind: 'media', flow: media, direction, media: kind ?? 'audio' };
  // A codec's own kind (H264 is video) unless kind says otherwise; audio for a name of both kinds (red).
  if (codec !== undefined) return { kind: 'codec', codec, direction, media: kind ?? codecKindOf(codec) ?? 'audio' };
  if (transcoded !== undefined) return { kind: 'transcoded', expected: transcoded };
  if (firstAudio !== undefined) return { kind: 'firstAudio', withinSeconds: firstAudio };
  if (dtmf !== undefined) return { kind: 'dtmf', tones: dtmf };
  if (message !== undefined) return { kind: 'message', body: message };
  if (inviteSize !== undefined) {
    const { min, max } = inviteSize;
    return { kind: 'inviteSize', ...(max === undefined ? {} : { maxBytes: max }), ...(min === undefined ? {} : { minBytes: min }) };
  }
  // An SDP check is about what the far end sent unless a direction says otherwise.
  if (sdp !== undefined) return { kind: 'sdp', lines: sdp, direction: fields.direction ?? 'in' };
  if (fields.video !== undefined) {
    // Only the limits given: an absent one is no limit.
    const limits = Object.fromEntries(Object.entries(fields.video).filter(([, value]) => value !== undefined));
    return { kind: 'video', limits };
  }
  return undefined;
}
