import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { UndecodableError, messageOf } from '../errors.js';
import { ScratchViews } from '../scratch-views.js';

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
const orderType = avro.Type.forSchema(JSON.parse(ORDER_SCHEMA_TEXT) as avro.Schema) as avro.types.RecordType;
// OrderWriter.orderIdBytes reads the id where Avro writes the first field.
if (orderType.fields[0]?.name !== 'orderId') throw new Error(`${SCHEMA_URL.pathname}: orderId must be the first field`);

/** An order as bare Avro. */
export function encodeOrder(order: Order): Buffer {
  return orderType.toBuffer(order);
}

/**
 * Encodes orders into one reused buffer, after a prefix written once (none, or a registry's magic
 * byte and schema id): no allocation per order.
 */
export class OrderWriter {
  private readonly prefix: Buffer;
  private scratch: ScratchViews;

  constructor(prefix: Buffer = Buffer.alloc(0)) {
    this.prefix = prefix;
    this.scratch = this.grown(prefix.length + 256);
  }

  get prefixLength(): number {
    return this.prefix.length;
  }

  /** The prefix and the order's Avro bytes; valid until the next call, so the caller must copy it (produce() does). */
  write(order: Order): Buffer {
    let end = orderType.encode(order, this.scratch.buffer, this.prefix.length);
    if (end < 0) {
      // avsc returns minus the bytes that did not fit.
      this.scratch = this.grown(2 * (this.scratch.buffer.length - end));
      end = orderType.encode(order, this.scratch.buffer, this.prefix.length);
    }
    return this.scratch.view(0, end);
  }

  /**
   * The orderId's UTF-8 bytes inside the value last written, where Avro put them after their
   * length: the record key, without encoding the id a second time.
   */
  orderIdBytes(): Buffer {
    const bytes = this.scratch.buffer;
    let at = this.prefix.length;
    let zigzag = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++] ?? 0;
      zigzag += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    // A string's length is never negative, so its zigzag form is twice the length.
    return this.scratch.view(at, at + zigzag / 2);
  }

  private grown(size: number): ScratchViews {
    const scratch = new ScratchViews(size);
    this.prefix.copy(scratch.buffer);
    return scratch;
  }
}

/** Decodes Avro bytes into an Order, or throws UndecodableError: never a half-valid order. */
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
