import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeOrder } from '../src/avro/codec.js';
import { orderGenerator } from '../src/orders/generate.js';

/** The same keys and Avro values `orders produce --seed` sends, laid out for `kcat -P -l -K -D`. */
export interface Payload {
  file: string;
  count: number;
  valueBytes: number;
  keyDelimiter: string;
  delimiter: string;
  values: Map<string, Buffer>;
}

// UUID keys never hold '|', and kcat splits the key at its first occurrence, so the value may hold it.
const KEY_DELIMITER = '|';

export function writePayload(file: string, count: number, seed: number): Payload {
  const nextOrder = orderGenerator(seed);
  const values = new Map<string, Buffer>();
  let valueBytes = 0;
  for (let i = 0; i < count; i++) {
    const order = nextOrder();
    const value = encodeOrder(order);
    values.set(order.orderId, value);
    valueBytes += value.length;
  }
  // Avro may hold any byte, so try delimiters until one occurs exactly where it was put and nowhere else.
  for (let attempt = 0; attempt < 10; attempt++) {
    const delimiter = `#~orders-bench-${attempt}~#`;
    const bytes = layout(values, delimiter);
    if (occurrences(bytes, Buffer.from(delimiter)) !== count) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
    return { file, count, valueBytes, keyDelimiter: KEY_DELIMITER, delimiter, values };
  }
  throw new Error('no message delimiter found that the Avro payload does not contain');
}

function layout(values: Map<string, Buffer>, delimiter: string): Buffer {
  const parts: Buffer[] = [];
  const keyDelimiter = Buffer.from(KEY_DELIMITER);
  const end = Buffer.from(delimiter);
  for (const [key, value] of values) parts.push(Buffer.from(key), keyDelimiter, value, end);
  return Buffer.concat(parts);
}

// Overlapping matches count too: kcat's scanner would split at any of them.
function occurrences(haystack: Buffer, needle: Buffer): number {
  let found = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) found++;
  return found;
}

/**
 * Checks the output of `kcat -C -f '%k\t%S\n%s'` against the payload: every key once, every value byte-exact.
 * Returns what was wrong, or undefined.
 */
export function mismatch(output: Buffer, payload: Payload): string | undefined {
  const seen = new Set<string>();
  let at = 0;
  while (at < output.length) {
    const tab = output.indexOf(0x09, at);
    const newline = output.indexOf(0x0a, tab);
    if (tab === -1 || newline === -1) return `unparseable kcat output at byte ${at}`;
    const key = output.toString('utf8', at, tab);
    const size = Number(output.toString('latin1', tab + 1, newline));
    const value = output.subarray(newline + 1, newline + 1 + size);
    const expected = payload.values.get(key);
    if (expected === undefined) return `unexpected key ${key}`;
    if (seen.has(key)) return `key ${key} twice`;
    if (!value.equals(expected)) return `value of ${key} differs: ${value.toString('hex')} != ${expected.toString('hex')}`;
    seen.add(key);
    at = newline + 1 + size;
  }
  return seen.size === payload.count ? undefined : `${seen.size} of ${payload.count} records read back`;
}

/**
 * The orders `orders produce --seed` makes, as the JSON lines `orders produce --input` reads (createdAt
 * ISO-8601, as dlq-tail --json prints it), written 10,000 lines at a time.
 */
export function writeInputLines(file: string, count: number, seed: number): void {
  const nextOrder = orderGenerator(seed);
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  try {
    for (let written = 0; written < count;) {
      const lines: string[] = [];
      for (; lines.length < 10_000 && written < count; written++) {
        const { orderId, product, price, createdAt } = nextOrder();
        lines.push(JSON.stringify({ orderId, product, price, createdAt: new Date(createdAt).toISOString() }));
      }
      writeSync(fd, `${lines.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
}
