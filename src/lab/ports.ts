import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export interface PortClaim {
  port: number;
  protocol: 'udp' | 'tcp';
  owner: string;
}

/** Claims that cannot be bound on 127.0.0.1 right now (someone else holds the port). */
export async function busyPorts(claims: readonly PortClaim[]): Promise<PortClaim[]> {
  const results = await Promise.all(claims.map(async (claim) => ((await canBind(claim.port, claim.protocol)) ? undefined : claim)));
  return results.filter((claim): claim is PortClaim => claim !== undefined);
}

export function canBind(port: number, protocol: 'udp' | 'tcp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    } else {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    }
  });
}

/** A port that is free for both UDP and TCP on 127.0.0.1 at the time of asking (for a SIPp client). */
export async function freeUdpTcpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        const bound = socket.address().port;
        socket.close(() => resolve(bound));
      });
    });
    if (await canBind(port, 'tcp')) return port;
  }
  throw new Error('no free UDP+TCP port on 127.0.0.1');
}
