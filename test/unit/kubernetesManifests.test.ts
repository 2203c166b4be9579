/**
 * deploy/kubernetes stays deployable and true to callwright: every object is valid against
 * the Kubernetes API schema (kubernetes-models), both kustomizations render (kubectl
 * kustomize), and the contract the schema cannot see holds: an Indexed Job whose shard count
 * agrees everywhere, references that resolve, a scenario file the ConfigMap really mounts and
 * that callwright accepts with the Secret's names, a non-root pod, and resources that follow
 * the sizing comment's arithmetic and bench/results.md. The last tests break a copy on purpose
 * and expect the checks to say so.
 *
 * The API schema lets unknown fields through (so does the API server without strict field
 * validation): a misspelt optional field is caught only where the contract checks read it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SMALL_DEV_SHM_BYTES } from '../../src/browser/chromium.js';
import { parseScenario } from '../../src/scenario/index.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy', 'kubernetes');

type Obj = Record<string, any>;
interface Manifest {
  /** Path under deploy/kubernetes. */
  file: string;
  object: Obj;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? yamlFiles(join(dir, entry.name)) : /\.ya?ml$/.test(entry.name) ? [join(dir, entry.name)] : []))
    .sort();
}

function parseManifests(text: string, file: string): Manifest[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
    const object = document.toJSON() as Obj | null;
    return object === null ? [] : [{ file, object }];
  });
}

const files = yamlFiles(DEPLOY);
const all = files.flatMap((path) => parseManifests(readFileSync(path, 'utf8'), relative(DEPLOY, path)));
const isKustomize = (m: Manifest): boolean => String(m.object['apiVersion']).startsWith('kustomize.config.k8s.io/');
const kustomizations = all.filter(isKustomize);
const objects = all.filter((m) => !isKustomize(m));
const texts = new Map(files.map((path) => [relative(DEPLOY, path), readFileSync(path, 'utf8')]));

// --- the Kubernetes API schema ------------------------------------------------------------

/** Schema problems of one object, from the kubernetes-models class of its apiVersion and kind. */
async function schemaProblems(object: Obj): Promise<string[]> {
  const { apiVersion, kind } = object;
  let Model: any;
  try {
    Model = (await import(/* @vite-ignore */ `kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    return [`${apiVersion} ${kind}: no such kind in the Kubernetes API (kubernetes-models)`];
  }
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [`${kind} ${object['metadata']?.name}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

// --- the contract ---------------------------------------------------------------------------

function podSpec(object: Obj): Obj | undefined {
  if (object['kind'] === 'Pod') return object['spec'];
  return object['spec']?.['template']?.['spec'];
}

function named(set: Obj[], kind: string, name: string | undefined): Obj | undefined {
  return set.find((o) => o['kind'] === kind && o['metadata']?.name === name);
}

function envValue(container: Obj, name: string): Obj | undefined {
  return (container['env'] ?? []).find((e: Obj) => e['name'] === name);
}

function optionAfter(args: string[], option: string): string | undefined {
  const index = args.indexOf(option);
  return index < 0 ? undefined : args[index + 1];
}

/** Millicores from a Kubernetes CPU quantity ("1300m", "2", "0.5"). */
function millicores(quantity: string | number): number {
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) : Number(text) * 1000;
}

/** MiB from a Kubernetes memory quantity ("1000Mi", "2Gi"). */
function mebibytes(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi)?$/.exec(String(quantity));
  if (!match) return NaN;
  const factor = { Ki: 1 / 1024, Mi: 1, Gi: 1024 }[match[2] as 'Ki' | 'Mi' | 'Gi'] ?? 1 / (1024 * 1024);
  return Number(match[1]) * factor;
}

/** The shards Job: the Indexed one that runs `callwright run` with CALLWRIGHT_SHARDS. */
function shardsJob(set: Obj[]): Obj | undefined {
  return set.find((o) => o['kind'] === 'Job' && podSpec(o)?.['containers']?.some((c: Obj) => envValue(c, 'CALLWRIGHT_SHARDS')));
}

/** Values the container's environment gets from Secrets and literals (placeholders included). */
function containerEnv(container: Obj, set: Obj[], problems: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container['env'] ?? []) {
    if (typeof entry['value'] === 'string') env[entry['name']] = entry['value'];
    const ref = entry['valueFrom']?.['secretKeyRef'];
    if (ref) {
      const secret = named(set, 'Secret', ref['name']);
      const value = secret?.['stringData']?.[ref['key']] ?? (secret?.['data']?.[ref['key']] !== undefined ? Buffer.from(secret['data'][ref['key']], 'base64').toString() : undefined);
      if (value === undefined) problems.push(`env ${entry['name']}: Secret ${ref['name']} with key ${ref['key']} is not in deploy/kubernetes`);
      else env[entry['name']] = value;
    }
    const configRef = entry['valueFrom']?.['configMapKeyRef'];
    if (configRef) {
      const value = named(set, 'ConfigMap', configRef['name'])?.['data']?.[configRef['key']];
      if (value === undefined) problems.push(`env ${entry['name']}: ConfigMap ${configRef['name']} with key ${configRef['key']} is not in deploy/kubernetes`);
      else env[entry['name']] = value;
    }
  }
  return env;
}

/** The file a container path names, when it lies in a ConfigMap volume the container mounts. */
function configMapFile(path: string, container: Obj, spec: Obj, set: Obj[]): { text?: string; problem?: string } {
  const mount = (container['volumeMounts'] ?? []).find((m: Obj) => path.startsWith(`${String(m['mountPath']).replace(/\/$/, '')}/`));
  if (!mount) return { problem: `${path} is not under any volume the container mounts` };
  const volume = (spec['volumes'] ?? []).find((v: Obj) => v['name'] === mount['name']);
  const mapName = volume?.['configMap']?.['name'];
  if (!mapName) return { problem: `${path}: volume ${mount['name']} is not a ConfigMap` };
  const key = path.slice(String(mount['mountPath']).replace(/\/$/, '').length + 1);
  const text = named(set, 'ConfigMap', mapName)?.['data']?.[key];
  return text === undefined ? { problem: `${path}: ConfigMap ${mapName} has no key ${key}` } : { text };
}

/** Every ConfigMap, Secret and PVC a pod spec names exists in the set. */
function referenceProblems(owner: string, spec: Obj, set: Obj[]): string[] {
  const problems: string[] = [];
  for (const volume of spec['volumes'] ?? []) {
    const configMap = volume['configMap']?.['name'];
    const secret = volume['secret']?.['secretName'];
    const claim = volume['persistentVolumeClaim']?.['claimName'];
    if (configMap && !named(set, 'ConfigMap', configMap)) problems.push(`${owner}: volume ${volume['name']} names ConfigMap ${configMap}, which is not in the set`);
    if (secret && !named(set, 'Secret', secret)) problems.push(`${owner}: volume ${volume['name']} names Secret ${secret}, which is not in the set`);
    if (claim && !named(set, 'PersistentVolumeClaim', claim)) problems.push(`${owner}: volume ${volume['name']} names PersistentVolumeClaim ${claim}, which is not in the set`);
  }
  for (const container of spec['containers'] ?? []) {
    for (const mount of container['volumeMounts'] ?? []) {
      if (!(spec['volumes'] ?? []).some((v: Obj) => v['name'] === mount['name'])) problems.push(`${owner}: container ${container['name']} mounts volume ${mount['name']}, which the pod does not have`);
    }
    containerEnv(container, set, problems); // adds a problem for each reference that is not there
  }
  return problems.map((p) => (p.startsWith(owner) ? p : `${owner}: ${p}`));
}

/** Non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp: for every pod. */
function securityProblems(owner: string, spec: Obj): string[] {
  const problems: string[] = [];
  const pod = spec['securityContext'] ?? {};
  for (const container of [...(spec['initContainers'] ?? []), ...(spec['containers'] ?? [])]) {
    const own = container['securityContext'] ?? {};
    const where = `${owner} container ${container['name']}`;
    if ((own['runAsNonRoot'] ?? pod['runAsNonRoot']) !== true) problems.push(`${where}: runAsNonRoot is not set`);
    const uid = own['runAsUser'] ?? pod['runAsUser'];
    if (uid === undefined || uid === 0) problems.push(`${where}: runAsUser must be a non-zero uid (the image's user is 1000)`);
    if (own['allowPrivilegeEscalation'] !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
    if (!(own['capabilities']?.['drop'] ?? []).includes('ALL')) problems.push(`${where}: capabilities must drop ALL`);
    if ((own['seccompProfile'] ?? pod['seccompProfile'])?.['type'] !== 'RuntimeDefault') problems.push(`${where}: seccompProfile must be RuntimeDefault`);
    if (!container['resources']?.['requests'] || !container['resources']?.['limits']?.['memory']) problems.push(`${where}: needs resource requests and a memory limit`);
  }
  return problems;
}

/** Browser legs one iteration of the scenario holds: a caller leg per call, and a callee leg when it calls a role. */
function legsPerCall(steps: { kind: string; to?: unknown }[]): number {
  return steps.filter((s) => s.kind === 'call').reduce((legs, s) => legs + 1 + (typeof s.to === 'object' && s.to !== null && 'role' in s.to ? 1 : 0), 0);
}

interface BenchFigures {
  /** (Chromium + Node cores) / legs of each churn row through Kamailio, in millicores a leg. */
  churnMillicoresPerLeg: number[];
  /** Chromium PSS of each held callwright row at the standard profile: legs and MB in all. */
  heldPss: { legs: number; megabytes: number }[];
}

/** A markdown table's rows (cells trimmed) under the header row that starts with `firstHeader`. */
function markdownTable(markdown: string, firstHeader: string): Record<string, string>[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${firstHeader} |`));
  if (start < 0) return [];
  const cells = (line: string): string[] => line.split('|').slice(1, -1).map((cell) => cell.trim());
  const header = cells(lines[start]!);
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(Object.fromEntries(cells(line).map((cell, i) => [header[i]!, cell])));
  }
  return rows;
}

function benchFigures(markdown: string): BenchFigures {
  const churn = markdownTable(markdown, 'server').filter((row) => row['server'] === 'kamailio');
  const held = markdownTable(markdown, 'run').filter((row) => row['run'] === 'callwright' && row['profile'] === 'standard');
  return {
    churnMillicoresPerLeg: churn.map((row) => ((Number(row['Chromium cores']) + Number(row['Node cores'])) / Number.parseInt(row['legs (calls at once)']!, 10)) * 1000),
    heldPss: held.map((row) => ({ legs: Number(row['legs']), megabytes: Number(row['legs']) * Number(row['PSS MB/leg']) })),
  };
}

/** The sizing comment above the shards Job's resources, read as numbers. */
function sizingComment(text: string): Record<string, number[]> | string {
  const patterns: Record<string, RegExp> = {
    legs: /legs per shard\s*=\s*(\d+) calls at once x (\d+) legs \/ (\d+) shards = (\d+) legs/,
    cpuRequest: /cpu request\s*=\s*(\d+) legs x (\d+)m = (\d+)m/,
    cpuLimit: /cpu limit\s*=\s*(\d+) x (\d+)m = (\d+)m/,
    memoryRequest: /memory request\s*=\s*(\d+)Mi \+ (\d+) legs x (\d+)Mi = (\d+)Mi for Chromium \+ (\d+)Mi for Node = (\d+)Mi/,
    memoryLimit: /memory limit\s*=\s*(\d+) x (\d+)Mi = (\d+)Mi/,
  };
  const figures: Record<string, number[]> = {};
  for (const [name, pattern] of Object.entries(patterns)) {
    const match = pattern.exec(text);
    if (!match) return `the sizing comment has no line matching ${pattern}`;
    figures[name] = match.slice(1).map(Number);
  }
  return figures;
}

/** The resources against the comment's arithmetic, the scenario's load, the shard count and the bench. */
function sizingProblems(jobText: string, container: Obj, shards: number, concurrency: number, legsEachCall: number, bench: BenchFigures): string[] {
  const figures = sizingComment(jobText);
  if (typeof figures === 'string') return [figures];
  const problems: string[] = [];
  const expectEqual = (what: string, actual: number, expected: number): void => {
    if (actual !== expected) problems.push(`${what}: ${actual}, expected ${expected}`);
  };
  const [calls, legsPerCallInComment, shardsInComment, legs] = figures['legs']!;
  expectEqual("sizing: calls at once in the comment (the scenario's load.concurrency)", calls!, concurrency);
  expectEqual("sizing: legs a call in the comment (the scenario's call steps)", legsPerCallInComment!, legsEachCall);
  expectEqual('sizing: shards in the comment', shardsInComment!, shards);
  expectEqual('sizing: legs per shard', legs!, (calls! * legsPerCallInComment!) / shardsInComment!);

  const [cpuLegs, cpuPerLeg, cpuRequest] = figures['cpuRequest']!;
  expectEqual('sizing: legs in the cpu request', cpuLegs!, legs!);
  expectEqual('sizing: cpu request', cpuRequest!, cpuLegs! * cpuPerLeg!);
  const [cpuFactor, cpuBase, cpuLimit] = figures['cpuLimit']!;
  expectEqual('sizing: the cpu limit starts from the request', cpuBase!, cpuRequest!);
  expectEqual('sizing: cpu limit', cpuLimit!, cpuFactor! * cpuBase!);

  const [chromiumBase, memoryLegs, memoryPerLeg, chromium, node, memoryRequest] = figures['memoryRequest']!;
  expectEqual('sizing: legs in the memory request', memoryLegs!, legs!);
  expectEqual("sizing: Chromium's memory", chromium!, chromiumBase! + memoryLegs! * memoryPerLeg!);
  expectEqual('sizing: memory request', memoryRequest!, chromium! + node!);
  const [memoryFactor, memoryBase, memoryLimit] = figures['memoryLimit']!;
  expectEqual('sizing: the memory limit starts from the request', memoryBase!, memoryRequest!);
  expectEqual('sizing: memory limit', memoryLimit!, memoryFactor! * memoryBase!);

  const resources = container['resources'] ?? {};
  expectEqual('resources.requests.cpu (millicores), against the sizing comment', millicores(resources['requests']?.['cpu']), cpuRequest!);
  expectEqual('resources.limits.cpu (millicores), against the sizing comment', millicores(resources['limits']?.['cpu']), cpuLimit!);
  expectEqual('resources.requests.memory (MiB), against the sizing comment', mebibytes(resources['requests']?.['memory']), memoryRequest!);
  expectEqual('resources.limits.memory (MiB), against the sizing comment', mebibytes(resources['limits']?.['memory']), memoryLimit!);

  // The per-leg figures cover what the bench measured (CPU with churn, memory of held legs).
  if (bench.churnMillicoresPerLeg.length === 0 || bench.heldPss.length === 0) problems.push('bench/results.md: no churn rows through Kamailio or no held callwright rows to size from');
  for (const measured of bench.churnMillicoresPerLeg) {
    if (measured > cpuPerLeg!) problems.push(`sizing: ${cpuPerLeg}m a leg is under bench/results.md's churn row of ${measured.toFixed(1)}m a leg`);
  }
  for (const { legs: benchLegs, megabytes } of bench.heldPss) {
    if (megabytes > chromiumBase! + benchLegs * memoryPerLeg!) {
      problems.push(`sizing: ${chromiumBase}Mi + ${memoryPerLeg}Mi a leg is under bench/results.md's ${megabytes.toFixed(0)} MB of Chromium at ${benchLegs} legs`);
    }
  }
  return problems;
}

/** Everything the API schema cannot check. `jobText` is the file holding the shards Job (its sizing comment). */
function contractProblems(set: Obj[], jobText: string, bench: BenchFigures): string[] {
  const problems: string[] = [];
  for (const object of set) {
    const spec = podSpec(object);
    if (!spec) continue;
    const owner = `${object['kind']} ${object['metadata']?.name}`;
    problems.push(...referenceProblems(owner, spec, set), ...securityProblems(owner, spec));
  }

  const job = shardsJob(set);
  if (!job) return [...problems, 'no Job runs callwright with CALLWRIGHT_SHARDS'];
  const jobSpec = job['spec'] ?? {};
  const spec = podSpec(job)!;
  const container = spec['containers'].find((c: Obj) => envValue(c, 'CALLWRIGHT_SHARDS'));
  const shards = jobSpec['completions'];
  if (jobSpec['completionMode'] !== 'Indexed') problems.push('shards Job: completionMode must be Indexed (JOB_COMPLETION_INDEX picks the shard)');
  if (jobSpec['parallelism'] !== shards) problems.push(`shards Job: completions (${shards}) and parallelism (${jobSpec['parallelism']}) differ: every shard must run at once`);
  if (envValue(container, 'CALLWRIGHT_SHARDS')?.['value'] !== String(shards)) {
    problems.push(`shards Job: CALLWRIGHT_SHARDS (${envValue(container, 'CALLWRIGHT_SHARDS')?.['value']}) is not completions (${shards})`);
  }
  const noRetry = jobSpec['backoffLimitPerIndex'] === 0 || (jobSpec['backoffLimitPerIndex'] === undefined && jobSpec['backoffLimit'] === 0);
  if (!noRetry) problems.push('shards Job: a failed shard would be run again (backoffLimitPerIndex: 0, or backoffLimit: 0)');
  if (spec['restartPolicy'] !== 'Never') problems.push('shards Job: restartPolicy must be Never (OnFailure restarts a failed shard in place)');
  const runIdPath = envValue(container, 'CALLWRIGHT_RUN_ID')?.['valueFrom']?.['fieldRef']?.['fieldPath'];
  if (!["metadata.labels['batch.kubernetes.io/job-name']", "metadata.labels['job-name']"].includes(runIdPath)) {
    problems.push(`shards Job: CALLWRIGHT_RUN_ID must come from the job-name label (downward API), not ${JSON.stringify(runIdPath)}`);
  }

  // The arguments: a scenario file the ConfigMap mounts, results on the PVC under the run id, a Pushgateway that is there.
  const args: string[] = container['args'] ?? [];
  if (args[0] !== 'run' || args[1] === undefined) problems.push(`shards Job: args must start with run <scenario file>, not ${JSON.stringify(args.slice(0, 2))}`);
  const scenarioFile = configMapFile(args[1] ?? '', container, spec, set);
  if (scenarioFile.problem) problems.push(`shards Job: the scenario ${scenarioFile.problem}`);
  const out = optionAfter(args, '--out') ?? '';
  const outMount = (container['volumeMounts'] ?? []).find((m: Obj) => out.startsWith(`${m['mountPath']}/`));
  const outVolume = (spec['volumes'] ?? []).find((v: Obj) => v['name'] === outMount?.['name']);
  if (!outVolume?.['persistentVolumeClaim'] || !out.includes('$(CALLWRIGHT_RUN_ID)')) {
    problems.push(`shards Job: --out ${out} must be a folder named by $(CALLWRIGHT_RUN_ID) on the results volume (a PVC)`);
  }
  const claim = named(set, 'PersistentVolumeClaim', outVolume?.['persistentVolumeClaim']?.['claimName']);
  if (claim && !(claim['spec']?.['accessModes'] ?? []).includes('ReadWriteMany')) problems.push('results PVC: every shard and the merge write it at once: ReadWriteMany');
  const pushgateway = optionAfter(args, '--pushgateway');
  if (pushgateway !== undefined) {
    const url = new URL(pushgateway);
    const service = named(set, 'Service', url.hostname);
    if (!url.hostname.includes('.') && !service?.['spec']?.['ports']?.some((p: Obj) => String(p['port']) === url.port)) {
      problems.push(`shards Job: --pushgateway ${pushgateway}: no Service ${url.hostname} with port ${url.port} in the set`);
    }
  }

  // /dev/shm: a memory emptyDir at least as big as the size under which callwright adds --disable-dev-shm-usage.
  const shmMount = (container['volumeMounts'] ?? []).find((m: Obj) => m['mountPath'] === '/dev/shm');
  const shm = (spec['volumes'] ?? []).find((v: Obj) => v['name'] === shmMount?.['name'])?.['emptyDir'];
  if (shm?.['medium'] !== 'Memory' || !(mebibytes(shm['sizeLimit']) * 1024 * 1024 >= SMALL_DEV_SHM_BYTES)) {
    problems.push(`shards Job: /dev/shm must be an emptyDir with medium Memory and a sizeLimit of at least ${SMALL_DEV_SHM_BYTES / 1024 / 1024}Mi`);
  }

  // The scenario, as callwright reads it, with the environment the container gets (Secret placeholders).
  if (scenarioFile.text !== undefined) {
    try {
      const scenario = parseScenario(scenarioFile.text, args[1]!, { env: containerEnv(container, set, []) });
      problems.push(...sizingProblems(jobText, container, shards, scenario.load.concurrency, legsPerCall(scenario.steps), bench));
    } catch (error) {
      const lines = (error as { problems?: string[] }).problems ?? [String((error as Error).message)];
      problems.push(...lines.map((line) => `the scenario in the ConfigMap: ${line}`));
    }
  }

  // The merge: the same PVC, the shards' run id (the Job's name).
  const runId = job['metadata']?.name;
  for (const merge of set.filter((o) => podSpec(o)?.['containers']?.some((c: Obj) => c['args']?.[0] === 'merge'))) {
    const mergeSpec = podSpec(merge)!;
    const mergeContainer = mergeSpec['containers'].find((c: Obj) => c['args']?.[0] === 'merge');
    const mergeArgs: string[] = mergeContainer['args'];
    const resultsMount = (mergeContainer['volumeMounts'] ?? []).find((m: Obj) => {
      const volume = (mergeSpec['volumes'] ?? []).find((v: Obj) => v['name'] === m['name']);
      return volume?.['persistentVolumeClaim']?.['claimName'] === claim?.['metadata']?.name;
    });
    const runFolder = `${resultsMount?.['mountPath']}/${runId}`;
    if (!resultsMount || mergeArgs[1] !== runFolder || optionAfter(mergeArgs, '--out') !== `${runFolder}/merged`) {
      problems.push(`${merge['kind']} ${merge['metadata']?.name}: must run merge ${runFolder} --out ${runFolder}/merged on the results PVC, got ${mergeArgs.join(' ')}`);
    }
    if (merge['kind'] === 'Job' && merge['spec']?.['backoffLimit'] !== 0) problems.push('merge Job: backoffLimit must be 0 (a verdict, not a flake)');
  }
  return problems;
}

const bench = benchFigures(readFileSync(join(ROOT, 'bench', 'results.md'), 'utf8'));
const jobFile = objects.find((m) => m.object === shardsJob(objects.map((o) => o.object)))?.file ?? '';
const jobText = texts.get(jobFile) ?? '';
const set = objects.map((m) => m.object);

/** A deep copy of the set, changed by `change`, through the same checks. */
function brokenCopy(change: (copy: Obj[]) => void, text = jobText): string[] {
  const copy = structuredClone(set);
  change(copy);
  return contractProblems(copy, text, bench);
}

const job = (copy: Obj[]): Obj => shardsJob(copy)!;
const shardContainer = (copy: Obj[]): Obj => podSpec(job(copy))!['containers'][0];

describe('deploy/kubernetes', () => {
  it('has the run, the merge and the Pushgateway, every object valid against the Kubernetes API schema', async () => {
    expect(objects.map((m) => `${m.object['kind']}/${m.object['metadata']?.name}`).sort()).toEqual([
      'ConfigMap/callwright-scenario',
      'Deployment/pushgateway',
      'Job/callwright-merge',
      'Job/callwright-shards',
      'PersistentVolumeClaim/callwright-results',
      'Pod/callwright-results',
      'Secret/callwright-pbx',
      'Service/pushgateway',
    ]);
    const problems = (await Promise.all(objects.map(async (m) => (await schemaProblems(m.object)).map((p) => `${m.file}: ${p}`)))).flat();
    expect(problems).toEqual([]);
  });

  it('keeps the contract the schema cannot see: shard counts agree, references resolve, the scenario is mounted and valid, pods are non-root, sizing adds up', () => {
    expect(contractProblems(set, jobText, bench)).toEqual([]);
  });

  it('lists every manifest in exactly one kustomization, and each kustomization names files that exist', () => {
    const listed = kustomizations.flatMap((k) => {
      const base = relative(DEPLOY, join(DEPLOY, k.file, '..'));
      return [...(k.object['resources'] ?? []), ...(k.object['components'] ?? [])].map((entry: string) => join(base, entry));
    });
    const manifestFiles = [...new Set(objects.map((m) => m.file))];
    for (const file of manifestFiles) expect(listed.filter((entry) => entry === file), `${file} in the kustomizations`).toHaveLength(1);
    for (const entry of listed) expect(texts.has(entry) || texts.has(join(entry, 'kustomization.yaml')), `${entry} exists`).toBe(true);
  });

  // An extra check over the schema validation above, which always runs: kubectl is not in Debian's
  // repositories at a version with kustomize components (bookworm has 1.20), so a machine without it
  // skips this one, in CI too, and says so in the test's name.
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  const noKubectl = kubectl.status === 0 ? undefined : 'no kubectl (1.21 or later: it renders the kustomizations, components included)';
  it.skipIf(noKubectl !== undefined)(`renders with kubectl kustomize, the image set from image/ and every rendered object valid${noKubectl ? ` [SKIPPED: ${noKubectl}]` : ''}`, async () => {
    const rendered: Manifest[] = [];
    for (const dir of ['.', 'merge']) {
      const result = spawnSync('kubectl', ['kustomize', join(DEPLOY, dir)], { encoding: 'utf8' });
      expect(result.stderr, `kubectl kustomize ${dir}`).toBe('');
      expect(result.status).toBe(0);
      rendered.push(...parseManifests(result.stdout, `kubectl kustomize ${dir}`));
    }
    expect(rendered).toHaveLength(objects.length);
    const image = kustomizations.find((k) => k.object['kind'] === 'Component')!.object['images'][0];
    const images = rendered.flatMap((m) => (podSpec(m.object)?.['containers'] ?? []).map((c: Obj) => c['image'] as string));
    const callwrightImages = images.filter((i) => !i.startsWith('prom/pushgateway:'));
    expect(callwrightImages).toHaveLength(3); // the shards, the merge, the results reader
    expect(new Set(callwrightImages)).toEqual(new Set([`${image.newName}:${image.newTag}`]));
    expect(rendered.every((m) => m.object['metadata']?.labels?.['app.kubernetes.io/part-of'] === 'callwright')).toBe(true);
    const problems = (await Promise.all(rendered.map((m) => schemaProblems(m.object)))).flat();
    expect(problems).toEqual([]);
    expect(contractProblems(rendered.map((m) => m.object), jobText, bench)).toEqual([]);
  });

  describe('fails a broken copy', () => {
    it('a Job field of the wrong type (schema)', async () => {
      const broken = structuredClone(job(set));
      broken['spec']['completions'] = 'ten';
      expect((await schemaProblems(broken)).join('\n')).toMatch(/completions must be integer/);
    });

    it('completions and parallelism that differ, or a shard count the environment does not repeat', () => {
      expect(brokenCopy((copy) => (job(copy)['spec']['parallelism'] = 5)).join('\n')).toMatch(/completions \(10\) and parallelism \(5\) differ/);
      expect(brokenCopy((copy) => (envValue(shardContainer(copy), 'CALLWRIGHT_SHARDS')!['value'] = '8')).join('\n')).toMatch(/CALLWRIGHT_SHARDS \(8\) is not completions \(10\)/);
      expect(brokenCopy((copy) => delete job(copy)['spec']['completionMode']).join('\n')).toMatch(/completionMode must be Indexed/);
    });

    it('a failed shard that would be run again', () => {
      expect(brokenCopy((copy) => (job(copy)['spec']['backoffLimitPerIndex'] = 1)).join('\n')).toMatch(/would be run again/);
      expect(brokenCopy((copy) => (podSpec(job(copy))!['restartPolicy'] = 'OnFailure')).join('\n')).toMatch(/restartPolicy must be Never/);
    });

    it('a scenario file the ConfigMap does not hold, and a Secret or PVC that is not there', () => {
      expect(brokenCopy((copy) => (shardContainer(copy)['args'][1] = '/scenario/other.yaml')).join('\n')).toMatch(/has no key other\.yaml/);
      expect(brokenCopy((copy) => (envValue(shardContainer(copy), 'PBX_LOAD_PASSWORD')!['valueFrom']['secretKeyRef']['name'] = 'nope')).join('\n')).toMatch(
        /Secret nope with key PBX_LOAD_PASSWORD is not in deploy\/kubernetes/,
      );
      expect(brokenCopy((copy) => (named(copy, 'PersistentVolumeClaim', 'callwright-results')!['metadata']['name'] = 'other')).join('\n')).toMatch(
        /names PersistentVolumeClaim callwright-results, which is not in the set/,
      );
    });

    it('a scenario callwright rejects, or whose password the pod is not given', () => {
      const scenarioOf = (copy: Obj[]): Obj => named(copy, 'ConfigMap', 'callwright-scenario')!['data'];
      expect(brokenCopy((copy) => (scenarioOf(copy)['scenario.yaml'] = scenarioOf(copy)['scenario.yaml'].replace('concurrency: 250', 'concurrency: -1'))).join('\n')).toMatch(
        /the scenario in the ConfigMap: .*load\.concurrency/,
      );
      expect(brokenCopy((copy) => (shardContainer(copy)['env'] = shardContainer(copy)['env'].filter((e: Obj) => e['name'] !== 'PBX_LOAD_PASSWORD'))).join('\n')).toMatch(
        /PBX_LOAD_PASSWORD/,
      );
    });

    it('a pod that may run as root or escalate, and a /dev/shm too small for Chromium', () => {
      expect(brokenCopy((copy) => delete podSpec(job(copy))!['securityContext']['runAsNonRoot']).join('\n')).toMatch(/runAsNonRoot is not set/);
      expect(brokenCopy((copy) => (shardContainer(copy)['securityContext']['allowPrivilegeEscalation'] = true)).join('\n')).toMatch(/allowPrivilegeEscalation must be false/);
      const shm = (copy: Obj[]): Obj => podSpec(job(copy))!['volumes'].find((v: Obj) => v['name'] === 'dshm')['emptyDir'];
      expect(brokenCopy((copy) => (shm(copy)['sizeLimit'] = '64Mi')).join('\n')).toMatch(/\/dev\/shm must be an emptyDir/);
    });

    it('resources off the sizing arithmetic, arithmetic that does not add up, and a per-leg figure under the bench', () => {
      expect(brokenCopy((copy) => (shardContainer(copy)['resources']['requests']['cpu'] = '1')).join('\n')).toMatch(/requests\.cpu \(millicores\), against the sizing comment: 1000, expected 1300/);
      expect(brokenCopy(() => undefined, jobText.replace('= 1300m', '= 1200m')).join('\n')).toMatch(/sizing: cpu request: 1200, expected 1300/);
      expect(brokenCopy((copy) => (job(copy)['spec']['completions'] = job(copy)['spec']['parallelism'] = 5)).join('\n')).toMatch(/sizing: shards in the comment: 10, expected 5/);
      const underBench = jobText.replace('50 legs x 26m = 1300m', '50 legs x 20m = 1000m').replace('2 x 1300m = 2600m', '2 x 1000m = 2000m');
      expect(brokenCopy((copy) => Object.assign(shardContainer(copy)['resources'], { requests: { cpu: '1000m', memory: '1000Mi' }, limits: { cpu: '2000m', memory: '2000Mi' } }), underBench).join('\n')).toMatch(
        /20m a leg is under bench\/results\.md's churn row/,
      );
    });
  });
});
