/**
 * Which media sections of a local description still lack a usable ICE
 * candidate. Pure string work (runs in the page and in unit tests).
 *
 * A description may leave as soon as every section that will carry media can
 * be reached: waiting for gathering to complete costs about 100 ms per call
 * with nothing to gain on a LAN or loopback, while a fixed short cut-off lets a
 * busy renderer send descriptions with no candidate at all (no media, and the
 * far end blamed).
 */

export interface CandidateCoverage {
  /** mids (or m-line indexes when a section has no mid) of media sections with no usable candidate. */
  missing: string[];
  candidates: number;
  /** Candidate types seen, e.g. ['host', 'srflx']. */
  types: string[];
}

/**
 * Which candidate types count as usable. With no ICE servers a host candidate
 * is all there will ever be; with STUN, wait for a server-reflexive one; with
 * TURN, for a relay one (the reason TURN was configured). Gathering that ends
 * without them still leaves with whatever it found.
 */
export function usableCandidateTypes(iceServers: readonly { urls: string | readonly string[] }[], relayOnly: boolean): string[] {
  const urls = iceServers.flatMap((server) => (typeof server.urls === 'string' ? [server.urls] : [...server.urls]));
  if (relayOnly || urls.some((url) => /^turns?:/i.test(url))) return ['relay'];
  if (urls.some((url) => /^stun:/i.test(url))) return ['srflx', 'relay'];
  return ['host', 'srflx', 'prflx', 'relay'];
}

export function candidateCoverage(sdp: string, usableTypes: readonly string[]): CandidateCoverage {
  const lines = sdp.split(/\r\n|\n|\r/);
  const sections: { id: string; rejected: boolean; usable: boolean }[] = [];
  const bundles: string[][] = [];
  const types = new Set<string>();
  let candidates = 0;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      // Port 0: a rejected (or bundle-only) section, reached through its bundle if at all.
      const port = line.split(' ')[1];
      sections.push({ id: String(sections.length), rejected: port === '0', usable: false });
      continue;
    }
    const section = sections.at(-1);
    if (line.startsWith('a=group:BUNDLE ')) bundles.push(line.slice('a=group:BUNDLE '.length).trim().split(/\s+/));
    if (!section) continue;
    if (line.startsWith('a=mid:')) section.id = line.slice('a=mid:'.length).trim();
    else if (line.startsWith('a=candidate:')) {
      candidates++;
      const type = / typ (\S+)/.exec(line)?.[1] ?? 'unknown';
      types.add(type);
      if (usableTypes.includes(type)) section.usable = true;
    }
  }
  const usableIds = new Set(sections.filter((s) => s.usable).map((s) => s.id));
  // Sections of one BUNDLE group share one transport: one usable candidate covers them all.
  for (const group of bundles) if (group.some((id) => usableIds.has(id))) for (const id of group) usableIds.add(id);
  const missing = sections.filter((s) => !s.rejected && !usableIds.has(s.id)).map((s) => s.id);
  return { missing, candidates, types: [...types].sort() };
}
