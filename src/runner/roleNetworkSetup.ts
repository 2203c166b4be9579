/**
 * The run's side of impaired networks (src/network): refused before anything starts when this
 * machine cannot build them, built before the browsers, switched by `network` steps, and what
 * happened written into summary.json.
 */
import { resolveChromium } from '../browser/chromium.js';
import { InfraError, InputError } from '../errors.js';
import type { Logger } from '../log.js';
import { describeProfile } from '../network/impairment.js';
import { impairmentUnavailable } from '../network/privileges.js';
import { RoleNetworks } from '../network/roleNetworks.js';
import type { CallResult, NetworkSummary, RunEvent } from '../results.js';
import type { NetworkProfile, Scenario } from '../scenario/types.js';

/** Roles with a `network:`, and the profile each starts with. */
function impairedRoles(scenario: Scenario): Record<string, NetworkProfile> {
  const roles: Record<string, NetworkProfile> = {};
  for (const [name, role] of Object.entries(scenario.roles)) {
    if (role.network === undefined) continue;
    const profile = scenario.network?.profiles[role.network];
    if (!profile) throw new InputError(`${scenario.file}: roles.${name}.network: no profile named "${role.network}"`, 'name a preset (clean, 3g, lossy-wifi, satellite) or one of network.profiles');
    roles[name] = profile;
  }
  return roles;
}

/** Exit 2 before anything starts: a scenario that impairs a role on a machine that cannot. */
export function assertImpairmentPossible(scenario: Scenario): void {
  const roles = Object.keys(impairedRoles(scenario));
  if (roles.length === 0) return;
  const why = impairmentUnavailable();
  const who = roles.length === 1 ? `role ${roles[0]} has` : `roles ${roles.join(', ')} have`;
  if (why) throw new InputError(`${scenario.file}: ${who} a network: profile, but ${why}`, 'run as root (or with CAP_NET_ADMIN), or remove the roles\' network: fields; see docs/network.md');
}

/** The live side: the namespaces, the profile each role is on now, and the record for summary.json. */
export class RunNetworks {
  private readonly summary: NetworkSummary = { roles: {} };

  private constructor(
    private readonly scenario: Scenario,
    private readonly networks: RoleNetworks | undefined,
    private readonly emit: (event: RunEvent) => void,
  ) {}

  static async start(scenario: Scenario, chromium: string | undefined, logger: Logger, emit: (event: RunEvent) => void, onFailure: () => void): Promise<RunNetworks> {
    const roles = impairedRoles(scenario);
    if (Object.keys(roles).length === 0) return new RunNetworks(scenario, undefined, emit);
    const browser = resolveChromium(chromium);
    if (!browser) throw new InfraError('no Chromium to run in the roles\' networks', 'install it (Debian: apt-get install chromium) or pass --chromium PATH');
    // eslint-disable-next-line prefer-const -- the failure hook may fire once the object exists
    let run: RunNetworks | undefined;
    const networks = await RoleNetworks.start(roles, browser, (role, reason) => {
      if (run) run.failedAtMs ??= Date.now();
      const message = `role ${role}: its network impairer stopped (${reason}); its packets no longer pass, so the run stops here: failures from now on are callwright's, not the PBX's`;
      logger.error(message);
      emit({ type: 'log', atMs: Date.now(), level: 'error', message });
      onFailure();
    });
    run = new RunNetworks(scenario, networks, emit);
    const atMs = Date.now();
    for (const [role, profile] of Object.entries(roles)) {
      const network = networks.get(role)!;
      run.summary.roles[role] = { namespace: network.namespace, address: network.address, profiles: [{ profile: profile.name, description: describeProfile(profile), fromMs: atMs }] };
      logger.info(`network: ${networks.describe(role)}`);
    }
    return run;
  }

  /** Why the impaired networks broke mid-run, if they did (summary.json's harnessFault). */
  get failure(): string | undefined {
    return this.networks?.impairerFailure;
  }

  /**
   * A call that failed once an impairer had died is the harness's failure, whatever the symptom
   * (no media, a timeout): the symptom stays in the detail.
   */
  blame(call: CallResult): CallResult {
    const failedAtMs = this.failedAtMs;
    if (call.result !== 'failed' || failedAtMs === undefined) return call;
    const endedAtMs = call.startedAtMs + (call.durationSeconds ?? 0) * 1000;
    if (endedAtMs < failedAtMs - 1000) return call;
    const symptom = `${call.failureReason ?? 'failed'}${call.failureDetail ? `: ${call.failureDetail}` : ''}`;
    return { ...call, failureReason: 'impairer_failed', failureDetail: `${this.failure}; the call saw ${symptom}` };
  }

  private failedAtMs: number | undefined;

  /** Each placement group's Chromium launcher (the role name is the group). */
  launchers(): Record<string, string> {
    const launchers: Record<string, string> = {};
    for (const role of this.networks?.roles() ?? []) launchers[role] = this.networks!.get(role)!.chromium;
    return launchers;
  }

  /**
   * The profile a role's network was on at a time (samples.csv's network_profile): by the time a
   * sample reaches Node a switch may have come after it was taken. Undefined: the host's network.
   */
  profileAt(role: string, atMs: number): string | undefined {
    const profiles = this.summary.roles[role]?.profiles;
    if (!profiles) return undefined;
    let found = profiles[0]!.profile;
    for (const entry of profiles) if (entry.fromMs <= atMs) found = entry.profile;
    return found;
  }

  /** A `network` step: the role's whole path switches at once. Returns the step's detail. */
  async switchTo(role: string, profileName: string): Promise<string> {
    const profile = this.scenario.network?.profiles[profileName];
    if (!this.networks || !profile) throw new Error(`role ${role} has no network to switch, or there is no profile "${profileName}"`);
    if (this.networks.impairerFailure) throw new Error(this.networks.impairerFailure);
    const switched = await this.networks.switchProfile(role, profile);
    const description = describeProfile(profile);
    this.summary.roles[role]?.profiles.push({ profile: profile.name, description, fromMs: switched.atMs });
    this.emit({ type: 'log', atMs: switched.atMs, level: 'info', message: `network ${role} -> ${profile.name} (${description})` });
    return `${role} on ${profile.name}: ${description}`;
  }

  /** Tears everything down; the summary's part, or undefined when no role had a network. */
  async stop(): Promise<NetworkSummary | undefined> {
    if (!this.networks) return undefined;
    const counts = await this.networks.stop();
    for (const [role, count] of Object.entries(counts)) {
      const entry = this.summary.roles[role];
      if (entry && count) entry.impairer = count;
    }
    return this.summary;
  }
}
