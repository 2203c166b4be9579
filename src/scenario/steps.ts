/**
 * Turns validated step shapes into the typed Step list: checks what steps refer
 * to (roles, calls created by earlier steps, who may act on a call), fills in
 * defaults, and names each step for reports.
 */
import type { Check, ExtraMediaSdp, Party, Role, Step, VideoLimits } from './types.js';
import { formatSeconds, secondsToMs } from './durations.js';
import { Problems, type Problem } from './problems.js';
import { DEFAULT_CALL_NAME, DEFAULT_INCOMING_CALL_NAME, DEFAULT_TRANSFER_CALL_NAME, HOLD_TIME_WAIT, readStep, type FailedStep, type StepDraft } from './stepShapes.js';
import { checkSipUri } from './sipUri.js';
import { profileProblem, type NetworkProfiles } from './network.js';

export const DTMF_DEFAULTS = { mode: 'rfc4733', durationMs: 100, gapMs: 70 } as const;
/** `wait` steps get this much on top of their own length before they count as stuck. */
const WAIT_SLACK_SECONDS = 5;

/** The caller of an incoming answer's call: a SIP device, not a role. Not a URI any step can name. */
const OUTSIDE_CALLER: Party = { uri: 'a SIP device' };

interface CallInfo {
  createdAt: string;
  /** Unknown when the step that created the call had problems of its own. */
  caller?: Party;
  callee?: Party;
  audio: boolean;
  video: boolean;
  /** The call step that offers receive-only, for the answer that would leave no direction to send in. */
  receiveOnlyAt?: string;
  answeredAt?: string;
}

interface Context {
  roles: Record<string, Role>;
  /** Every role name in the file, valid or not, so a broken role is reported once, not at each use. */
  roleNames: readonly string[];
  stepTimeoutSeconds: number;
  /** The profiles network steps may name. */
  network: NetworkProfiles;
}

export function readSteps(value: unknown, context: Context, problems: Problems): Step[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.add('steps', value === undefined ? 'required (a list of steps such as register, call, answer, expect, hangup)' : Array.isArray(value) ? 'needs at least one step' : 'expected a list of steps');
    return [];
  }
  // Shapes are all read before references (a call may be named before the step that creates it),
  // so problems are collected apart and then listed in step order.
  const stepProblems = new Problems();
  const drafts = value.map((item, index) => readStep(item, `steps[${index}]`, stepProblems));
  const steps = new StepResolver(context, drafts, stepProblems).resolveAll();
  const stepIndex = (problem: Problem): number => Number(/^steps\[(\d+)\]/.exec(problem.path)?.[1] ?? 0);
  for (const problem of [...stepProblems.list].sort((a, b) => stepIndex(a) - stepIndex(b))) problems.add(problem.path, problem.message);
  return steps;
}

class StepResolver {
  private readonly calls = new Map<string, CallInfo>();
  private currentCall: string | undefined;
  /** Which step creates each call name first, for "created later" messages. */
  private readonly creators = new Map<string, string>();

  constructor(
    private readonly context: Context,
    private readonly drafts: readonly (StepDraft | FailedStep)[],
    private readonly problems: Problems,
  ) {
    drafts.forEach((draft, index) => {
      const name = createdCall(draft);
      if (name !== undefined && !this.creators.has(name)) this.creators.set(name, `steps[${index}]`);
    });
  }

  resolveAll(): Step[] {
    const steps: Step[] = [];
    for (const draft of this.drafts) {
      if (draft.kind === 'failed') {
        // Keep its call known, so later steps are not also reported for it.
        if (draft.createsCall !== undefined) this.addCall(draft.createsCall, { createdAt: '', audio: true, video: false });
        continue;
      }
      const step = this.resolve(draft);
      if (step) steps.push(step);
    }
    return steps;
  }

  private resolve(draft: StepDraft): Step | undefined {
    const timeout = (seconds: number | undefined, extra = 0): number => seconds ?? this.context.stepTimeoutSeconds + extra;
    switch (draft.kind) {
      case 'register':
      case 'unregister': {
        const { fields } = draft;
        const roles = fields.roles ?? Object.keys(this.context.roles);
        const known = (fields.roles ?? []).map((role, index) => this.checkRole(role, draft.at('roles', index))).every(Boolean);
        if (!known) return undefined;
        return { kind: draft.kind, name: `${draft.kind} ${roles.join(', ')}`, timeoutSeconds: timeout(fields.timeout), roles };
      }
      case 'call': {
        const { fields } = draft;
        const fromOk = this.checkRole(fields.from, draft.at('from'));
        const to = this.readParty(fields.to, draft.at('to'));
        const call = fields.name ?? DEFAULT_CALL_NAME;
        const nameOk = this.checkNewCall(call, fields.name === undefined ? draft.path : draft.at('name'));
        const audio = fields.audio ?? true;
        const video = fields.video ?? false;
        const receiveOnly = fields.receiveOnly === true;
        this.addCall(call, { createdAt: draft.path, caller: { role: fields.from }, ...(to ? { callee: to } : {}), audio, video, ...(receiveOnly ? { receiveOnlyAt: draft.path } : {}) });
        let mediaOk = !receiveOnly || this.checkReceivesSomething(audio, video, draft.at('receiveOnly'));
        const callee = to && 'role' in to ? to.role : undefined;
        if (receiveOnly && callee !== undefined && this.context.roles[callee]?.autoAnswer?.receiveOnly) {
          this.problems.add(draft.at('receiveOnly'), `${callee} answers receive-only (roles.${callee}.autoAnswer.receiveOnly): with both ends receive-only no media could flow`);
          mediaOk = false;
        }
        if (!fromOk || !to || !nameOk || !mediaOk) return undefined;
        return {
          kind: 'call',
          name: `call ${fields.from}->${partyLabel(to)}${receiveOnly ? ' receive-only' : ''}${call === DEFAULT_CALL_NAME ? '' : ` (${call})`}`,
          timeoutSeconds: timeout(fields.timeout),
          call,
          from: fields.from,
          to,
          audio,
          video,
          ...(receiveOnly ? { receiveOnly: true as const } : {}),
          ...(fields.codecs ? { codecs: fields.codecs } : {}),
          ...extraSdpOf(fields.extraSdp),
          ...(fields.headers ? { headers: fields.headers } : {}),
          until: fields.until ?? 'sent',
        };
      }
      case 'answer':
        return this.resolveAnswer(draft);
      case 'expect':
        return this.resolveExpect(draft);
      case 'wait': {
        const { seconds } = draft.fields;
        if (seconds === HOLD_TIME_WAIT) return { kind: 'wait', name: 'wait holdTime', timeoutSeconds: WAIT_SLACK_SECONDS, seconds: 0, holdTime: true };
        return { kind: 'wait', name: `wait ${formatSeconds(seconds)}`, timeoutSeconds: seconds + WAIT_SLACK_SECONDS, seconds };
      }
      case 'dtmf': {
        const { fields } = draft;
        const target = this.actOnCall(draft, fields);
        if (!target) return undefined;
        const durationMs = fields.duration === undefined ? DTMF_DEFAULTS.durationMs : secondsToMs(fields.duration);
        const gapMs = fields.gap === undefined ? DTMF_DEFAULTS.gapMs : secondsToMs(fields.gap);
        const mode = fields.mode ?? DTMF_DEFAULTS.mode;
        // Long tone strings take time to play out; the default timeout must not cut them off.
        const playSeconds = (fields.tones.length * (durationMs + gapMs)) / 1000;
        return {
          kind: 'dtmf',
          name: `dtmf ${fields.tones} from ${target.role} (${mode})${callSuffix(target.call)}`,
          timeoutSeconds: timeout(fields.timeout, playSeconds),
          ...target,
          tones: fields.tones,
          mode,
          durationMs,
          gapMs,
        };
      }
      case 'hold':
      case 'unhold':
      case 'hangup': {
        const target = this.actOnCall(draft, draft.fields);
        if (!target) return undefined;
        return { kind: draft.kind, name: `${draft.kind} ${target.role}${callSuffix(target.call)}`, timeoutSeconds: timeout(draft.fields.timeout), ...target };
      }
      case 'fault': {
        const target = this.actOnCall(draft, draft.fields);
        if (!target) return undefined;
        const media = draft.fields.media;
        const mediaKind = draft.fields.kind ?? 'audio';
        if (mediaKind === 'video' && this.calls.get(target.call)?.video === false) {
          this.problems.add(draft.at('kind'), `call ${target.call} has no video to fault (set video: true on its call step)`);
          return undefined;
        }
        return {
          kind: 'fault',
          name: `fault ${target.role} ${mediaKind === 'video' ? 'video' : 'media'} ${media}${callSuffix(target.call)}`,
          timeoutSeconds: timeout(draft.fields.timeout),
          ...target,
          media,
          mediaKind,
        };
      }
      case 'transfer':
        return this.resolveTransfer(draft);
      case 'message': {
        const { fields } = draft;
        const fromOk = this.checkRole(fields.from, draft.at('from'));
        const to = this.readParty(fields.to, draft.at('to'));
        if (!fromOk || !to) return undefined;
        return {
          kind: 'message',
          name: `message ${fields.from}->${partyLabel(to)}`,
          timeoutSeconds: timeout(fields.timeout),
          from: fields.from,
          to,
          body: fields.body,
          contentType: fields.contentType ?? 'text/plain',
        };
      }
      case 'network':
        return this.resolveNetwork(draft);
    }
  }

  /** A switch needs the role in a namespace of its own from the start: that is what `roles.<role>.network` asks for. */
  private resolveNetwork(draft: Extract<StepDraft, { kind: 'network' }>): Step | undefined {
    const { role, profile, timeout } = draft.fields;
    let ok = this.checkRole(role, draft.at('role'));
    // A role that failed validation is not in roles: its problems are already listed.
    const known = this.context.roles[role];
    if (ok && known && known.network === undefined) {
      this.problems.add(
        draft.at('role'),
        `${role} has no network profile: give roles.${role} a network: (e.g. clean) so its browsers run in a namespace that can be switched`,
      );
      ok = false;
    }
    const problem = profileProblem(profile, this.context.network);
    if (problem !== undefined) {
      this.problems.add(draft.at('profile'), problem);
      ok = false;
    }
    if (!ok || !known) return undefined;
    return { kind: 'network', name: `network ${role} -> ${profile}`, timeoutSeconds: timeout ?? this.context.stepTimeoutSeconds, role, profile };
  }

  private resolveAnswer(draft: Extract<StepDraft, { kind: 'answer' }>): Step | undefined {
    const { fields } = draft;
    if (fields.incoming === true) return this.resolveIncomingAnswer(draft);
    if (fields.as !== undefined) {
      this.problems.add(draft.at('as'), 'names the call an incoming answer creates; it goes with incoming: true');
      return undefined;
    }
    const found = this.findCall(fields.call, draft.at('call'), draft.path);
    if (!found) return undefined;
    const [call, info] = found;
    const callee = info.callee;
    const rolePath = fields.role === undefined ? draft.path : draft.at('role');
    let role = fields.role;
    if (callee && !('role' in callee)) {
      this.problems.add(rolePath, `call ${call} goes to ${callee.uri}, outside callwright; only a role that is called can answer`);
      return undefined;
    }
    if (role !== undefined && !this.checkRole(role, rolePath)) return undefined;
    if (callee) {
      if (role !== undefined && role !== callee.role) {
        this.problems.add(rolePath, `${role} cannot answer call ${call}: it goes to ${callee.role}`);
        return undefined;
      }
      role = callee.role;
      if (this.context.roles[role]?.autoAnswer) {
        this.problems.add(rolePath, `${role} answers by itself (roles.${role}.autoAnswer); remove this step or autoAnswer`);
        return undefined;
      }
    }
    if (info.answeredAt !== undefined) {
      this.problems.add(draft.path, `call ${call} is already answered by ${info.answeredAt}`);
      return undefined;
    }
    info.answeredAt = draft.path;
    const afterSeconds = fields.after ?? 0;
    if (fields.timeout !== undefined && afterSeconds >= fields.timeout) {
      this.problems.add(draft.at('after'), `${formatSeconds(afterSeconds)} is not shorter than the step's timeout (${formatSeconds(fields.timeout)})`);
      return undefined;
    }
    if (role === undefined) return undefined; // callee unknown: its call step was already reported
    const audio = fields.audio ?? info.audio;
    const video = fields.video ?? info.video;
    if (!this.checkReceiveOnlyAnswer(draft, audio, video)) return undefined;
    if (fields.receiveOnly === true && info.receiveOnlyAt !== undefined) {
      this.problems.add(draft.at('receiveOnly'), `call ${call} is offered receive-only by ${info.receiveOnlyAt}: with both ends receive-only no media could flow (answer without receiveOnly: it then sends only)`);
      return undefined;
    }
    const verb = fields.reject === undefined ? 'answer' : `reject ${fields.reject}`;
    return {
      kind: 'answer',
      name: `${verb} ${role}${fields.receiveOnly ? ' receive-only' : ''}${afterSeconds > 0 ? ` after ${formatSeconds(afterSeconds)}` : ''}${callSuffix(call)}`,
      // The delay is part of the step: without its own timeout, waiting must not eat the default one.
      timeoutSeconds: fields.timeout ?? this.context.stepTimeoutSeconds + afterSeconds,
      call,
      role,
      afterSeconds,
      ...(fields.reject === undefined ? {} : { rejectStatus: fields.reject }),
      // By default answer with what was offered; audio-only answers to video calls are a case to test, so say it.
      audio,
      video,
      ...(fields.receiveOnly ? { receiveOnly: true as const } : {}),
      ...(fields.codecs ? { codecs: fields.codecs } : {}),
      ...extraSdpOf(fields.extraSdp),
    };
  }

  /** `answer: { role, incoming: true, as }`: a SIP device calls the role's account; the step waits for that call and names it. */
  private resolveIncomingAnswer(draft: Extract<StepDraft, { kind: 'answer' }>): Step | undefined {
    const { fields } = draft;
    const call = fields.as ?? DEFAULT_INCOMING_CALL_NAME;
    let ok = this.checkNewCall(call, fields.as === undefined ? draft.path : draft.at('as'));
    if (fields.call !== undefined) {
      this.problems.add(draft.at('call'), `an incoming answer creates its call; name it with as: ${fields.call}`);
      ok = false;
    }
    const role = fields.role;
    if (role === undefined) {
      this.problems.add(draft.path, 'an incoming answer needs role: the role whose registered account the device calls');
      ok = false;
    } else if (!this.checkRole(role, draft.at('role'))) {
      ok = false;
    } else if (this.context.roles[role]?.autoAnswer) {
      this.problems.add(draft.at('role'), `${role} answers by itself (roles.${role}.autoAnswer); remove this step or autoAnswer`);
      ok = false;
    }
    // What the device offers is not known here: answer audio only unless told.
    const audio = fields.audio ?? true;
    const video = fields.video ?? false;
    this.addCall(call, { createdAt: draft.path, caller: OUTSIDE_CALLER, ...(role === undefined ? {} : { callee: { role } }), audio, video, answeredAt: draft.path });
    const afterSeconds = fields.after ?? 0;
    if (fields.timeout !== undefined && afterSeconds >= fields.timeout) {
      this.problems.add(draft.at('after'), `${formatSeconds(afterSeconds)} is not shorter than the step's timeout (${formatSeconds(fields.timeout)})`);
      ok = false;
    }
    if (!this.checkReceiveOnlyAnswer(draft, audio, video)) ok = false;
    if (!ok || role === undefined) return undefined;
    const verb = fields.reject === undefined ? 'answer' : `reject ${fields.reject}`;
    return {
      kind: 'answer',
      name: `${verb} incoming call at ${role}${fields.receiveOnly ? ' receive-only' : ''}${afterSeconds > 0 ? ` after ${formatSeconds(afterSeconds)}` : ''}${callSuffix(call)}`,
      timeoutSeconds: fields.timeout ?? this.context.stepTimeoutSeconds + afterSeconds,
      call,
      role,
      incoming: true,
      afterSeconds,
      ...(fields.reject === undefined ? {} : { rejectStatus: fields.reject }),
      audio,
      video,
      ...(fields.receiveOnly ? { receiveOnly: true as const } : {}),
      ...(fields.codecs ? { codecs: fields.codecs } : {}),
      ...extraSdpOf(fields.extraSdp),
    };
  }

  /** A receive-only leg still needs a medium to receive. */
  private checkReceivesSomething(audio: boolean, video: boolean, path: string): boolean {
    if (audio || video) return true;
    this.problems.add(path, 'a receive-only leg receives audio, video or both: leave audio on (the default) or set video: true');
    return false;
  }

  /** receiveOnly on an answer: it must answer (not reject) and receive something. */
  private checkReceiveOnlyAnswer(draft: Extract<StepDraft, { kind: 'answer' }>, audio: boolean, video: boolean): boolean {
    const { fields } = draft;
    if (fields.receiveOnly !== true) return true;
    if (fields.reject !== undefined) {
      this.problems.add(draft.at('receiveOnly'), `does not go with reject: a rejected call has no media; remove one of them`);
      return false;
    }
    return this.checkReceivesSomething(audio, video, draft.at('receiveOnly'));
  }

  private resolveExpect(draft: Extract<StepDraft, { kind: 'expect' }>): Step | undefined {
    const { call: callName, role, within, check } = draft.fields;
    const roleOk = role === undefined || this.checkRole(role, draft.at('role'));
    if ((check.kind === 'dtmf' || check.kind === 'message') && role === undefined) {
      this.problems.add(draft.path, `a ${check.kind} check needs role: the role that receives it`);
      return undefined;
    }
    if (check.kind === 'transcoded' && role !== undefined) {
      this.problems.add(draft.at('role'), 'a transcoded check compares both ends of the call; leave role out');
      return undefined;
    }
    // Messages travel outside calls (the message step), so their checks name none: call is ''.
    let call = '';
    if (check.kind !== 'message') {
      const found = this.findCall(callName, draft.at('call'), draft.path);
      if (!found) return undefined;
      call = found[0];
      if (role !== undefined && roleOk && !this.isOnCall(found[1], role)) {
        this.problems.add(draft.at('role'), `${role} is not on call ${call} (${describeCall(found[1])})`);
        return undefined;
      }
    }
    if (!roleOk) return undefined;
    const defaultTimeout = check.kind === 'firstAudio' ? Math.max(this.context.stepTimeoutSeconds, check.withinSeconds) : this.context.stepTimeoutSeconds;
    return {
      kind: 'expect',
      name: `expect ${checkLabel(check)}${check.kind === 'message' ? '' : callSuffix(call)}${role === undefined ? '' : ` at ${role}`}`,
      timeoutSeconds: within ?? defaultTimeout,
      call,
      ...(role === undefined ? {} : { role }),
      check,
    };
  }

  private resolveTransfer(draft: Extract<StepDraft, { kind: 'transfer' }>): Step | undefined {
    const { fields } = draft;
    const target = this.actOnCall(draft, fields);
    const to = this.readParty(fields.to, draft.at('to'));
    const newCall = fields.as ?? DEFAULT_TRANSFER_CALL_NAME;
    const nameOk = this.checkNewCall(newCall, fields.as === undefined ? draft.path : draft.at('as'));
    const original = target ? this.calls.get(target.call) : undefined;
    // Blind transfer: the party on the other end of the original call is sent to `to`.
    const transferee = original && target ? otherParty(original, target.role) : undefined;
    this.addCall(newCall, { createdAt: draft.path, ...(transferee ? { caller: transferee } : {}), ...(to ? { callee: to } : {}), audio: original?.audio ?? true, video: original?.video ?? false });
    if (!target || !to || !nameOk) return undefined;
    return {
      kind: 'transfer',
      name: `transfer ${transferee ? partyLabel(transferee) : '?'} to ${partyLabel(to)} (by ${target.role})`,
      timeoutSeconds: draft.fields.timeout ?? this.context.stepTimeoutSeconds,
      ...target,
      to,
      newCall,
    };
  }

  /** The call and role of hold/unhold/hangup/dtmf/transfer; the role defaults to the call's caller. */
  private actOnCall(draft: StepDraft, fields: { role?: string | undefined; call?: string | undefined }): { call: string; role: string } | undefined {
    const found = this.findCall(fields.call, draft.at('call'), draft.path);
    if (!found) return undefined;
    const [call, info] = found;
    if (fields.role === undefined) {
      if (info.caller === undefined) return undefined; // reported at the step that created the call
      if ('role' in info.caller) return { call, role: info.caller.role };
      this.problems.add(draft.path, `call ${call} comes from ${info.caller.uri}, outside callwright: set role to the role that acts`);
      return undefined;
    }
    if (!this.checkRole(fields.role, draft.at('role'))) return undefined;
    if (!this.isOnCall(info, fields.role)) {
      this.problems.add(draft.at('role'), `${fields.role} is not on call ${call} (${describeCall(info)})`);
      return undefined;
    }
    return { call, role: fields.role };
  }

  /** The named call, or the most recent one; reports calls that do not exist yet. */
  private findCall(name: string | undefined, namePath: string, stepPath: string): [string, CallInfo] | undefined {
    const call = name ?? this.currentCall;
    if (call === undefined) {
      this.problems.add(stepPath, 'no call to act on: no call or transfer step comes before this one');
      return undefined;
    }
    const info = this.calls.get(call);
    if (info) return [call, info];
    const creator = this.creators.get(call);
    const known = [...this.calls.keys()];
    this.problems.add(
      namePath,
      `call ${JSON.stringify(call)} ${creator ? `is only created later, by ${creator}` : 'is not created by any call or transfer step'}` +
        ` (calls so far: ${known.length > 0 ? known.join(', ') : 'none'})`,
    );
    return undefined;
  }

  /** `path`: the name if the user wrote one, else the step (the default name clashed). */
  private checkNewCall(call: string, path: string): boolean {
    const existing = this.calls.get(call);
    if (!existing) return true;
    this.problems.add(path, `call name ${JSON.stringify(call)} is already used by ${existing.createdAt || 'an earlier step'}; give this call its own name`);
    return false;
  }

  private addCall(name: string, info: CallInfo): void {
    if (!this.calls.has(name)) this.calls.set(name, info);
    this.currentCall = name;
  }

  private isOnCall(info: CallInfo, role: string): boolean {
    if (info.caller === undefined || info.callee === undefined) return true; // unknown parties: already reported
    return [info.caller, info.callee].some((party) => 'role' in party && party.role === role);
  }

  private checkRole(role: string, path: string): boolean {
    if (this.context.roleNames.includes(role)) return true;
    this.problems.add(path, `unknown role ${JSON.stringify(role)} (roles: ${this.context.roleNames.join(', ') || 'none'})`);
    return false;
  }

  /** A role name, or a sip:/sips: URI for a device outside callwright. */
  private readParty(value: string, path: string): Party | undefined {
    if (/^sips?:/i.test(value)) {
      const problem = checkSipUri(value);
      if (problem === undefined) return { uri: value };
      this.problems.add(path, `${JSON.stringify(value)} is not a valid SIP URI: ${problem}`);
      return undefined;
    }
    if (this.context.roleNames.includes(value)) return { role: value };
    this.problems.add(path, `unknown role ${JSON.stringify(value)} (roles: ${this.context.roleNames.join(', ') || 'none'}; or a sip:/sips: URI)`);
    return undefined;
  }
}

function createdCall(draft: StepDraft | FailedStep): string | undefined {
  if (draft.kind === 'failed') return draft.createsCall;
  if (draft.kind === 'call') return draft.fields.name ?? DEFAULT_CALL_NAME;
  if (draft.kind === 'transfer') return draft.fields.as ?? DEFAULT_TRANSFER_CALL_NAME;
  if (draft.kind === 'answer' && draft.fields.incoming === true) return draft.fields.as ?? DEFAULT_INCOMING_CALL_NAME;
  return undefined;
}

function otherParty(info: CallInfo, role: string): Party | undefined {
  const isRole = (party: Party | undefined): boolean => party !== undefined && 'role' in party && party.role === role;
  return isRole(info.caller) ? info.callee : info.caller;
}

function partyLabel(party: Party): string {
  return 'role' in party ? party.role : party.uri;
}

function describeCall(info: CallInfo): string {
  return `${info.caller ? partyLabel(info.caller) : '?'} -> ${info.callee ? partyLabel(info.callee) : '?'}`;
}

function callSuffix(call: string): string {
  return call === DEFAULT_CALL_NAME ? '' : ` on ${call}`;
}

function checkLabel(check: Check): string {
  switch (check.kind) {
    case 'state':
      return check.status === undefined ? check.state : `${check.state} ${check.status}`;
    case 'media':
      return check.direction === 'both' ? `${check.media} ${check.flow} both ways` : `${check.media} ${check.direction} ${check.flow}`;
    case 'codec':
      return `codec ${check.codec} ${check.direction}`;
    case 'transcoded':
      return check.expected ? 'transcoded' : 'not transcoded';
    case 'firstAudio':
      return `first audio within ${formatSeconds(check.withinSeconds)}`;
    case 'dtmf':
      return `dtmf ${check.tones}`;
    case 'message':
      return `message ${JSON.stringify(check.body.length > 20 ? `${check.body.slice(0, 17)}...` : check.body)}`;
    case 'inviteSize':
      return `INVITE size ${[check.minBytes === undefined ? '' : `>=${check.minBytes}`, check.maxBytes === undefined ? '' : `<=${check.maxBytes}`].filter(Boolean).join(' ')} bytes`;
    case 'sdp':
      return `SDP ${check.direction === 'in' ? 'received' : check.direction === 'out' ? 'sent' : 'sent and received'} has ${check.lines.join(', ')}`;
    case 'video':
      return `video ${videoLimitsLabel(check.limits)}`;
  }
}

/** `fps>=20 freezes<=0 freeze<=0.5s`: the limits of a video check, as its step name shows them. */
function videoLimitsLabel(limits: VideoLimits): string {
  const parts = [
    limits.minFps === undefined ? '' : `fps>=${limits.minFps}`,
    limits.maxFreezes === undefined ? '' : `freezes<=${limits.maxFreezes}`,
    limits.maxFreezeSeconds === undefined ? '' : `freeze<=${formatSeconds(limits.maxFreezeSeconds)}`,
    limits.minKbps === undefined ? '' : `kbps>=${limits.minKbps}`,
    limits.maxKbps === undefined ? '' : `kbps<=${limits.maxKbps}`,
    limits.minWidth === undefined ? '' : `width>=${limits.minWidth}`,
    limits.minHeight === undefined ? '' : `height>=${limits.minHeight}`,
  ];
  return parts.filter(Boolean).join(' ');
}

/** The step's extra SDP: a plain list is session-level; a mapping may add audio and video section lines. */
function extraSdpOf(extra: string[] | { session?: string[]; audio?: string[]; video?: string[] } | undefined): { extraSdp?: string[]; extraMediaSdp?: ExtraMediaSdp } {
  if (extra === undefined) return {};
  if (Array.isArray(extra)) return extra.length ? { extraSdp: extra } : {};
  const media: ExtraMediaSdp = { ...(extra.audio?.length ? { audio: extra.audio } : {}), ...(extra.video?.length ? { video: extra.video } : {}) };
  return { ...(extra.session?.length ? { extraSdp: extra.session } : {}), ...(media.audio || media.video ? { extraMediaSdp: media } : {}) };
}
