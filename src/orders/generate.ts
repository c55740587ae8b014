import type { Order } from '../avro/codec.js';

const PRODUCTS = ['keyboard', 'mouse', 'monitor', 'laptop', 'headset', 'webcam', 'dock', 'cable', 'chair', 'desk'] as const;

/** mulberry32: a small, fast PRNG whose whole state is one 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Orders from a seed: the same seed gives the same orderIds, products and prices.
 * createdAt is the wall clock, since it is what end-to-end latency is measured from.
 */
export function orderGenerator(seed: number, now: () => number = Date.now): () => Order {
  const random = seededRandom(seed);
  return () => ({
    orderId: uuidFrom(random),
    product: PRODUCTS[Math.floor(random() * PRODUCTS.length)] ?? 'keyboard',
    // Whole cents between 1.00 and 500.00, so money sums stay exact.
    price: (100 + Math.floor(random() * 49_901)) / 100,
    createdAt: now(),
  });
}

// Each byte's two lowercase hex digits, as character codes.
const HEX_DIGITS = Buffer.from(Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0')).join(''), 'latin1');
// Where each of the 16 bytes goes in "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
const ID_POSITIONS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34] as const;
// Reused by every id: the random bytes and the id's text before it becomes one flat string.
const bytes = new Uint8Array(16);
const text = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');

// One flat string from a buffer, not twenty concatenations: id generation was a sixth of produce's CPU.
function uuidFrom(random: () => number): string {
  for (let word = 0; word < 4; word++) {
    const value = Math.floor(random() * 4_294_967_296);
    bytes[word * 4] = value >>> 24;
    bytes[word * 4 + 1] = value >>> 16;
    bytes[word * 4 + 2] = value >>> 8;
    bytes[word * 4 + 3] = value;
  }
  // Version 4 and variant bits, so it reads as the UUIDs people know.
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  for (let i = 0; i < 16; i++) {
    const at = ID_POSITIONS[i] ?? 0;
    const digits = (bytes[i] ?? 0) * 2;
    text[at] = HEX_DIGITS[digits] ?? 0;
    text[at + 1] = HEX_DIGITS[digits + 1] ?? 0;
  }
  return text.toString('latin1', 0, 36);
}
