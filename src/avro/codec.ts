import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { UndecodableError, messageOf } from '../errors.js';

export interface Order {
  orderId: string;
  product: string;
  price: number;
  /** Milliseconds since the epoch (Avro timestamp-millis). */
  createdAt: number;
}

const SCHEMA_URL = new URL('../../../schemas/order.avsc', import.meta.url);

/** The schema as written in schemas/order.avsc, logicalType and all: what a registry is given. */
export const ORDER_SCHEMA_TEXT = readFileSync(SCHEMA_URL, 'utf8');

// Parsed once per process: avsc compiles the schema into specialised encode/decode functions.
const orderType = avro.Type.forSchema(JSON.parse(ORDER_SCHEMA_TEXT) as avro.Schema);

/** An order as bare Avro. */
export function encodeOrder(order: Order): Buffer {
  return orderType.toBuffer(order);
}

/** Turns a record's value into an Order; UndecodableError for bytes no retry can fix, anything else means "not now". */
export interface OrderDecoder {
  decode(value: Buffer | null): Order | Promise<Order>;
}

/** Decodes bare Avro bytes (written with this schema) into an Order, or throws UndecodableError: never a half-valid order. */
export function decodeOrder(bytes: Buffer | null): Order {
  if (bytes === null) throw new UndecodableError('record has no value');
  return readOrder(bytes, undefined);
}

/**
 * Reads Avro bodies written with `writerSchema` into an Order by Avro schema resolution (a field the
 * reader lacks is skipped, one the writer lacks takes its default); throws when the two do not resolve.
 */
export function orderReader(writerSchema: unknown): (body: Buffer) => Order {
  const writer = avro.Type.forSchema(writerSchema as avro.Schema);
  const resolver = writer.equals(orderType) ? undefined : orderType.createResolver(writer);
  return (body) => readOrder(body, resolver);
}

function readOrder(bytes: Buffer, resolver: avro.Resolver | undefined): Order {
  let order: Order;
  try {
    // fromBuffer rejects truncated bytes and trailing garbage.
    order = orderType.fromBuffer(bytes, resolver) as Order;
  } catch (error) {
    throw new UndecodableError(`not an Avro Order: ${messageOf(error)}`, error);
  }
  const problem = invalidField(order);
  if (problem !== undefined) throw new UndecodableError(`not a valid Order: ${problem}`);
  return order;
}

// avsc accepts any bytes for a string (bad UTF-8 becomes U+FFFD) and any double, so check what it cannot.
function invalidField(order: Order): string | undefined {
  if (order.orderId === '') return 'orderId is empty';
  if (order.orderId.includes('\uFFFD') || order.product.includes('\uFFFD')) return 'string field is not valid UTF-8';
  if (!Number.isFinite(order.price)) return `price is ${order.price}`;
  if (!Number.isSafeInteger(order.createdAt)) return `createdAt is ${order.createdAt}`;
  return undefined;
}
