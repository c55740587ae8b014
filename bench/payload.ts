import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeOrder } from '../src/avro/codec.js';
import { orderGenerator, seededRandom } from '../src/orders/generate.js';

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
 * JSON lines as users write them (issue 27), not as orders itself prints them: Python's json.dumps
 * spacing (", " and ": ") on two lines of three and JSON.stringify's on the third; random UUID orderIds
 * and two-decimal prices of the seeded orders; createdAt a different instant each line over the last 30
 * days, alternating ISO-8601 with milliseconds (Python's isoformat "+00:00" and JavaScript's "Z", in turn)
 * and epoch milliseconds. Written 10,000 lines at a time.
 */
export function writeInputLines(file: string, count: number, seed: number): void {
  const nextOrder = orderGenerator(seed);
  const random = seededRandom(seed ^ 0x5eed);
  const newest = Date.now();
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  try {
    for (let written = 0; written < count;) {
      const lines: string[] = [];
      for (; lines.length < 10_000 && written < count; written++) {
        const { orderId, product, price } = nextOrder();
        const millis = newest - Math.floor(random() * 30 * 86_400_000);
        lines.push(inputLine({ orderId, product, price, createdAt: createdAtText(millis, written) }, written % 3 !== 2));
      }
      writeSync(fd, `${lines.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
}

// Epoch milliseconds on odd lines; ISO-8601 with milliseconds on even ones, in Python's and JavaScript's zone spelling by turns.
function createdAtText(millis: number, line: number): string | number {
  if (line % 2 === 1) return millis;
  const iso = new Date(millis).toISOString();
  return line % 4 === 0 ? iso : `${iso.slice(0, -1)}+00:00`;
}

// json.dumps' separators are ", " and ": ", and it prints a whole float as 12.0; JSON.stringify's are "," and ":".
function inputLine(fields: { orderId: string; product: string; price: number; createdAt: string | number }, pythonSpacing: boolean): string {
  if (!pythonSpacing) return JSON.stringify(fields);
  const { orderId, product, price, createdAt } = fields;
  const priceText = Number.isInteger(price) ? `${price}.0` : String(price);
  return `{"orderId": ${JSON.stringify(orderId)}, "product": ${JSON.stringify(product)}, "price": ${priceText}, "createdAt": ${JSON.stringify(createdAt)}}`;
}
