import { describe, expect, it } from 'vitest';
import { call } from '../../../test/unit/syntheticRun.js';
import { videoSection } from './videoSection.js';

describe('report.html video section', () => {
  it('is absent when no call received video', () => {
    expect(videoSection([call({ iteration: 1 }), call({ iteration: 2 })])).toBe('');
  });

  it('sums up the calls with video and lists those whose video froze', () => {
    const html = videoSection([
      call({ iteration: 1, videoFpsIn: 15, videoKbpsIn: 250, videoResolutionIn: '320x240', videoFreezes: 0, videoFreezeSeconds: 0 }),
      call({ iteration: 2, videoFpsIn: 11, videoKbpsIn: 180, videoResolutionIn: '320x240', videoFreezes: 1, videoFreezeSeconds: 2.2, videoFirstFreezeAtSeconds: 3.4 }),
      call({ iteration: 3 }),
    ]);
    expect(html).toContain('<h2>Video');
    // 2 calls with video, fps avg 13.0 / min 11.0, kbps 215 / 180, one resolution, 1 frozen call, 2.2 s max and total.
    expect(html).toContain('<td class="num">2</td><td class="num">13.0 / 11.0</td><td class="num">215 / 180</td><td>320x240 (2)</td><td class="num">1</td><td class="num">2.2s / 2.2s</td>');
    expect(html).toContain('<code>2.main</code>');
    expect(html).not.toContain('<code>1.main</code>');
    expect(html).toContain('3.4 s');
  });
});
