import { setTimeout as sleep } from 'node:timers/promises';
import { decodeOrder, type OrderDecoder } from '../avro/codec.js';
import { UndecodableError } from '../errors.js';
import type { KafkaSession } from '../kafka/session.js';
import { RegistryOutage } from './outage.js';
import { RegistryDecoder } from './registry-decoder.js';
import { SchemaRegistry } from './schema-registry.js';
import type { RegistrySettings } from './settings.js';
import { schemaIdOf } from './wire.js';

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
  const registry = new SchemaRegistry(settings, session.timeoutMs, stop);
  // While the consumer joins its group, not when the first record waits for it.
  registry.prepare();
  return new RegistryDecoder(registry, outage);
}
