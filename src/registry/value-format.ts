import { setTimeout as sleep } from 'node:timers/promises';
import { ORDER_SCHEMA_TEXT, decodeOrder, type OrderDecoder } from '../avro/codec.js';
import { RegistryError, UndecodableError } from '../errors.js';
import type { KafkaSession } from '../kafka/session.js';
import { RegistryOutage } from './outage.js';
import { RegistryDecoder } from './registry-decoder.js';
import { SchemaRegistry, valueSubject } from './schema-registry.js';
import type { RegistrySettings } from './settings.js';
import { schemaIdOf, wireHeader } from './wire.js';

/** Values that are bare Avro of schemas/order.avsc, as orders writes without a schema registry. */
export const bareAvro: OrderDecoder = {
  decode: (value) => {
    try {
      return decodeOrder(value);
    } catch (error) {
      const schemaId = schemaIdOf(value);
      // The likeliest cause of a framed-looking value that fails: a producer that used a registry.
      if (!(error instanceof UndecodableError) || schemaId === null) throw error;
      throw new UndecodableError(`${error.message} (it starts like a schema registry value with schema id ${schemaId}: was --schema-registry meant?)`, error);
    }
  },
};

/**
 * How a command reads order values: bare Avro without a registry, else framed values decoded by
 * their writer schema. Nothing is asked of the registry until a record needs it, so a consumer starts
 * while the registry is down; `stop` ends the waits for it.
 */
export function orderDecoder(session: KafkaSession, settings: RegistrySettings | undefined, stop: AbortSignal): OrderDecoder {
  if (settings === undefined) return bareAvro;
  const outage = new RegistryOutage({
    sleep: (ms) => sleep(ms, undefined, { signal: stop }),
    warn: (message) => session.logger.warn(message),
    info: (message) => session.logger.info(message),
    now: () => Date.now(),
  });
  return new RegistryDecoder(new SchemaRegistry(settings, session.timeoutMs), outage);
}

const REGISTER_RETRY_MS = 250;

/**
 * Registers schemas/order.avsc under `<topic>-value` and returns the 5-byte header of its id, which
 * every value then starts with. A registry that does not answer is asked again until --timeout-ms;
 * a refusal (incompatible, credentials) fails at once.
 */
export async function registerOrderSchema(session: KafkaSession, settings: RegistrySettings, topic: string): Promise<{ id: number; header: Buffer }> {
  const registry = new SchemaRegistry(settings, session.timeoutMs);
  const subject = valueSubject(topic);
  const what = `registering the order schema under subject ${subject}`;
  // A timer of our own: AbortSignal.timeout held only by AbortSignal.any can be collected and never fire (Node 20).
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), session.timeoutMs);
  const giveUp = AbortSignal.any([session.signal, deadline.signal]);
  let last: RegistryError | undefined;
  try {
    while (!giveUp.aborted) {
      try {
        const id = await untilAborted(registry.register(subject, ORDER_SCHEMA_TEXT), giveUp);
        return { id, header: wireHeader(id) };
      } catch (error) {
        if (giveUp.aborted) break;
        if (!(error instanceof RegistryError) || !error.canRetry) throw error;
        last = error;
        await sleep(REGISTER_RETRY_MS, undefined, { signal: giveUp }).catch(() => undefined);
      }
    }
  } finally {
    clearTimeout(timer);
  }
  session.throwIfAborted(what);
  throw new RegistryError(`${last?.message ?? `schema registry at ${settings.url} did not answer ${what}`} (gave up after ${session.timeoutMs} ms)`, true, last);
}

// Ctrl-C must not wait for an HTTP request to time out.
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
