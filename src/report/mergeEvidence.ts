/**
 * The shards' SIP evidence (`sip/<call>.log`) copied into the merged run.
 * Call ids are global, so no two shards write the same file: a clash means
 * the folders are not shards of one run, and is refused naming both.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { SIP_EVIDENCE_DIR } from './sipEvidence.js';

/** File name -> the shard folder it comes from. */
export type SipEvidencePlan = ReadonlyMap<string, string>;

/** Every shard's sip/ files, refusing a name two shards share (before anything is written). */
export function planSipEvidence(shardFolders: readonly string[]): SipEvidencePlan {
  const plan = new Map<string, string>();
  for (const folder of shardFolders) {
    const source = join(folder, SIP_EVIDENCE_DIR);
    if (!existsSync(source)) continue;
    for (const entry of readdirSync(source, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const other = plan.get(entry.name);
      if (other !== undefined) {
        throw new InputError(
          `${SIP_EVIDENCE_DIR}/${entry.name} is in both ${other} and ${folder}: call ids are unique across the shards of one run`,
          'merge the shards of one run only (every shard of a run shares its --run-id and numbers its iterations globally)',
        );
      }
      plan.set(entry.name, folder);
    }
  }
  return plan;
}

/** Copies the files into outDir/sip, after removing an older merge's *.log files there. */
export function copySipEvidence(plan: SipEvidencePlan, outDir: string): void {
  const target = join(outDir, SIP_EVIDENCE_DIR);
  if (existsSync(target)) for (const name of readdirSync(target)) if (name.endsWith('.log')) rmSync(join(target, name), { force: true });
  if (plan.size > 0) mkdirSync(target, { recursive: true });
  for (const [name, folder] of plan) copyFileSync(join(folder, SIP_EVIDENCE_DIR, name), join(target, name));
}
