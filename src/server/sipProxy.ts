/**
 * The registrar and stateful record-routing proxy (RFC 3261 sections 10 and 16)
 * behind the embedded server. It knows connections only through the small
 * SipConnection interface; index.ts owns the WebSocket listener.
 *
 * Routing:
 * - Out-of-dialog requests to an address-of-record in our domain go to the
 *   most recently registered contact whose connection is open (no forking:
 *   browser agents register one contact each, and sequential "newest wins"
 *   keeps CANCEL and dialog counting simple). The Request-URI is rewritten to
 *   that contact; INVITE/SUBSCRIBE/REFER/NOTIFY get our Record-Route.
 * - In-dialog requests (To tag present) arrive with our Route on top (loose
 *   routing, removed here) and go to the connection their Request-URI (the
 *   peer's Contact) was last seen on.
 * - Responses carry our Via on top; it is popped and the response goes to the
 *   connection the request came from. SIP.js drops responses with more than
 *   one Via or with a changed Via sent-by, so the client's Via is never touched.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ConnectionTable, SipConnection } from './connectionTable.js';
import { digestRealmOf, type DigestAuthenticator, type DigestVerdict } from './digestAuth.js';
import { DialogTracker, dialogKey } from './dialogTracker.js';
import {
  dialogKeyOfRequest,
  hopByHopRequest,
  maxForwardsOf,
  requestProblem,
  upstreamBranch,
} from './proxyRequests.js';
import { applyRegister, DEFAULT_REGISTER_LIMITS, type RegisterLimits } from './registerRequest.js';
import { Registrar } from './registrar.js';
import {
  appendHeader,
  cloneMessage,
  getHeader,
  getHeaders,
  parseSipMessage,
  prependHeader,
  removeFirstHeader,
  serializeSipMessage,
  setHeader,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from './sipMessage.js';
import { createResponse, LOCAL_TAG_PREFIX, type ResponseOptions } from './sipResponses.js';
import {
  contactKey,
  parseCSeq,
  parseNameAddr,
  parseSipUri,
  parseVia,
  tagOf,
  uriScheme,
  type SipUri,
} from './sipUri.js';
import { TransactionTable, upstreamKey, type ProxyTransaction } from './transactionTable.js';

export interface SipProxyOptions {
  /** Listening address and port: our Via sent-by and Record-Route point here. */
  readonly host: string;
  readonly port: number;
  readonly domain: string;
  readonly authenticator?: DigestAuthenticator;
  readonly maxConcurrentCalls?: number;
  readonly registerLimits?: RegisterLimits;
  /** Timer C: an INVITE with no final response for this long (since its last provisional) is answered 408. */
  readonly inviteTimeoutMs?: number;
  /** Timer F: the same for other methods. */
  readonly nonInviteTimeoutMs?: number;
  /** After a CANCEL, how long the callee gets to answer 487 before we answer it ourselves. */
  readonly cancelGraceMs?: number;
  /** How long a finished transaction is kept to absorb ACKs, retransmissions and 2xx repeats. */
  readonly lingerMs?: number;
  readonly now?: () => number;
}

export interface ProxyStats {
  registeredUsers: number;
  activeCalls: number;
  invites: number;
  rejectedOverCapacity: number;
}

/** Our branches start with the RFC 3261 magic cookie plus a marker, so our Via is easy to recognise. */
const OUR_BRANCH_PREFIX = 'z9hG4bKcw';
/** Requests that can create a dialog, so later requests must come through us. */
const DIALOG_CREATING_METHODS = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);
const ALLOWED_METHODS = 'INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE, REFER, NOTIFY, SUBSCRIBE, PRACK, REGISTER';

export class SipProxy {
  readonly #options: SipProxyOptions;
  readonly #connections: ConnectionTable;
  readonly #registrar: Registrar;
  readonly #transactions = new TransactionTable();
  readonly #dialogs = new DialogTracker();
  readonly #branchSecret = randomBytes(8).toString('hex');
  readonly #sentBy: string;
  readonly #recordRoute: string;
  readonly #localHosts: ReadonlySet<string>;
  #invites = 0;
  #rejectedOverCapacity = 0;
  #stopped = false;

  constructor(options: SipProxyOptions, connections: ConnectionTable) {
    this.#options = options;
    this.#connections = connections;
    this.#registrar = new Registrar(options.now);
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.#sentBy = `${host}:${options.port}`;
    this.#recordRoute = `<sip:${this.#sentBy};transport=ws;lr>`;
    this.#localHosts = new Set(
      [options.domain, host, 'localhost', '127.0.0.1', '[::1]'].map((name) => name.toLowerCase()),
    );
  }

  /** Handles one WebSocket frame that is not a keep-alive. Never throws for bad input. */
  receive(connection: SipConnection, raw: string): void {
    if (this.#stopped || this.#connections.get(connection.id) === undefined) return;
    const parsed = parseSipMessage(raw);
    const message = parsed.message;
    if (message === undefined) return;
    if (message.kind === 'response') {
      if (parsed.problem === undefined) this.#onResponse(connection, message);
      return;
    }
    const problem = parsed.problem ?? requestProblem(message);
    if (problem !== undefined) {
      if (message.method !== 'ACK') this.#reply(connection, createResponse(message, 400, { warning: problem }));
      return;
    }
    const scheme = uriScheme(message.requestUri);
    if (scheme !== 'sip' && scheme !== 'sips') {
      if (message.method !== 'ACK') this.#reply(connection, createResponse(message, 416));
      return;
    }
    this.#onRequest(connection, message);
  }

  /** Forgets everything tied to a connection; safe to call more than once. */
  connectionClosed(connectionId: number): void {
    if (this.#stopped || !this.#connections.remove(connectionId)) return;
    this.#registrar.unbindConnection(connectionId);
    this.#dialogs.removeConnection(connectionId);
    for (const transaction of this.#transactions.all()) {
      if (transaction.finalStatus !== undefined) continue;
      if (transaction.downstream?.connectionId === connectionId) {
        this.#answer(transaction, transaction.cancelled ? 487 : 480, { warning: 'the callee connection closed' });
      } else if (transaction.upstreamConnectionId === connectionId && transaction.method === 'INVITE') {
        // The caller vanished while the callee rings: stop the ringing.
        this.#cancelDownstream(transaction, undefined);
      }
    }
  }

  /** Closes connections of one user (registered over them, or calling from them), or all. */
  dropConnections(user?: string): void {
    const ids =
      user === undefined
        ? this.#connections.all().map((connection) => connection.id)
        : [...new Set([...this.#registrar.connectionsOf(user), ...this.#connections.connectionsOfUser(user)])];
    for (const id of ids) {
      const connection = this.#connections.get(id);
      // Forget first so stats are right as soon as this returns; the socket's close event is then a no-op.
      this.connectionClosed(id);
      connection?.terminate();
    }
  }

  stats(): ProxyStats {
    return {
      registeredUsers: this.#registrar.registeredUserCount(),
      activeCalls: this.#dialogs.size,
      invites: this.#invites,
      rejectedOverCapacity: this.#rejectedOverCapacity,
    };
  }

  stop(): void {
    this.#stopped = true;
    this.#transactions.clear();
    this.#dialogs.clear();
  }

  // ---- requests ----------------------------------------------------------

  #onRequest(connection: SipConnection, request: SipRequest): void {
    this.#learnContacts(connection.id, request);
    const key = upstreamKey(connection.id, upstreamBranch(request));
    if (request.method === 'ACK') return this.#onAck(request, key);
    if (request.method === 'CANCEL') return this.#onCancel(connection, request, key);

    const existing = this.#transactions.byUpstream(key);
    if (existing !== undefined) {
      // A retransmission: repeat our last answer, if any.
      if (existing.lastResponse !== undefined) this.#reply(connection, existing.lastResponse);
      return;
    }
    const transaction = this.#transactions.open(key, connection.id, request);
    this.#removeOwnRoutes(request);
    if (request.method === 'REGISTER') return this.#onRegister(transaction);
    if (tagOf(getHeader(request, 'To')) !== undefined) return this.#forwardInDialog(transaction);
    return this.#routeOutOfDialog(transaction);
  }

  #onRegister(transaction: ProxyTransaction): void {
    const request = transaction.request;
    const requestUri = parseSipUri(request.requestUri)!;
    const toUri = parseSipUri(parseNameAddr(getHeader(request, 'To')!)!.uri);
    if (!this.#isLocalHost(requestUri.host) || (toUri !== undefined && !this.#isLocalHost(toUri.host))) {
      const host = this.#isLocalHost(requestUri.host) ? toUri!.host : requestUri.host;
      return this.#answer(transaction, 404, { warning: `domain ${host} is not served here (use ${this.#options.domain})` });
    }
    const user = toUri?.user;
    if (user === undefined) return this.#answer(transaction, 400, { warning: 'To has no user part' });
    const authenticator = this.#options.authenticator;
    if (authenticator !== undefined) {
      const verdict = authenticator.verify('REGISTER', getHeaders(request, 'Authorization'));
      if (!this.#passesAuth(transaction, verdict, 401, user)) return;
    }
    this.#connections.noteUser(transaction.upstreamConnectionId, user);
    const limits = this.#options.registerLimits ?? DEFAULT_REGISTER_LIMITS;
    this.#respond(transaction, applyRegister(request, user, transaction.upstreamConnectionId, this.#registrar, limits));
  }

  #routeOutOfDialog(transaction: ProxyTransaction): void {
    const request = transaction.request;
    const requestUri = parseSipUri(request.requestUri)!;
    const recordRoute = DIALOG_CREATING_METHODS.has(request.method);
    if (!this.#isLocalHost(requestUri.host)) {
      // Not our domain, but perhaps a contact we have seen (a GRUU-like direct target).
      const direct = this.#connections.connectionForContact(contactKey(requestUri));
      if (direct !== undefined) return this.#forward(transaction, direct, { recordRoute });
      return this.#answer(transaction, 404, {
        warning: `domain ${requestUri.host} is not served here (use ${this.#options.domain})`,
      });
    }
    if (requestUri.user === undefined) return this.#answerForServer(transaction);

    const authenticator = this.#options.authenticator;
    if (authenticator !== undefined && (request.method === 'INVITE' || request.method === 'MESSAGE')) {
      const verdict = authenticator.verify(request.method, getHeaders(request, 'Proxy-Authorization'));
      if (!this.#passesAuth(transaction, verdict, 407, undefined)) return;
    }
    const fromUri = parseSipUri(parseNameAddr(getHeader(request, 'From')!)!.uri);
    if (fromUri?.user !== undefined && this.#isLocalHost(fromUri.host)) {
      this.#connections.noteUser(transaction.upstreamConnectionId, fromUri.user);
    }
    if (request.method === 'INVITE') {
      this.#invites++;
      const max = this.#options.maxConcurrentCalls;
      if (max !== undefined && this.#dialogs.size >= max) {
        this.#rejectedOverCapacity++;
        return this.#answer(transaction, 503, { warning: `${max} concurrent calls is the configured maximum` });
      }
    }
    const user = requestUri.user;
    const binding = this.#registrar.bindingsOf(user).find((candidate) => this.#connections.open(candidate.connectionId));
    if (binding === undefined) {
      const known = this.#registrar.hasEverRegistered(user) || authenticator?.hasUser(user) === true;
      return known
        ? this.#answer(transaction, 480, { warning: `${user} is not registered now` })
        : this.#answer(transaction, 404, { warning: `no user ${user} in ${this.#options.domain}` });
    }
    this.#forward(transaction, this.#connections.open(binding.connectionId)!, {
      requestUri: binding.contactUri,
      recordRoute,
    });
  }

  #forwardInDialog(transaction: ProxyTransaction): void {
    const request = transaction.request;
    if (request.method === 'BYE') this.#dialogs.remove(dialogKeyOfRequest(request));
    const target = this.#resolveInDialogTarget(request.requestUri);
    if (target === undefined) {
      return this.#answer(transaction, 480, { warning: `no open connection for ${request.requestUri}` });
    }
    this.#forward(transaction, target.connection, { requestUri: target.requestUri, recordRoute: false });
  }

  /** OPTIONS (a ping) or anything else addressed to the server itself rather than a user. */
  #answerForServer(transaction: ProxyTransaction): void {
    const allow = [{ name: 'Allow', value: ALLOWED_METHODS }];
    if (transaction.method === 'OPTIONS') {
      return this.#answer(transaction, 200, { headers: [...allow, { name: 'Accept', value: 'application/sdp' }] });
    }
    this.#answer(transaction, 405, { headers: allow, warning: 'the Request-URI names no user' });
  }

  /** Sends the proxied request downstream (RFC 3261 16.6) and opens the client side of the transaction. */
  #forward(
    transaction: ProxyTransaction,
    target: SipConnection,
    options: { readonly requestUri?: string; readonly recordRoute: boolean },
  ): void {
    const request = transaction.request;
    const maxForwards = maxForwardsOf(request);
    if (maxForwards <= 0) return this.#answer(transaction, 483);
    const forwarded = cloneMessage(request);
    if (options.requestUri !== undefined) forwarded.requestUri = options.requestUri;
    setHeader(forwarded, 'Max-Forwards', String(maxForwards - 1));
    if (options.recordRoute) prependHeader(forwarded, 'Record-Route', this.#recordRoute);
    this.#removeOwnCredentials(forwarded);
    const branch = this.#branchFor(transaction.key);
    prependHeader(forwarded, 'Via', `SIP/2.0/WS ${this.#sentBy};branch=${branch}`);
    this.#transactions.setDownstream(transaction, { connectionId: target.id, branch, request: forwarded });

    if (transaction.method === 'INVITE') this.#respond(transaction, createResponse(request, 100));
    if (!this.#send(target, forwarded)) {
      return this.#answer(transaction, 480, { warning: 'the callee connection closed' });
    }
    this.#armTimeout(transaction);
  }

  #onAck(ack: SipRequest, key: string): void {
    const transaction = this.#transactions.byUpstream(key);
    // ACK of a non-2xx final response is hop-by-hop: we already acknowledged downstream.
    if (transaction?.method === 'INVITE' && (transaction.finalStatus ?? 0) >= 300) return;
    if (tagOf(getHeader(ack, 'To'))?.startsWith(LOCAL_TAG_PREFIX)) return;
    this.#removeOwnRoutes(ack);
    const target = this.#resolveInDialogTarget(ack.requestUri);
    const maxForwards = maxForwardsOf(ack);
    if (target === undefined || maxForwards <= 0) return;
    const forwarded = cloneMessage(ack);
    forwarded.requestUri = target.requestUri;
    setHeader(forwarded, 'Max-Forwards', String(maxForwards - 1));
    this.#removeOwnCredentials(forwarded);
    prependHeader(forwarded, 'Via', `SIP/2.0/WS ${this.#sentBy};branch=${this.#branchFor(key + '|ACK')}`);
    this.#send(target.connection, forwarded);
  }

  #onCancel(connection: SipConnection, cancel: SipRequest, key: string): void {
    const transaction = this.#transactions.byUpstream(key);
    if (transaction === undefined || transaction.method !== 'INVITE') {
      return this.#reply(connection, createResponse(cancel, 481));
    }
    this.#reply(connection, createResponse(cancel, 200));
    if (transaction.finalStatus === undefined) this.#cancelDownstream(transaction, cancel);
  }

  /** RFC 3261 16.10: CANCEL the forwarded INVITE; the callee answers it 487, which we pass up. */
  #cancelDownstream(transaction: ProxyTransaction, upstreamCancel: SipRequest | undefined): void {
    if (transaction.cancelled) return;
    transaction.cancelled = true;
    const leg = transaction.downstream;
    const target = this.#connections.open(leg?.connectionId);
    if (leg === undefined || target === undefined) return this.#answer(transaction, 487);
    const cancel = hopByHopRequest('CANCEL', leg.request, getHeader(leg.request, 'To')!);
    const reason = upstreamCancel === undefined ? undefined : getHeader(upstreamCancel, 'Reason');
    if (reason !== undefined) appendHeader(cancel, 'Reason', reason);
    this.#send(target, cancel);
    this.#transactions.arm(transaction, this.#options.cancelGraceMs ?? 5_000, () => {
      if (transaction.finalStatus === undefined) this.#answer(transaction, 487);
      else this.#transactions.delete(transaction);
    });
  }

  // ---- responses ---------------------------------------------------------

  #onResponse(connection: SipConnection, response: SipResponse): void {
    const via = parseVia(getHeader(response, 'Via') ?? '');
    const cseq = parseCSeq(getHeader(response, 'CSeq'));
    if (via?.branch === undefined || !via.branch.startsWith(OUR_BRANCH_PREFIX) || cseq === undefined) return;
    // Responses to our own CANCEL and 100 Trying are hop-by-hop: nothing goes upstream.
    if (cseq.method === 'CANCEL' || response.statusCode === 100) return;
    const transaction = this.#transactions.byDownstream(via.branch, cseq.method);
    if (transaction === undefined) return;

    const status = response.statusCode;
    if (status < 300) this.#learnContacts(connection.id, response);
    removeFirstHeader(response, 'Via');
    if (transaction.method === 'INVITE') {
      if (status >= 300) this.#acknowledgeDownstream(transaction, response);
      else if (status >= 200) this.#countDialog(transaction, response);
      else if (transaction.finalStatus === undefined && !transaction.cancelled) this.#armTimeout(transaction);
    }
    if (transaction.finalStatus !== undefined) {
      // Already answered upstream: only a 2xx to INVITE still goes up (RFC 3261 16.7 step 5).
      if (transaction.method === 'INVITE' && status >= 200 && status < 300) {
        this.#reply(this.#connections.open(transaction.upstreamConnectionId), response);
      }
      return;
    }
    this.#respond(transaction, response);
  }

  /** RFC 3261 17.1.1.3: the ACK for a non-2xx final response, sent by us as the client transaction. */
  #acknowledgeDownstream(transaction: ProxyTransaction, response: SipResponse): void {
    const leg = transaction.downstream;
    if (leg === undefined) return;
    const ack = hopByHopRequest('ACK', leg.request, getHeader(response, 'To') ?? getHeader(leg.request, 'To')!);
    const target = this.#connections.open(leg.connectionId);
    if (target !== undefined) this.#send(target, ack);
  }

  #countDialog(transaction: ProxyTransaction, response: SipResponse): void {
    const request = transaction.request;
    if (tagOf(getHeader(request, 'To')) !== undefined) return; // a re-INVITE: the call is already counted
    const callerTag = tagOf(getHeader(request, 'From'));
    const calleeTag = tagOf(getHeader(response, 'To'));
    const caller = this.#connections.open(transaction.upstreamConnectionId);
    const callee = this.#connections.open(transaction.downstream?.connectionId);
    if (callerTag === undefined || calleeTag === undefined || caller === undefined || callee === undefined) return;
    this.#dialogs.add(dialogKey(getHeader(request, 'Call-ID')!, callerTag, calleeTag), caller.id, callee.id);
  }

  // ---- helpers -----------------------------------------------------------

  /** Sends a response upstream and records it on the transaction. */
  #respond(transaction: ProxyTransaction, response: SipResponse): void {
    transaction.lastResponse = response;
    if (response.statusCode >= 200) {
      transaction.finalStatus = response.statusCode;
      this.#transactions.retire(transaction, this.#options.lingerMs ?? 32_000);
    }
    this.#reply(this.#connections.open(transaction.upstreamConnectionId), response);
  }

  #answer(transaction: ProxyTransaction, statusCode: number, options?: ResponseOptions): void {
    this.#respond(transaction, createResponse(transaction.request, statusCode, options));
  }

  #passesAuth(
    transaction: ProxyTransaction,
    verdict: DigestVerdict,
    challengeStatus: 401 | 407,
    requiredUser: string | undefined,
  ): boolean {
    const authenticator = this.#options.authenticator!;
    const challengeHeader = challengeStatus === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    switch (verdict.kind) {
      case 'ok':
        if (requiredUser === undefined || verdict.username === requiredUser) return true;
        this.#answer(transaction, 403, { warning: `credentials of ${verdict.username} cannot register ${requiredUser}` });
        return false;
      case 'missing':
      case 'stale':
        this.#answer(transaction, challengeStatus, {
          headers: [{ name: challengeHeader, value: authenticator.challenge(verdict.kind === 'stale') }],
        });
        return false;
      case 'unknownUser':
        this.#answer(transaction, 403, { warning: `unknown user ${verdict.username}` });
        return false;
      case 'badCredentials':
        this.#answer(transaction, 403, { warning: `wrong password for ${verdict.username}` });
        return false;
      case 'malformed':
        this.#answer(transaction, 400, { warning: verdict.problem });
        return false;
    }
  }

  #armTimeout(transaction: ProxyTransaction): void {
    const invite = transaction.method === 'INVITE';
    const delayMs = invite ? (this.#options.inviteTimeoutMs ?? 180_000) : (this.#options.nonInviteTimeoutMs ?? 32_000);
    this.#transactions.arm(transaction, delayMs, () => {
      if (transaction.finalStatus !== undefined) return;
      if (invite) {
        this.#cancelDownstream(transaction, undefined);
        if (transaction.finalStatus !== undefined) return;
      }
      this.#answer(transaction, 408, { warning: 'no final response from the callee' });
    });
  }

  #resolveInDialogTarget(requestUriText: string): { connection: SipConnection; requestUri: string } | undefined {
    const requestUri = parseSipUri(requestUriText);
    if (requestUri === undefined) return undefined;
    const direct = this.#connections.connectionForContact(contactKey(requestUri));
    if (direct !== undefined) return { connection: direct, requestUri: requestUriText };
    // An agent that sent its address-of-record as remote target: fall back to the location service.
    if (requestUri.user === undefined || !this.#isLocalHost(requestUri.host)) return undefined;
    for (const binding of this.#registrar.bindingsOf(requestUri.user)) {
      const connection = this.#connections.open(binding.connectionId);
      if (connection !== undefined) return { connection, requestUri: binding.contactUri };
    }
    return undefined;
  }

  #learnContacts(connectionId: number, message: SipMessage): void {
    if (message.kind === 'response' && message.statusCode >= 300) return; // 3xx contacts are elsewhere
    for (const value of getHeaders(message, 'Contact')) {
      if (value === '*') continue;
      const nameAddr = parseNameAddr(value);
      const uri = nameAddr === undefined ? undefined : parseSipUri(nameAddr.uri);
      // Every anonymous SIP.js agent shares this contact: it identifies nobody.
      if (uri !== undefined && uri.host !== 'anonymous.invalid') {
        this.#connections.learnContact(contactKey(uri), connectionId);
      }
    }
  }

  #removeOwnRoutes(request: SipRequest): void {
    for (;;) {
      const route = getHeader(request, 'Route');
      if (route === undefined || !this.#isOwnUri(parseSipUri(parseNameAddr(route)?.uri ?? ''))) return;
      removeFirstHeader(request, 'Route');
    }
  }

  #isOwnUri(uri: SipUri | undefined): boolean {
    if (uri === undefined || uri.user !== undefined || !this.#isLocalHost(uri.host)) return false;
    return uri.port === undefined || uri.port === this.#options.port;
  }

  #isLocalHost(host: string): boolean {
    return this.#localHosts.has(host.toLowerCase());
  }

  /** Credentials for our realm were for us; the callee must not see them. */
  #removeOwnCredentials(request: SipRequest): void {
    const realm = this.#options.authenticator?.realm;
    if (realm === undefined) return;
    request.headers = request.headers.filter(
      (header) => header.name !== 'Proxy-Authorization' || digestRealmOf(header.value) !== realm,
    );
  }

  /** Deterministic per upstream transaction, so a retransmission, its CANCEL and its ACK share it. */
  #branchFor(key: string): string {
    return OUR_BRANCH_PREFIX + createHash('sha1').update(`${this.#branchSecret}|${key}`).digest('hex').slice(0, 20);
  }

  #send(connection: SipConnection, message: SipMessage): boolean {
    return connection.send(serializeSipMessage(message));
  }

  #reply(connection: SipConnection | undefined, response: SipResponse): void {
    if (connection !== undefined) this.#send(connection, response);
  }
}
