import type { Registry } from 'prom-client';
import { withoutUrlCredentials } from '../common/redact.js';

export interface PushOptions {
  /** The Pushgateway's base URL, e.g. http://pushgateway:9091 (user:password@ becomes basic auth). */
  url: string;
  job: string;
  /** Extra grouping labels: metrics pushed with other values do not replace these. */
  grouping?: Readonly<Record<string, string>>;
  timeoutMs?: number;
  /** Aborting it abandons the push (the run is being torn down); it then fails as kind `abandoned`. */
  signal?: AbortSignal;
}

/**
 * A failed push says what happened (`message`, for people) and what kind of
 * failure it was (`kind`: `status 400`, `timeout`, `ECONNREFUSED`...), so a
 * caller pushing every few seconds can tell each kind once.
 */
export type PushResult = { ok: true } | { ok: false; message: string; kind: string };

/**
 * Replaces this job's (and grouping's) metrics on a Pushgateway with the
 * registry's current values: a plain HTTP PUT of the exposition text. A push
 * that fails comes back as a message, never a throw: the run's results are
 * on disk already and must not be lost over a metrics push.
 */
export async function pushToGateway(registry: Registry, options: PushOptions): Promise<PushResult> {
  const { timeoutMs = 5000 } = options;
  const shownUrl = withoutUrlCredentials(options.url);
  try {
    const { target, authorization } = pushTarget(options);
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetch(target, {
      method: 'PUT',
      headers: { 'content-type': registry.contentType, ...(authorization ? { authorization } : {}) },
      body: await registry.metrics(),
      signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
    });
    if (response.ok) return { ok: true };
    const body = (await response.text().catch(() => '')).trim().slice(0, 200);
    return { ok: false, kind: `status ${response.status}`, message: `Pushgateway ${shownUrl} answered ${response.status}${body ? `: ${body}` : ''}` };
  } catch (error) {
    const failure = options.signal?.aborted
      ? { kind: 'abandoned', reason: 'abandoned as the run ended' }
      : error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
        ? { kind: 'timeout', reason: `no answer within ${timeoutMs} ms` }
        : describeFetchError(error);
    return { ok: false, kind: failure.kind, message: `could not push metrics to ${shownUrl}: ${failure.reason}` };
  }
}

/** `<url>/metrics/job/<job>/<label>/<value>...`, the Pushgateway's path format. */
export function pushTarget(options: Pick<PushOptions, 'url' | 'job' | 'grouping'>): {
  target: string;
  authorization?: string;
} {
  const base = new URL(options.url);
  let authorization: string | undefined;
  if (base.username !== '' || base.password !== '') {
    // fetch refuses URLs with credentials; send them as basic auth instead.
    const credentials = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
    authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    base.username = '';
    base.password = '';
  }
  const segments = [pathSegment('job', options.job)];
  for (const [label, value] of Object.entries(options.grouping ?? {})) segments.push(pathSegment(label, value));
  const basePath = base.pathname.replace(/\/+$/, '');
  base.pathname = `${basePath}/metrics/${segments.join('/')}`;
  return { target: base.toString(), ...(authorization ? { authorization } : {}) };
}

/** A value with a slash, or an empty one, cannot be a path segment: the Pushgateway takes those base64url-encoded. */
function pathSegment(label: string, value: string): string {
  if (value === '' || value.includes('/')) return `${label}@base64/${Buffer.from(value).toString('base64url') || '='}`;
  return `${label}/${encodeURIComponent(value)}`;
}

function describeFetchError(error: unknown): { kind: string; reason: string } {
  if (!(error instanceof Error)) return { kind: String(error), reason: String(error) };
  // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND...).
  const cause = (error as { cause?: unknown }).cause;
  if (!(cause instanceof Error)) return { kind: error.message, reason: error.message };
  const code = (cause as { code?: unknown }).code;
  return { kind: typeof code === 'string' ? code : cause.message, reason: `${error.message} (${cause.message})` };
}
