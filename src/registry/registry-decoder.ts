import { orderReader, type Order, type OrderDecoder } from '../avro/codec.js';
import { RegistryError, UndecodableError, messageOf } from '../errors.js';
import type { RegistryOutage } from './outage.js';
import type { SchemaRegistry } from './schema-registry.js';
import { readFrame } from './wire.js';

type Reader = (body: Buffer) => Order;

/**
 * Decodes framed values: the writer schema of each id is fetched once per process (an unknown id is
 * remembered too) and read into the tool's schema by Avro schema resolution. While the registry does
 * not answer, decode waits (the record stays in flight); a value no registry answer can fix is
 * UndecodableError at once.
 */
export class RegistryDecoder implements OrderDecoder {
  private readonly readers = new Map<number, Reader>();
  private readonly fetching = new Map<number, Promise<Reader>>();

  constructor(private readonly registry: Pick<SchemaRegistry, 'schemaById'>, private readonly outage: RegistryOutage) {}

  decode(value: Buffer | null): Order | Promise<Order> {
    const { schemaId, body } = readFrame(value);
    const reader = this.readers.get(schemaId);
    return reader !== undefined ? reader(body) : this.readerOf(schemaId).then((found) => found(body));
  }

  private readerOf(id: number): Promise<Reader> {
    let fetching = this.fetching.get(id);
    if (fetching === undefined) {
      fetching = this.fetch(id);
      this.fetching.set(id, fetching);
      // Kept once known; a fetch cut short (a stop, a refusal) is tried afresh by the next record.
      fetching.then((reader) => this.readers.set(id, reader), () => undefined).finally(() => this.fetching.delete(id));
    }
    return fetching;
  }

  private async fetch(id: number): Promise<Reader> {
    for (let attempt = 1; ; attempt++) {
      let schema: { schema: string; schemaType?: string };
      try {
        schema = await this.registry.schemaById(id);
      } catch (error) {
        if (error instanceof UndecodableError) return refuse(error);
        if (!(error instanceof RegistryError) || !error.canRetry) throw error;
        await this.outage.wait(error, attempt);
        continue;
      }
      this.outage.answered();
      return readerFor(id, schema);
    }
  }
}

function readerFor(id: number, { schema, schemaType }: { schema: string; schemaType?: string }): Reader {
  // The registry omits schemaType for Avro.
  if (schemaType !== undefined && schemaType !== 'AVRO') return refuse(new UndecodableError(`schema id ${id} is a ${schemaType} schema, not Avro`));
  try {
    return orderReader(JSON.parse(schema));
  } catch (error) {
    return refuse(new UndecodableError(`schema id ${id} cannot be read as an Order: ${messageOf(error)}`, error));
  }
}

function refuse(error: UndecodableError): Reader {
  return () => {
    throw error;
  };
}
