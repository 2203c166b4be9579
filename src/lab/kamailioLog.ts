/**
 * Reading what Kamailio did from its log. The generated config logs, in onsend_route, every
 * request as it goes on the wire: the transport actually used (udp_mtu may have turned UDP
 * into TCP) and the size. Each line carries the Call-ID in its prefix (log_prefix "{$mt $ci}"):
 *
 *    9(5664) INFO: {1 ubkifmsf5dd203d18m1b} <script>: send INVITE to 127.0.0.1:17070 proto=udp len=1594
 *
 * Retransmissions are not logged: tm sends them without running onsend_route.
 */

export interface KamailioSend {
  callId: string;
  method: string;
  /** Destination host and port. */
  host: string;
  port: number;
  proto: string;
  /** Bytes of the whole SIP message as sent. */
  bytes: number;
}

const SEND_LINE = /\{\d+ (\S+)\} <script>: send (\S+) to (\S+):(\d+) proto=(\w+) len=(\d+)/;

/** Every request Kamailio sent, in log order; `callId` keeps only that call's. */
export function kamailioSends(logText: string, callId?: string): KamailioSend[] {
  const sends: KamailioSend[] = [];
  for (const line of logText.split('\n')) {
    const match = SEND_LINE.exec(line);
    if (!match) continue;
    const [, id = '', method = '', host = '', port = '0', proto = '', bytes = '0'] = match;
    if (callId !== undefined && id !== callId) continue;
    sends.push({ callId: id, method, host, port: Number(port), proto: proto.toLowerCase(), bytes: Number(bytes) });
  }
  return sends;
}
