/**
 * Time-limited TURN credentials, the "TURN REST API" scheme coturn
 * (use-auth-secret + static-auth-secret) and most TURN services use: the
 * server and its clients share a secret; a client's username is
 * `<expiry as unix seconds>:<user>` and its password the base64 HMAC-SHA1
 * of that username under the secret. The server recomputes it and refuses
 * it once the expiry has passed. Nothing is sent anywhere to make one.
 */
import { createHmac } from 'node:crypto';

export interface TurnCredential {
  username: string;
  credential: string;
}

/** A username and credential valid for `ttlSeconds` from `nowMs` (whole seconds, rounded down). */
export function turnRestCredential(p: { secret: string; user: string; ttlSeconds: number; nowMs: number }): TurnCredential {
  const expiresAt = Math.floor(p.nowMs / 1000) + Math.floor(p.ttlSeconds);
  const username = `${expiresAt}:${p.user}`;
  return { username, credential: createHmac('sha1', p.secret).update(username).digest('base64') };
}
