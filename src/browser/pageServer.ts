import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentBundle } from '../generated/agentBundle.js';
import { InfraError } from '../errors.js';

const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>callwright agent</title></head>
<body><script src="/agent.js"></script></body></html>`;

/**
 * Serves the agent page from http://127.0.0.1: getUserMedia needs a secure
 * context, which a loopback http origin is and a data: URL is not. The bundle
 * is served from memory (generated at build time).
 */
export class PageServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(host = '127.0.0.1'): Promise<PageServer> {
    const server = createServer((request, response) => {
      if (request.url === '/agent.js') {
        response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
        response.end(agentBundle);
      } else if (request.url === '/' || request.url?.startsWith('/?')) {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(PAGE_HTML);
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new InfraError(`cannot serve the agent page on ${host}: ${error.message}`)));
      server.listen(0, host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    return new PageServer(server, `http://${host}:${port}/`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
