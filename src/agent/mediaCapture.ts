/**
 * One capture per page, a clone of its tracks per call. Chromium allows only
 * 16 concurrent audio captures per browser: a getUserMedia per call fails at
 * the 17th leg with NotReadableError.
 */
export class SharedCapture {
  private audio: Promise<MediaStreamTrack> | undefined;
  private video: Promise<MediaStreamTrack> | undefined;

  async streamFor(constraints: MediaStreamConstraints): Promise<MediaStream> {
    const tracks: MediaStreamTrack[] = [];
    if (constraints.audio) tracks.push((await this.audioTrack()).clone());
    if (constraints.video) tracks.push((await this.videoTrack()).clone());
    return new MediaStream(tracks);
  }

  private audioTrack(): Promise<MediaStreamTrack> {
    // Audio processing off: noise suppression erases test tones, comfort noise
    // starves PCMU/G722, and the processing costs CPU per leg.
    this.audio ??= capture({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    }).then((s) => s.getAudioTracks()[0]!);
    return this.audio;
  }

  private videoTrack(): Promise<MediaStreamTrack> {
    this.video ??= capture({ video: { width: 320, height: 240, frameRate: 15 } }).then((s) => s.getVideoTracks()[0]!);
    return this.video;
  }
}

async function capture(constraints: MediaStreamConstraints): Promise<MediaStream> {
  if (!navigator.mediaDevices) throw new Error('navigator.mediaDevices missing: the page is not a secure context');
  return navigator.mediaDevices.getUserMedia(constraints);
}
