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

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 4 }, () => Math.floor(random() * 4_294_967_296).toString(16).padStart(8, '0')).join('');
  // Version 4 and variant bits, so it reads as the UUIDs people know.
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
