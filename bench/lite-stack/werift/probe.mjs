// API-fit probe: answer an rtpengine-style offer (no BUNDLE, no mid, several codecs) with werift.
import { createRequire } from 'node:module';
import fs from 'node:fs';
const require = createRequire(import.meta.url);
const { RTCPeerConnection, RTCRtpCodecParameters } = require('werift');
const { Connection } = require('./node_modules/werift/lib/ice/src/ice.js');
const g = Connection.prototype.getCandidatePromises;
Connection.prototype.getCandidatePromises = function (...a) { this.stunServer = undefined; return g.apply(this, a); };
const pc = new RTCPeerConnection({ iceServers: [], iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'],
  codecs: { audio: [
    new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: 101 }),
  ] } });
try {
  await pc.setRemoteDescription({ type: 'offer', sdp: fs.readFileSync(process.env.OFFER || new URL('../probe-sdp/rtpengine-offer.sdp', import.meta.url), 'utf8') });
  const t = pc.getTransceivers()[0]; t.setDirection('sendrecv');
  await pc.setLocalDescription(await pc.createAnswer());
  await new Promise((r) => setTimeout(r, 500));
  console.log('--- answer to rtpengine-style offer ---\n' + pc.localDescription.sdp);
} catch (e) { console.log('rtpengine offer rejected:', e, e?.stack); }
// Chrome-like offer with the codec list of Chrome (opus, PCMU, PCMA, telephone-event) and header extensions
const o = new RTCPeerConnection({ iceServers: [], iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'],
  codecs: { audio: [
    new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: 126 }),
  ] } });
o.addTransceiver('audio', { direction: 'sendrecv' });
await o.setLocalDescription(await o.createOffer());
await new Promise((r) => setTimeout(r, 300));
console.log('--- werift offer with Chrome codec list ---\n' + o.localDescription.sdp);
await Promise.race([Promise.all([pc.close(), o.close()]), new Promise((r) => setTimeout(r, 2000))]);
process.exit(0);
