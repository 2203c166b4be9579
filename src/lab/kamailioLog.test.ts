import { describe, expect, it } from 'vitest';
import { kamailioSends } from './kamailioLog.js';

const log = [
  ' 9(5664) INFO: {1 ubkifmsf5dd203d18m1b} <script>: --> INVITE sip:echo@callwright.lab from 127.0.0.1:41932/ws len=2174',
  ' 9(5664) INFO: {1 ubkifmsf5dd203d18m1b} <script>: send INVITE to 127.0.0.1:17070 proto=udp len=1594',
  '11(20567) INFO: {1 1-20654@127.0.0.1} <script>: send INVITE to 10.250.7.2:5090 proto=TCP len=2334',
  ' 3(20559) INFO: {2 1-20645@127.0.0.1} <script>: <-- 404 Not Found (INVITE) from 10.250.7.2:5090/udp',
  '11(20567) INFO: {2 1-20654@127.0.0.1} <script>: send BYE to 10.250.7.2:5090 proto=tcp len=402',
].join('\n');

describe('kamailioSends', () => {
  it('reads the transport and size of each request Kamailio put on the wire, per Call-ID', () => {
    expect(kamailioSends(log)).toHaveLength(3);
    expect(kamailioSends(log, 'ubkifmsf5dd203d18m1b')).toEqual([
      { callId: 'ubkifmsf5dd203d18m1b', method: 'INVITE', host: '127.0.0.1', port: 17070, proto: 'udp', bytes: 1594 },
    ]);
    expect(kamailioSends(log, '1-20654@127.0.0.1').map((s) => `${s.method} ${s.proto} ${s.bytes}`)).toEqual(['INVITE tcp 2334', 'BYE tcp 402']);
    expect(kamailioSends(log, 'nope')).toEqual([]);
  });
});
