/**
 * report.html's video section: only when some call received video. One row of
 * figures over those calls, then the calls whose video froze (calls.csv has
 * every call's video columns).
 */
import type { CallResult } from '../../results.js';
import { formatValue } from '../../common/format.js';
import { countBy, distribution, measuredValues } from '../aggregate.js';
import { escapeXmlText as text } from '../xml.js';

/** Frozen calls listed one by one. */
const LISTED_FROZEN_CALLS = 50;

const hasVideo = (call: CallResult): boolean => call.videoFpsIn !== undefined || call.videoResolutionIn !== undefined || call.videoFreezes !== undefined;

export function videoSection(calls: readonly CallResult[]): string {
  const withVideo = calls.filter(hasVideo);
  if (withVideo.length === 0) return '';
  const fps = distribution(measuredValues(withVideo, (call) => call.videoFpsIn));
  const kbps = distribution(measuredValues(withVideo, (call) => call.videoKbpsIn));
  const freezeSeconds = measuredValues(withVideo, (call) => call.videoFreezeSeconds);
  const frozen = withVideo.filter((call) => (call.videoFreezes ?? 0) > 0);
  const resolutions = Object.entries(countBy(withVideo, (call) => call.videoResolutionIn))
    .sort((a, b) => b[1] - a[1])
    .map(([resolution, count]) => `${resolution} (${count})`)
    .join(', ');
  const number = (value: number | null | undefined, digits: number) => (value === null || value === undefined ? '-' : value.toFixed(digits));
  const summary =
    `<tr><td class="num">${withVideo.length}</td><td class="num">${number(fps.avg, 1)} / ${number(fps.min, 1)}</td><td class="num">${number(kbps.avg, 0)} / ${number(kbps.min, 0)}</td>` +
    `<td>${text(resolutions || '-')}</td><td class="num">${frozen.length}</td><td class="num">${text(formatValue(freezeSeconds.length ? Math.max(...freezeSeconds) : null, 'seconds'))} / ${text(formatValue(freezeSeconds.reduce((a, b) => a + b, 0), 'seconds'))}</td></tr>`;
  const rows = frozen
    .slice(0, LISTED_FROZEN_CALLS)
    .map(
      (call) =>
        `<tr><td><code>${text(call.callId)}</code></td><td>${text(new Date(call.startedAtMs).toISOString().slice(11, 23))}</td><td class="num">${call.videoFreezes ?? ''}</td><td class="num">${text(formatValue(call.videoFreezeSeconds, 'seconds'))}</td>` +
        `<td class="num">${call.videoFirstFreezeAtSeconds === undefined ? '' : `${call.videoFirstFreezeAtSeconds.toFixed(1)} s`}</td><td class="num">${number(call.videoFpsIn, 1)}</td><td class="num">${number(call.videoKbpsIn, 0)}</td><td>${text(call.videoResolutionIn ?? '')}</td></tr>`,
    );
  return [
    '<section><h2>Video <span class="muted">(received, worse leg of each call)</span></h2>',
    '<table class="video"><thead><tr><th>calls with video</th><th>fps avg / min</th><th>kbps avg / min</th><th>resolutions (last)</th><th>calls with freezes</th><th>frozen max / total</th></tr></thead><tbody>',
    summary,
    '</tbody></table>',
    ...(frozen.length === 0
      ? []
      : [
          `<h3>Calls whose video froze <span class="muted">(${frozen.length}${frozen.length > LISTED_FROZEN_CALLS ? `, first ${LISTED_FROZEN_CALLS} shown; all in calls.csv` : ''})</span></h3>`,
          '<table class="calls"><thead><tr><th>call</th><th>started (UTC)</th><th>freezes</th><th>frozen</th><th>first freeze</th><th>fps</th><th>kbps</th><th>resolution</th></tr></thead><tbody>',
          ...rows,
          '</tbody></table>',
        ]),
    '</section>',
  ].join('\n');
}
