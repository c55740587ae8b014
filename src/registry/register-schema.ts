import { setTimeout as sleep } from 'node:timers/promises';
import { ORDER_SCHEMA_TEXT } from '../avro/codec.js';
import { RegistryError } from '../errors.js';
import type { KafkaSession } from '../kafka/session.js';
import { SchemaRegistry, valueSubject } from './schema-registry.js';
import type { RegistrySettings } from './settings.js';
import { wireHeader } from './wire.js';

const REGISTER_RETRY_MS = 250;

/**
 * Registers schemas/order.avsc under `<topic>-value` and returns the 5-byte header of its id, which
 * every value then starts with. A registry that does not answer is asked again until --timeout-ms;
 * a refusal (incompatible, credentials) fails at once.
 */
export async function registerOrderSchema(session: KafkaSession, settings: RegistrySettings, topic: string): Promise<{ id: number; header: Buffer }> {
  const subject = valueSubject(topic);
  const what = `registering the order schema under subject ${subject}`;
  // A timer of our own: AbortSignal.timeout held only by AbortSignal.any can be collected and never fire (Node 20).
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), session.timeoutMs);
  const giveUp = AbortSignal.any([session.signal, deadline.signal]);
  const registry = new SchemaRegistry(settings, session.timeoutMs, giveUp);
  let last: RegistryError | undefined;
  try {
    while (!giveUp.aborted) {
      try {
        const id = await registry.register(subject, ORDER_SCHEMA_TEXT);
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
  session.steps.throwIfAborted(what);
  throw new RegistryError(`${last?.message ?? `schema registry at ${settings.url} did not answer ${what}`} (gave up after ${session.timeoutMs} ms)`, true, last);
}
