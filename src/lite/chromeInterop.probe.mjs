// Manual interop check (not part of vitest): a lite leg (src/lite/liteMedia.ts) against headless
// Chromium on 127.0.0.1. Run from the repository root:
//
//   node src/lite/chromeInterop.probe.mjs            # both ways: lite offers / Chromium answers, then the reverse
//   node src/lite/chromeInterop.probe.mjs --capture  # print Chromium's own audio offer (for chromeOfferTemplate.ts)
//
// It bundles liteMedia.ts with esbuild into a temporary directory (Node 20 cannot import .ts),
// drives a Chromium page with puppeteer, and prints Chromium's getStats next to the lite leg's
// sample(). Exits non-zero when media did not flow both ways.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const capture = process.argv.includes('--capture');
const MEDIA_SECONDS = 5;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// callwright's own Chromium flags for WebRTC (src/browser/chromium.ts), fake devices.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--mute-audio',
];

async function loadLite(dir) {
  const ndc = pathToFileURL(join(root, 'node_modules/node-datachannel/dist/esm/lib/index.mjs')).href;
  const out = join(dir, 'lite.mjs');
  writeFileSync(
    join(dir, 'entry.ts'),
    `export * from ${JSON.stringify(join(root, 'src/lite/liteMedia.ts'))};\nexport * from ${JSON.stringify(join(root, 'src/lite/audioFrames.ts'))};\n`,
  );
  await build({
    entryPoints: [join(dir, 'entry.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    logLevel: 'error',
    plugins: [{ name: 'ndc', setup: (b) => b.onResolve({ filter: /^node-datachannel$/ }, () => ({ path: ndc, external: true })) }],
  });
  return import(pathToFileURL(out).href);
}

const server = http.createServer((_, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>lite interop</title>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
const browserPid = browser.process()?.pid;
const dir = mkdtempSync(join(tmpdir(), 'lite-probe-'));
let ok = true;
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const version = await browser.version();
  console.log(`# ${version} (chromium --version: ${execFileSync('chromium', ['--version'], { encoding: 'utf8', stderr: 'ignore' }).trim()})`);

  // The page side: one RTCPeerConnection with the fake microphone, as callwright's agent builds it.
  await page.evaluate(() => {
    const gather = (pc) =>
      new Promise((r) => {
        if (pc.iceGatheringState === 'complete') r();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
      });
    window.probe = {
      async make() {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
        const pc = new RTCPeerConnection({ bundlePolicy: 'balanced' });
        pc.addTrack(stream.getAudioTracks()[0], stream);
        // Played, as callwright's page plays remote audio: Chromium decodes only what it plays out.
        pc.addEventListener('track', (event) => {
          const player = document.createElement('audio');
          player.autoplay = true;
          player.srcObject = event.streams[0] ?? new MediaStream([event.track]);
          document.body.appendChild(player);
          void player.play().catch(() => undefined);
        });
        window.pc = pc;
        window.states = [];
        pc.addEventListener('connectionstatechange', () => window.states.push(pc.connectionState));
      },
      async offer() {
        await this.make();
        await window.pc.setLocalDescription(await window.pc.createOffer());
        await gather(window.pc);
        return window.pc.localDescription.sdp;
      },
      async answer(offer) {
        await this.make();
        await window.pc.setRemoteDescription({ type: 'offer', sdp: offer });
        await window.pc.setLocalDescription(await window.pc.createAnswer());
        await gather(window.pc);
        return window.pc.localDescription.sdp;
      },
      async accept(answer) {
        await window.pc.setRemoteDescription({ type: 'answer', sdp: answer });
      },
      dtmf(tones) {
        const sender = window.pc.getSenders().find((s) => s.dtmf);
        return new Promise((r) => {
          sender.dtmf.ontonechange = (e) => e.tone === '' && r();
          sender.dtmf.insertDTMF(tones, 100, 70);
        });
      },
      async stats() {
        const report = await window.pc.getStats();
        const out = { states: window.states };
        const codecs = new Map();
        report.forEach((s) => s.type === 'codec' && codecs.set(s.id, s.mimeType));
        report.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio')
            out.inbound = { codec: codecs.get(s.codecId), packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived, packetsLost: s.packetsLost, jitter: s.jitter, totalSamplesReceived: s.totalSamplesReceived, concealedSamples: s.concealedSamples, audioLevel: s.audioLevel };
          if (s.type === 'outbound-rtp' && s.kind === 'audio') out.outbound = { codec: codecs.get(s.codecId), packetsSent: s.packetsSent, bytesSent: s.bytesSent };
          if (s.type === 'remote-inbound-rtp' && s.kind === 'audio') out.remoteInbound = { roundTripTime: s.roundTripTime, packetsLost: s.packetsLost, fractionLost: s.fractionLost, jitter: s.jitter, roundTripTimeMeasurements: s.roundTripTimeMeasurements };
          if (s.type === 'remote-outbound-rtp' && s.kind === 'audio') out.remoteOutbound = { packetsSent: s.packetsSent, bytesSent: s.bytesSent, reportsSent: s.reportsSent };
          if (s.type === 'transport') out.dtls = { dtlsState: s.dtlsState, dtlsRole: s.dtlsRole, srtpCipher: s.srtpCipher, tlsVersion: s.tlsVersion };
        });
        return out;
      },
      close() {
        window.pc?.close();
      },
    };
  });

  if (capture) {
    console.log(await page.evaluate(() => window.probe.offer()));
  } else {
    const lite = await loadLite(dir);
    const frames = lite.loadAllAudioFrames(join(root, 'fixtures/audio-frames'));
    const known = new lite.KnownFrames(frames.values());
    for (const liteOffers of [true, false]) {
      console.log(`\n## ${liteOffers ? 'lite offers, Chromium answers' : 'Chromium offers, lite answers'}`);
      const events = [];
      const dtmf = [];
      const session = new lite.LiteMediaSession({
        frames,
        known,
        rtcpIntervalMs: 1000,
        onTransport: (layer, state) => events.push(`${layer}:${state}`),
        onDtmf: (tone) => dtmf.push(tone),
      });
      const t0 = performance.now();
      if (liteOffers) {
        const offer = await session.createOffer('sendrecv');
        const answer = await page.evaluate((o) => window.probe.answer(o), offer);
        console.log("Chromium's answer to our offer:\n" + answer.trim().split('\r\n').map((l) => '  ' + l).join('\n'));
        await session.setRemoteAnswer(answer);
      } else {
        const offer = await page.evaluate(() => window.probe.offer());
        const answer = await session.acceptOffer(offer, 'sendrecv');
        console.log('our answer to Chromium:\n' + answer.trim().split('\r\n').map((l) => '  ' + l).join('\n'));
        await page.evaluate((a) => window.probe.accept(a), answer);
      }
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      while (!events.includes('connection:connected') && performance.now() - start < 10_000) await sleep(20);
      console.log(`lite transport events (${Math.round(performance.now() - t0)} ms from start): ${events.join(' ')}`);
      await sleep(MEDIA_SECONDS * 1000);
      await page.evaluate(() => window.probe.dtmf('5*'));
      await session.sendDtmf('1#', 100, 70, () => undefined);
      await sleep(300);
      const cpu = process.cpuUsage(cpu0);
      const chrome = await page.evaluate(() => window.probe.stats());
      const sample = session.sample();
      console.log('Chromium getStats:', JSON.stringify(chrome, null, 1));
      console.log('lite sample():', JSON.stringify(sample, null, 1));
      console.log(`lite onDtmf from Chromium's insertDTMF('5*'): ${JSON.stringify(dtmf)}`);
      console.log(`probe process CPU over the media window: ${((cpu.user + cpu.system) / 1000 / (performance.now() - start)).toFixed(4)} cores (one lite leg + puppeteer)`);
      const flowed =
        chrome.inbound?.packetsReceived > 0 &&
        chrome.inbound?.totalSamplesReceived > 0 &&
        sample.audioIn?.packetsReceived > 0 &&
        sample.audioIn?.knownFrames === 0 &&
        dtmf.join('') === '5*';
      console.log(flowed ? 'RESULT: media both ways, Chromium decodes our audio, our DTMF parser hears Chromium' : 'RESULT: FAILED');
      ok &&= flowed;
      session.close();
      await page.evaluate(() => window.probe.close());
    }
  }
} finally {
  await browser.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
  if (browserPid) {
    try {
      process.kill(browserPid, 0);
      process.kill(browserPid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
}
process.exitCode = ok ? 0 : 1;
