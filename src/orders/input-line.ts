import type { Order } from '../avro/codec.js';

/** Why one line of --input is not an order; its text is never quoted whole. */
export class BadLine {
  constructor(readonly reason: string) {}
}

/** The fields of schemas/order.avsc, in its order: a line must have these and no others. */
export const ORDER_FIELDS = ['orderId', 'product', 'price', 'createdAt'] as const;

// avsc writes a long beyond -2^52 through a double that rounds it (-2^52 - 1 decodes as +2^52); within it
// the bytes are exact, and every date is one toISOString can print (which ends at 8.64e15).
const MAX_CREATED_AT_MS = 2 ** 52;
// What a message quotes of a value: enough to find it, never a whole line.
const QUOTE_CHARS = 40;
// 2026-11-27T10:00:00Z, 2026-11-27T10:00:00.123+01:00, and toISOString's ±YYYYYY years; a zone is required.
const ISO_DATE_TIME = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

/**
 * One line of --input as an Order, checked as the schema and the consumers demand: undefined for a
 * blank line (skipped), a BadLine naming the field and what is wrong, else the order, whose Avro
 * encoding decodes to exactly the line's values (createdAt as epoch milliseconds).
 */
export function parseOrderLine(text: string): Order | BadLine | undefined {
  if (text.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Whitespace alone is a blank line; JSON.parse is tried first since a real line is far more common.
    return text.trim() === '' ? undefined : new BadLine(`not JSON: ${quote(text.trim())}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return new BadLine(`not a JSON object of an order, got ${describe(value)}`);
  const fields = value as Record<string, unknown>;
  for (const key in fields) {
    if (key !== 'orderId' && key !== 'product' && key !== 'price' && key !== 'createdAt') {
      return new BadLine(`unknown field ${quote(key)} (an order has ${ORDER_FIELDS.join(', ')})`);
    }
  }
  const { orderId, product, price, createdAt } = fields;
  const problem = stringProblem('orderId', orderId) ?? stringProblem('product', product);
  if (problem !== undefined) return new BadLine(problem);
  if (price === undefined) return new BadLine('price is missing');
  if (typeof price !== 'number') return new BadLine(`price must be a number, got ${describe(price)}`);
  // JSON has no Infinity, but 1e999 parses to it.
  if (!Number.isFinite(price)) return new BadLine(`price must be a finite number, got ${price} (the number is too large for a double)`);
  const millis = epochMillis(createdAt);
  if (millis instanceof BadLine) return millis;
  return { orderId: orderId as string, product: product as string, price, createdAt: millis };
}

// A consumer dead-letters a string with U+FFFD as invalid UTF-8, so it is refused here, before it is sent.
function stringProblem(field: 'orderId' | 'product', value: unknown): string | undefined {
  if (value === undefined) return `${field} is missing`;
  if (typeof value !== 'string') return `${field} must be a string, got ${describe(value)}`;
  // The key, and what a consumer refuses as no order.
  if (field === 'orderId' && value === '') return 'orderId must not be empty';
  if (value.includes('\uFFFD')) return `${field} holds U+FFFD, what invalid UTF-8 decodes to; consumers would dead-letter it`;
  return undefined;
}

function epochMillis(value: unknown): number | BadLine {
  if (value === undefined) return new BadLine('createdAt is missing');
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return new BadLine(`createdAt must be whole epoch milliseconds, got ${describe(value)}`);
    if (Math.abs(value) > MAX_CREATED_AT_MS) return new BadLine(`createdAt must be within ±2^52 ms of 1970, got ${describe(value)}`);
    // -0 would be written as 0; the order must decode to what the line says.
    return value + 0;
  }
  if (typeof value !== 'string') return new BadLine(`createdAt must be an ISO-8601 date-time or epoch milliseconds, got ${describe(value)}`);
  return isoMillis(value);
}

// Orders of one batch often share createdAt: each text is read once.
let lastIso = '';
let lastMillis = 0;

/** An ISO-8601 date-time with a zone as epoch milliseconds, checked field by field (Date.parse takes too much, and rolls Feb 30 over). */
export function isoMillis(text: string): number | BadLine {
  if (text === lastIso) return lastMillis;
  const common = commonIsoMillis(text);
  if (common !== undefined) {
    lastIso = text;
    lastMillis = common;
    return common;
  }
  const match = ISO_DATE_TIME.exec(text);
  if (match === null) return new BadLine(`createdAt must be an ISO-8601 date-time with a zone (2026-11-27T10:00:00Z) or epoch milliseconds, got ${quote(text)}`);
  const [, year = '', month = '', day = '', hour = '', minute = '', second = '0', fraction = '', , sign, zoneHours = '0', zoneMinutes = '0'] = match;
  if (fraction.length > 3) return new BadLine(`createdAt must be whole milliseconds, got ${quote(text)} (${fraction.length} digits of a second)`);
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const zh = Number(zoneHours);
  const zm = Number(zoneMinutes);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59 || zh > 23 || zm > 59) {
    return new BadLine(`createdAt is not a valid date: ${quote(text)}`);
  }
  const offsetMs = (sign === '-' ? -1 : 1) * (zh * 60 + zm) * 60_000;
  const millis = daysFromCivil(y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + Number(fraction.padEnd(3, '0')) - offsetMs;
  if (Math.abs(millis) > MAX_CREATED_AT_MS) return new BadLine(`createdAt must be within ±2^52 ms of 1970 (about 142,000 years), got ${quote(text)}`);
  lastIso = text;
  lastMillis = millis;
  return millis;
}

// "2026-11-27T10:00:00.123Z" and "2026-11-27T10:00:00.123+01:00" (and either without ".123"): what
// JavaScript and Python write, read by position without the regex's match array (a line of --input
// with its own instant spent a fifth of its parse there). Undefined for any other form, or an invalid
// date: isoMillis' regex then reads it, or says what is wrong.
function commonIsoMillis(text: string): number | undefined {
  const length = text.length;
  const fractionEnd = length >= 23 && text.charCodeAt(19) === DOT ? 23 : 19;
  const zoned = length === fractionEnd + 6;
  if (!(zoned || (length === fractionEnd + 1 && text.charCodeAt(fractionEnd) === ZED))) return undefined;
  if (text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH || text.charCodeAt(10) !== TEE || text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON) return undefined;
  const y = digitsAt(text, 0, 4);
  const mo = digitsAt(text, 5, 2);
  const d = digitsAt(text, 8, 2);
  const h = digitsAt(text, 11, 2);
  const mi = digitsAt(text, 14, 2);
  const s = digitsAt(text, 17, 2);
  const ms = fractionEnd === 23 ? digitsAt(text, 20, 3) : 0;
  let offsetMinutes = 0;
  if (zoned) {
    const sign = text.charCodeAt(fractionEnd);
    if ((sign !== PLUS && sign !== MINUS) || text.charCodeAt(fractionEnd + 3) !== COLON) return undefined;
    const zh = digitsAt(text, fractionEnd + 1, 2);
    const zm = digitsAt(text, fractionEnd + 4, 2);
    if (zh < 0 || zm < 0 || zh > 23 || zm > 59) return undefined;
    offsetMinutes = (sign === MINUS ? -1 : 1) * (zh * 60 + zm);
  }
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || ms < 0) return undefined;
  // Four-digit years are within ±2^52 ms of 1970.
  return daysFromCivil(y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + ms - offsetMinutes * 60_000;
}

const [DASH, COLON, DOT, TEE, ZED, PLUS, MINUS, ZERO] = ['-', ':', '.', 'T', 'Z', '+', '-', '0'].map((char) => char.charCodeAt(0)) as [number, number, number, number, number, number, number, number];

// The number of `count` ASCII digits at `at`, or -1 where one is not a digit.
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let index = at; index < at + count; index++) {
    const digit = text.charCodeAt(index) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil); Date.UTC maps years 0-99 to 1900-1999.
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** A value as a message shows it: strings quoted and cut short, objects by their kind. */
function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text);
}
