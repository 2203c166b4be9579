import { existsSync } from 'node:fs';

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
 * pins what it verified (see runner/targetCheck.ts).
 */
export interface TlsTrust {
  /** base64(sha256(SubjectPublicKeyInfo)) of certificates to accept despite errors. */
  spkiSha256Base64: string[];
  /** Accept any certificate (--insecure-tls): loudly logged by the runner. */
  insecure: boolean;
}

/** Flags for headless WebRTC on a closed lab network (see LAB-NOTES). */
export function chromiumArgs(media: FakeMedia, tls?: TlsTrust): string[] {
  const args = [
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
  if (media.audioFile) args.push(`--use-file-for-fake-audio-capture=${media.audioFile}`);
  if (media.videoFile) args.push(`--use-file-for-fake-video-capture=${media.videoFile}`);
  // Only honoured with a --user-data-dir, which puppeteer always gives.
  if (tls?.spkiSha256Base64.length) args.push(`--ignore-certificate-errors-spki-list=${tls.spkiSha256Base64.join(',')}`);
  if (tls?.insecure) args.push('--ignore-certificate-errors');
  return args;
}
