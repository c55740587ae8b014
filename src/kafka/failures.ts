import { AuthenticationError, AuthorizationError, messageOf, type OrdersError } from '../errors.js';

/** What a step touches, to name it when the broker refuses: "not authorized to WRITE topic orders". */
export interface Access {
  operation: 'CREATE' | 'READ' | 'WRITE' | 'DESCRIBE';
  resource: string;
}

// Kafka's error codes for a refused principal.
export const TOPIC_AUTHORIZATION_FAILED = 29;
export const GROUP_AUTHORIZATION_FAILED = 30;
const CLUSTER_AUTHORIZATION_FAILED = 31;
export const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53;
const AUTHORIZATION_CODES = new Set([TOPIC_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED]);

function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The errors inside an aggregate (createTopics reports one per topic), or the error itself. */
function partsOf(error: unknown): unknown[] {
  const parts = (error as { errors?: unknown } | null)?.errors;
  return Array.isArray(parts) && parts.length > 0 ? parts.flatMap(partsOf) : [error];
}

/**
 * The authorization failure inside `error`, named by the resource it was refused: a create-topics
 * error names its topic, a transactional id or group the access the step declared.
 */
export function authorizationFailure(error: unknown, accessOf: Access | ((code: number) => Access) | undefined): AuthorizationError | undefined {
  const refused = partsOf(error).find((part) => AUTHORIZATION_CODES.has(codeOf(part) ?? 0));
  if (refused === undefined) return undefined;
  const code = codeOf(refused) ?? 0;
  const access = typeof accessOf === 'function' ? accessOf(code) : accessOf;
  const topic = (refused as { topic?: unknown }).topic;
  const reason = messageOf(refused);
  if (typeof topic === 'string') return new AuthorizationError(`not authorized to ${access?.operation ?? 'use'} topic ${topic}: ${reason}`, error);
  if (code === CLUSTER_AUTHORIZATION_FAILED) return new AuthorizationError(`not authorized on the cluster (an idempotent producer needs WRITE on its topic): ${reason}`, error);
  if (access !== undefined) return new AuthorizationError(`not authorized to ${access.operation} ${access.resource}: ${reason}`, error);
  return new AuthorizationError(`not authorized: ${reason}`, error);
}

/**
 * A failure librdkafka only logs (it retries such states for ever): wrong credentials, a certificate
 * it cannot verify, a TLS listener reached in plain text and the reverse, a principal refused its
 * group or topic. Undefined for anything else.
 */
export function loggedFailure(message: string, brokers: string[], reading?: { group: string; topic: string }): OrdersError | undefined {
  const at = brokers.join(',');
  // librdkafka's reason, without its stack or the binding's prefix.
  const reason = (message.split(' : ')[0] ?? message).replace(/^.*Error details: /, '')
    .replace(/^\[thrd:[^\]]*\]:\s*/, '').replace(/^[a-z_]+:\/\/\S+?: /i, '').trim();
  if (/SASL authentication error|Authentication failed|authentication failure/i.test(message)) {
    return new AuthenticationError(`authentication failed at ${at}: ${reason}`);
  }
  if (/SSL handshake failed|certificate verify failed|ssl error/i.test(message)) {
    const hint = /certificate verify failed/i.test(message) ? ' (is ssl.ca.location the CA that signed the broker\'s certificate?)' : '';
    return new AuthenticationError(`TLS handshake with ${at} failed${hint}: ${reason}`);
  }
  if (/cluster authorization failed/i.test(message)) {
    return new AuthorizationError(`not authorized on the cluster (an idempotent producer needs WRITE on its topic): ${reason}`);
  }
  if (reading !== undefined && /Group authorization failed/i.test(message)) {
    return new AuthorizationError(`not authorized to READ group ${reading.group}: ${reason}`);
  }
  if (reading !== undefined && /Topic authorization failed/i.test(message)) {
    return new AuthorizationError(`not authorized to READ topic ${reading.topic}: ${reason}`);
  }
  return undefined;
}

/** librdkafka's hint when it meets a TLS listener in plain text: the broker hangs up on the first request. */
export function looksLikeTlsListener(message: string): boolean {
  return /receive 0 after POLLIN|Disconnected while requesting ApiVersion|connection closed by peer.*ApiVersion|APIVERSION_QUERY/i.test(message);
}
