import { existsSync, statfsSync } from 'node:fs';

/** Debian's real binary; /usr/bin/chromium is a wrapper script that adds flags of its own. */
const SYSTEM_CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/**
 * Which browser to start: an explicit path, CALLWRIGHT_CHROMIUM, the system
 * Chromium, else undefined (puppeteer's own downloaded Chrome).
 */
export function resolveChromium(explicit?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return explicit ?? env.CALLWRIGHT_CHROMIUM ?? SYSTEM_CHROMIUM.find((path) => existsSync(path));
}

export interface FakeMedia {
  /** WAV file for the fake microphone (looped by Chromium). */
  audioFile?: string;
  /** Y4M file for the fake camera. */
  videoFile?: string;
}

/**
 * How the browsers trust a wss:// SIP server. Chromium takes no CA file: it
 * takes hashes of public keys whose certificate errors it ignores. callwright
 * verifies the server's chain against the user's CA file in Node first, then
 * pins what it verified (see preflight/targetCheck.ts).
 */
export interface TlsTrust {
  /** base64(sha256(SubjectPublicKeyInfo)) of certificates to accept despite errors. */
  spkiSha256Base64: string[];
  /** Accept any certificate (--insecure-tls): loudly logged by the runner. */
  insecure: boolean;
}

/**
 * Below this, Chromium is told to keep its shared memory in /tmp instead of
 * /dev/shm, which Docker and containerd make 64 MiB: builds that map their
 * shared memory there lose renderers when it is full. Debian's Chromium 156
 * uses memfd regions instead (measured: /dev/shm stayed empty through a
 * 40-leg run in a 64 MiB /dev/shm), so for it the flag changes nothing.
 */
export const SMALL_DEV_SHM_BYTES = 512 * 1024 * 1024;

/** The size of /dev/shm in bytes, or undefined where there is none (not Linux). */
export function devShmBytes(path = '/dev/shm'): number | undefined {
  try {
    const stats = statfsSync(path);
    return stats.bsize * stats.blocks;
  } catch {
    return undefined;
  }
}

/** Whether Chromium should keep its shared memory out of a /dev/shm of this size (see SMALL_DEV_SHM_BYTES). */
export function shouldDisableDevShm(shmBytes: number | undefined): boolean {
  return shmBytes !== undefined && shmBytes < SMALL_DEV_SHM_BYTES;
}

/**
 * Flags for headless WebRTC on a closed lab network (see LAB-NOTES).
 * `shmBytes` is the size of this machine's /dev/shm, read when not given.
 */
export function chromiumArgs(media: FakeMedia, tls?: TlsTrust, shmBytes: number | undefined = devShmBytes()): string[] {
  const args = [
    // Chromium's own sandbox needs user namespaces, which the default seccomp profile of
    // Docker and of Kubernetes (RuntimeDefault) refuses to a process without CAP_SYS_ADMIN;
    // the pages load only callwright's own agent, and the container confines the browser.
    '--no-sandbox',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    // SIP servers and media relays cannot resolve mDNS .local candidates.
    '--disable-features=WebRtcHideLocalIpsWithMdns',
    '--allow-loopback-in-peer-connection',
    '--autoplay-policy=no-user-gesture-required',
    '--disable-gpu',
    // Without these Chromium keeps trying to reach Google hosts on a closed network.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    // Pages in the background must keep their timers and media running.
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    '--mute-audio',
  ];
  if (shouldDisableDevShm(shmBytes)) args.push('--disable-dev-shm-usage');
  if (media.audioFile) args.push(`--use-file-for-fake-audio-capture=${media.audioFile}`);
  if (media.videoFile) args.push(`--use-file-for-fake-video-capture=${media.videoFile}`);
  // Only honoured with a --user-data-dir, which puppeteer always gives.
  if (tls?.spkiSha256Base64.length) args.push(`--ignore-certificate-errors-spki-list=${tls.spkiSha256Base64.join(',')}`);
  if (tls?.insecure) args.push('--ignore-certificate-errors');
  return args;
}
