/**
 * Where user agents live: how many share a page, how many pages a browser
 * holds, how many browsers run. Chromium's limits decide the bounds
 * (../shared/LAB-NOTES.md): about 255 WebSockets per browser process (one per
 * SIP user agent), 16 concurrent audio captures per browser (one per page, as
 * pages share one capture among their calls), 500 RTCPeerConnections per page
 * over its lifetime (pages are recycled before that, see pageRecycler.ts).
 * Within them, fewer and fuller pages cost the least CPU: one page per user
 * agent cost about 3.3x the CPU and 2x the memory (PSS) per leg (bench/results.md).
 */

export const CHROMIUM_LIMITS = {
  webSocketsPerBrowser: 255,
  audioCapturesPerBrowser: 16,
  peerConnectionsPerPage: 500,
} as const;

export const PLACEMENT_DEFAULTS = {
  /** User agents per page when the scenario does not say. */
  agentsPerPage: 50,
  /** WebSockets planned per browser: headroom under 255 for reconnections. */
  webSocketsPerBrowser: 200,
} as const;

export interface Placement {
  agentsPerPage: number;
  pagesPerBrowser: number;
  /** Pages and browsers needed for `agents` user agents. */
  pages: number;
  browsers: number;
  /** Explicit settings that went past Chromium's limits and were lowered. */
  warnings: string[];
}

export function planPlacement(input: { agents: number; agentsPerPage?: number; pagesPerBrowser?: number }): Placement {
  const warnings: string[] = [];
  const agents = Math.max(1, input.agents);
  let agentsPerPage = input.agentsPerPage ?? Math.min(PLACEMENT_DEFAULTS.agentsPerPage, agents);
  if (agentsPerPage > PLACEMENT_DEFAULTS.webSocketsPerBrowser) {
    warnings.push(`agentsPerPage ${agentsPerPage} is above ${PLACEMENT_DEFAULTS.webSocketsPerBrowser} WebSockets per browser (Chromium allows about ${CHROMIUM_LIMITS.webSocketsPerBrowser}); using ${PLACEMENT_DEFAULTS.webSocketsPerBrowser}`);
    agentsPerPage = PLACEMENT_DEFAULTS.webSocketsPerBrowser;
  }
  const pagesNeeded = Math.ceil(agents / agentsPerPage);
  const byWebSockets = Math.max(1, Math.floor(PLACEMENT_DEFAULTS.webSocketsPerBrowser / agentsPerPage));
  const most = Math.min(CHROMIUM_LIMITS.audioCapturesPerBrowser, byWebSockets);
  let pagesPerBrowser: number;
  if (input.pagesPerBrowser === undefined) {
    // Spread the pages evenly over as few browsers as the limits allow.
    const browsers = Math.ceil(pagesNeeded / most);
    pagesPerBrowser = Math.max(1, Math.ceil(pagesNeeded / browsers));
  } else {
    pagesPerBrowser = input.pagesPerBrowser;
    if (pagesPerBrowser > CHROMIUM_LIMITS.audioCapturesPerBrowser) {
      warnings.push(`pagesPerBrowser ${pagesPerBrowser} is above Chromium's ${CHROMIUM_LIMITS.audioCapturesPerBrowser} audio captures per browser (one per page); using ${CHROMIUM_LIMITS.audioCapturesPerBrowser}`);
      pagesPerBrowser = CHROMIUM_LIMITS.audioCapturesPerBrowser;
    }
    if (pagesPerBrowser * agentsPerPage > CHROMIUM_LIMITS.webSocketsPerBrowser) {
      const lowered = Math.max(1, Math.floor(CHROMIUM_LIMITS.webSocketsPerBrowser / agentsPerPage));
      warnings.push(`${pagesPerBrowser} pages x ${agentsPerPage} agents is above Chromium's ~${CHROMIUM_LIMITS.webSocketsPerBrowser} WebSockets per browser; using ${lowered} pages per browser`);
      pagesPerBrowser = lowered;
    }
  }
  return { agentsPerPage, pagesPerBrowser, pages: pagesNeeded, browsers: Math.ceil(pagesNeeded / pagesPerBrowser), warnings };
}
