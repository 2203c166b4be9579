/**
 * The direction an SDP gives a medium (RFC 3264 section 5.1): its first m= section's
 * a=sendrecv/sendonly/recvonly/inactive, else the session-level one, else sendrecv.
 * Pure string work: read by the page and by Node.
 */
export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** undefined when the SDP has no m= line of that kind, or only a refused one (port 0). */
export function mediaDirection(sdp: string, kind: 'audio' | 'video'): SdpDirection | undefined {
  let session: SdpDirection | undefined;
  let inSection: 'none' | 'wanted' | 'other' = 'none';
  let found = false;
  let sectionDirection: SdpDirection | undefined;
  for (const line of sdp.split(/\r\n|\r|\n/)) {
    if (line.startsWith('m=')) {
      if (found) break;
      const [media, port] = line.slice(2).split(' ');
      inSection = media === kind && port !== '0' ? 'wanted' : 'other';
      found = inSection === 'wanted';
      continue;
    }
    const direction = line.startsWith('a=') ? line.slice(2).trim() : '';
    if (!DIRECTIONS.includes(direction)) continue;
    if (inSection === 'none') session = direction as SdpDirection;
    else if (inSection === 'wanted') sectionDirection = direction as SdpDirection;
  }
  if (!found) return undefined;
  return sectionDirection ?? session ?? 'sendrecv';
}

/** True when an SDP from this end says it sends none of the medium: recvonly or inactive. */
export function sendsNo(sdp: string, kind: 'audio' | 'video'): boolean {
  const direction = mediaDirection(sdp, kind);
  return direction === 'recvonly' || direction === 'inactive';
}
