import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { InfraError } from '../errors.js';
import type { LabDeviceName } from './types.js';

/** A program the lab runs, and the Debian package that ships it. */
export interface LabBinary {
  name: 'kamailio' | 'rtpengine' | 'sipp' | 'baresip' | 'openssl' | 'turnserver';
  aptPackage: string;
}

export const labBinaries = {
  kamailio: { name: 'kamailio', aptPackage: 'kamailio' },
  rtpengine: { name: 'rtpengine', aptPackage: 'rtpengine-daemon' },
  sipp: { name: 'sipp', aptPackage: 'sip-tester' },
  baresip: { name: 'baresip', aptPackage: 'baresip-core' },
  openssl: { name: 'openssl', aptPackage: 'openssl' },
  coturn: { name: 'turnserver', aptPackage: 'coturn' },
} as const satisfies Record<string, LabBinary>;

/** Kamailio modules the generated config loads, and the package of each (most are in 'kamailio'). */
export const kamailioModules: readonly { module: string; aptPackage: string }[] = [
  ...[
    'tm', 'tmx', 'sl', 'rr', 'pv', 'maxfwd', 'usrloc', 'registrar', 'textops', 'siputils', 'xlog', 'sanity',
    'ctl', 'nathelper', 'xhttp', 'sdpops', 'auth', 'htable', 'rtpengine',
  ].map((module) => ({ module, aptPackage: 'kamailio' })),
  { module: 'websocket', aptPackage: 'kamailio-websocket-modules' },
  { module: 'tls', aptPackage: 'kamailio-tls-modules' },
];

/** baresip modules the generated config loads; all in baresip-core. */
export const baresipModules = ['g711', 'ausine', 'aubridge', 'account'] as const;

const kamailioModuleDirs = [
  '/usr/lib/x86_64-linux-gnu/kamailio/modules',
  '/usr/lib/aarch64-linux-gnu/kamailio/modules',
  '/usr/lib/kamailio/modules',
  '/usr/lib64/kamailio/modules',
  '/usr/local/lib64/kamailio/modules',
];
const baresipModuleDirs = ['/usr/lib/baresip/modules', '/usr/lib/x86_64-linux-gnu/baresip/modules', '/usr/local/lib/baresip/modules'];

/** Absolute path of an executable on PATH (plus the sbin dirs, where Debian puts kamailio), or undefined. */
export function findExecutable(name: string, searchPath = process.env['PATH'] ?? ''): string | undefined {
  const dirs = [...searchPath.split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface LabToolchain {
  kamailio: string;
  kamailioModuleDir: string;
  rtpengine: string;
  openssl: string;
  sipp?: string;
  baresip?: string;
  baresipModuleDir?: string;
  /** coturn's turnserver, when the lab runs a TURN relay. */
  turnserver?: string;
}

/** Lab parts beside Kamailio, rtpengine and the devices. */
export interface LabExtras {
  /** coturn (LabOptions.turn). */
  turn?: boolean;
}

export interface MissingPrerequisite {
  what: string;
  aptPackage: string;
}

/** What is missing for a lab with these devices (and coturn, with `{ turn: true }`); empty when all is there. */
export function missingLabPrerequisites(devices: readonly LabDeviceName[], extras: LabExtras = {}): MissingPrerequisite[] {
  return inspectToolchain(devices, extras).missing;
}

export function describeMissing(missing: readonly MissingPrerequisite[]): string {
  return missing.map((m) => `${m.what} (apt-get install ${m.aptPackage})`).join('; ');
}

/** Finds every program and module the lab needs; throws one InfraError listing all that are missing. */
export function requireLabToolchain(devices: readonly LabDeviceName[], extras: LabExtras = {}): LabToolchain {
  const { toolchain, missing } = inspectToolchain(devices, extras);
  if (missing.length > 0 || !toolchain) {
    const packages = [...new Set(missing.map((m) => m.aptPackage))];
    throw new InfraError(
      `The lab cannot start: ${describeMissing(missing)}`,
      `Install the Debian packages: apt-get install ${packages.join(' ')}`,
    );
  }
  return toolchain;
}

function inspectToolchain(devices: readonly LabDeviceName[], extras: LabExtras): { toolchain?: LabToolchain; missing: MissingPrerequisite[] } {
  const missing: MissingPrerequisite[] = [];
  const need = (binary: LabBinary): string | undefined => {
    const found = findExecutable(binary.name);
    if (!found) missing.push({ what: `'${binary.name}' not found on PATH`, aptPackage: binary.aptPackage });
    return found;
  };
  const kamailio = need(labBinaries.kamailio);
  const rtpengine = need(labBinaries.rtpengine);
  const openssl = need(labBinaries.openssl);
  const sipp = devices.includes('sipp-echo') ? need(labBinaries.sipp) : undefined;
  const baresip = devices.includes('baresip') ? need(labBinaries.baresip) : undefined;
  const turnserver = extras.turn ? need(labBinaries.coturn) : undefined;

  const kamailioModuleDir = kamailio ? findModuleDir(kamailioModuleDirs, 'tm.so') : undefined;
  if (kamailio && !kamailioModuleDir) missing.push({ what: `Kamailio modules dir not found in ${kamailioModuleDirs.join(', ')}`, aptPackage: 'kamailio' });
  if (kamailioModuleDir) {
    for (const { module, aptPackage } of kamailioModules) {
      const file = path.join(kamailioModuleDir, `${module}.so`);
      if (!existsSync(file)) missing.push({ what: `Kamailio module ${file} not found`, aptPackage });
    }
  }
  const baresipModuleDir = baresip ? findModuleDir(baresipModuleDirs, 'g711.so') : undefined;
  if (baresip && !baresipModuleDir) missing.push({ what: `baresip modules dir not found in ${baresipModuleDirs.join(', ')}`, aptPackage: 'baresip-core' });
  if (baresipModuleDir) {
    for (const module of baresipModules) {
      const file = path.join(baresipModuleDir, `${module}.so`);
      if (!existsSync(file)) missing.push({ what: `baresip module ${file} not found`, aptPackage: 'baresip-core' });
    }
  }

  if (missing.length > 0 || !kamailio || !kamailioModuleDir || !rtpengine || !openssl) return { missing };
  return {
    missing,
    toolchain: { kamailio, kamailioModuleDir, rtpengine, openssl, sipp, baresip, baresipModuleDir, turnserver },
  };
}

function findModuleDir(candidates: readonly string[], probeFile: string): string | undefined {
  return candidates.find((dir) => existsSync(path.join(dir, probeFile)));
}
