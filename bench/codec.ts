import { decodeOrder, encodeOrder } from '../src/avro/codec.js';
import { orderGenerator } from '../src/orders/generate.js';
import { median, perSecond } from './stats.js';

export interface CodecFigures {
  orders: number;
  encodesPerSecond: number[];
  decodesPerSecond: number[];
  medianEncodesPerSecond: number;
  medianDecodesPerSecond: number;
}

/** Encode and decode ops/s of the codec alone, one round after a warm-up round that lets V8 optimise. */
export function benchCodec(count: number, rounds: number, seed: number): CodecFigures {
  const nextOrder = orderGenerator(seed);
  const orders = Array.from({ length: count }, nextOrder);
  const encoded = orders.map(encodeOrder);
  const encodesPerSecond: number[] = [];
  const decodesPerSecond: number[] = [];
  // A sink the loops feed, so the optimiser cannot drop the work as unused.
  let sink = 0;
  for (let round = 0; round <= rounds; round++) {
    let started = performance.now();
    for (const order of orders) sink += encodeOrder(order).length;
    const encodeMs = performance.now() - started;
    started = performance.now();
    for (const bytes of encoded) sink += decodeOrder(bytes).price;
    const decodeMs = performance.now() - started;
    if (round === 0) continue;
    encodesPerSecond.push(perSecond(count, encodeMs));
    decodesPerSecond.push(perSecond(count, decodeMs));
  }
  if (!Number.isFinite(sink)) throw new Error('codec benchmark produced no result');
  return {
    orders: count,
    encodesPerSecond,
    decodesPerSecond,
    medianEncodesPerSecond: median(encodesPerSecond),
    medianDecodesPerSecond: median(decodesPerSecond),
  };
}
