/**
 * Test support for the embedded server's tests (not used at run time): a raw
 * `ws` client that speaks SIP text shaped the way SIP.js 0.21 writes it
 * (".invalid" Via host without port, ";transport=ws" contact, z9hG4bK
 * branches), so tests exercise the real server over real sockets.
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { computeDigestResponse, parseDigestParams } from './digestAuth.js';
import {
  getHeader,
  getHeaders,
  parseSipMessage,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from './sipMessage.js';
import { tagOf } from './sipUri.js';

const token = (bytes = 5): string => randomBytes(bytes).toString('hex');

type Waiter = { accepts: (message: SipMessage) => boolean; resolve: (message: SipMessage) => void };

export class RawSipClient {
  readonly #socket: WebSocket;
  readonly #unclaimed: SipMessage[] = [];
  readonly #waiters: Waiter[] = [];
  /** Every text frame received, keep-alives included. */
  readonly frames: string[] = [];
  readonly closed: Promise<number>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
    socket.on('message', (data) => {
      const raw = data.toString();
      this.frames.push(raw);
      const message = parseSipMessage(raw).message;
      if (message === undefined) return;
      const waiter = this.#waiters.findIndex((candidate) => candidate.accepts(message));
      if (waiter === -1) this.#unclaimed.push(message);
      else this.#waiters.splice(waiter, 1)[0]!.resolve(message);
    });
  }

  static connect(wsUrl: string, protocols: readonly string[] = ['sip']): Promise<RawSipClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(wsUrl, [...protocols]);
      socket.once('open', () => resolve(new RawSipClient(socket)));
      socket.once('error', reject);
    });
  }

  get protocol(): string {
    return this.#socket.protocol;
  }

  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  sendRaw(raw: string): void {
    this.#socket.send(raw);
  }

  /** The first message (already received or still to come) that `accepts` matches. */
  next(accepts: (message: SipMessage) => boolean, timeoutMs = 2000, what = 'message'): Promise<SipMessage> {
    const index = this.#unclaimed.findIndex(accepts);
    if (index !== -1) return Promise.resolve(this.#unclaimed.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms; unclaimed: ${this.#unclaimed.map(summary).join(' | ')}`));
      }, timeoutMs);
      const waiter: Waiter = {
        accepts,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Messages nobody asked for yet: lets a test assert that nothing else arrived. */
  unclaimed(): readonly SipMessage[] {
    return this.#unclaimed;
  }

  close(): void {
    this.#socket.close();
  }
}

function summary(message: SipMessage): string {
  return message.kind === 'request'
    ? `${message.method} ${message.requestUri}`
    : `${message.statusCode} ${message.reasonPhrase} (${getHeader(message, 'CSeq')})`;
}

export interface RequestFields {
  readonly method: string;
  readonly requestUri: string;
  /** To header value; defaults to the Request-URI in angle brackets. */
  readonly to?: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly branch?: string;
  readonly fromTag?: string;
  readonly headers?: readonly string[];
  readonly body?: string;
  readonly contentType?: string;
  readonly maxForwards?: number;
  /** Leave Contact out (MESSAGE, BYE). */
  readonly noContact?: boolean;
}

export interface SentRequest {
  readonly raw: string;
  readonly branch: string;
  readonly via: string;
  readonly callId: string;
  readonly fromTag: string;
  readonly cseq: number;
}

/** A user agent shaped like SIP.js in a browser, driven by hand. */
export class TestAgent {
  readonly viaHost = `${token(6)}.invalid`;
  readonly contactUri: string;
  readonly aor: string;
  #cseq = 1;
  #client: RawSipClient;

  private constructor(
    client: RawSipClient,
    readonly user: string,
    readonly domain: string,
    readonly wsUrl: string,
  ) {
    this.#client = client;
    this.contactUri = `sip:${token(4)}@${this.viaHost};transport=ws`;
    this.aor = `sip:${user}@${domain}`;
  }

  static async connect(server: { wsUrl: string; domain: string }, user: string): Promise<TestAgent> {
    return new TestAgent(await RawSipClient.connect(server.wsUrl), user, server.domain, server.wsUrl);
  }

  get client(): RawSipClient {
    return this.#client;
  }

  /** A new WebSocket for the same agent (same Via host and Contact), as after a network fault. */
  async reconnect(): Promise<void> {
    this.#client = await RawSipClient.connect(this.wsUrl);
  }

  request(fields: RequestFields): SentRequest {
    const branch = fields.branch ?? `z9hG4bK${token(6)}`;
    const via = `SIP/2.0/WSS ${this.viaHost};branch=${branch}`;
    const callId = fields.callId ?? token(8);
    const fromTag = fields.fromTag ?? token(4);
    const body = fields.body ?? '';
    const cseq = fields.cseq ?? this.#cseq++;
    const lines = [
      `${fields.method} ${fields.requestUri} SIP/2.0`,
      `Via: ${via}`,
      `Max-Forwards: ${fields.maxForwards ?? 70}`,
      `To: ${fields.to ?? `<${fields.requestUri}>`}`,
      `From: <${this.aor}>;tag=${fromTag}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${fields.method}`,
      ...(fields.noContact === true ? [] : [`Contact: <${this.contactUri}>`]),
      ...(fields.headers ?? []),
      ...(fields.contentType === undefined ? [] : [`Content-Type: ${fields.contentType}`]),
      'Supported: outbound',
      'User-Agent: SIP.js/0.21.2',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    const raw = lines.join('\r\n');
    this.client.sendRaw(raw);
    return { raw, branch, via, callId, fromTag, cseq };
  }

  /** REGISTER, answering one digest challenge when a password is given. */
  async register(options: { expires?: number; password?: string; authUser?: string } = {}): Promise<SipResponse> {
    const callId = token(8);
    const registration = (headers: string[] = []): SentRequest =>
      this.request({
        method: 'REGISTER',
        requestUri: `sip:${this.domain}`,
        to: `<${this.aor}>`,
        callId,
        noContact: true,
        headers: [`Contact: <${this.contactUri}>;expires=${options.expires ?? 600}`, `Expires: ${options.expires ?? 600}`, ...headers],
      });
    const first = registration();
    const response = await this.nextResponse(first.branch);
    if (response.statusCode !== 401 || options.password === undefined) return response;
    const authorization = this.authorization(response, 'REGISTER', `sip:${this.domain}`, options.password, options.authUser);
    return this.nextResponse(registration([`Authorization: ${authorization}`]).branch);
  }

  /** A Digest Authorization value answering the challenge in a 401/407, as SIP.js computes it. */
  authorization(challengeResponse: SipResponse, method: string, uri: string, password: string, user = this.user): string {
    const challenge =
      getHeader(challengeResponse, 'WWW-Authenticate') ?? getHeader(challengeResponse, 'Proxy-Authenticate') ?? '';
    const params = parseDigestParams(challenge)!;
    const realm = params.get('realm')!;
    const nonce = params.get('nonce')!;
    const cnonce = token(6);
    const response = computeDigestResponse({ username: user, realm, password, method, uri, nonce, qop: 'auth', nc: '00000001', cnonce });
    return `Digest algorithm=MD5, username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", qop=auth, cnonce="${cnonce}", nc=00000001`;
  }

  /** The next response to the request sent with this top Via branch. */
  nextResponse(branch: string, timeoutMs?: number): Promise<SipResponse> {
    return this.client.next(
      (message) => message.kind === 'response' && getHeader(message, 'Via')?.includes(`branch=${branch}`) === true,
      timeoutMs,
      `response to branch ${branch}`,
    ) as Promise<SipResponse>;
  }

  nextRequest(method: string, timeoutMs?: number): Promise<SipRequest> {
    return this.client.next(
      (message) => message.kind === 'request' && message.method === method,
      timeoutMs,
      `${method} request`,
    ) as Promise<SipRequest>;
  }

  /**
   * Answers a request the way a UAS does: all Via, Record-Route (2xx/1xx to
   * INVITE), From, To with our tag, Call-ID, CSeq, and our Contact.
   */
  respond(
    request: SipRequest,
    statusCode: number,
    reason: string,
    options: { toTag?: string; body?: string; contentType?: string; contact?: boolean } = {},
  ): string {
    const to = getHeader(request, 'To')!;
    const toTag = tagOf(to) ?? options.toTag ?? token(4);
    const body = options.body ?? '';
    const lines = [
      `SIP/2.0 ${statusCode} ${reason}`,
      ...getHeaders(request, 'Via').map((via) => `Via: ${via}`),
      ...(statusCode < 300 ? getHeaders(request, 'Record-Route').map((route) => `Record-Route: ${route}`) : []),
      `From: ${getHeader(request, 'From')}`,
      `To: ${tagOf(to) === undefined && statusCode > 100 ? `${to};tag=${toTag}` : to}`,
      `Call-ID: ${getHeader(request, 'Call-ID')}`,
      `CSeq: ${getHeader(request, 'CSeq')}`,
      ...(options.contact === false ? [] : [`Contact: <${this.contactUri}>`]),
      ...(options.contentType === undefined ? [] : [`Content-Type: ${options.contentType}`]),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    const raw = lines.join('\r\n');
    this.client.sendRaw(raw);
    return toTag;
  }
}
