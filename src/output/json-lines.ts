/** The JSON lines written once per order, from templates that make what JSON.stringify makes, byte for byte. */

import type { Order } from '../avro/codec.js';
import { average, totalPrice, type Aggregate } from '../processing/aggregate.js';

/**
 * The `sent` line, byte for byte what JSON.stringify makes of it, from a template: with a line per
 * order, stringifying a spread object was a seventh of `produce --report each`'s CPU.
 */
export function sentJson(order: Order, partition: number, offset: string): string {
  return `{"event":"sent","orderId":${JSON.stringify(order.orderId)},"product":${JSON.stringify(order.product)},`
    + `"price":${JSON.stringify(order.price)},"createdAt":${JSON.stringify(isoTime(order.createdAt))},`
    + `"partition":${JSON.stringify(partition)},"offset":${JSON.stringify(offset)}}`;
}

// Orders made in the same millisecond share createdAt, hundreds at a time: formatted once.
let lastTime = Number.NaN;
let lastIso = '';
function isoTime(millis: number): string {
  if (millis !== lastTime) {
    lastIso = new Date(millis).toISOString();
    lastTime = millis;
  }
  return lastIso;
}

/**
 * The `order` line, byte for byte what JSON.stringify makes of it, from a template: stringifying a
 * spread object per order was a twentieth of consume's CPU.
 */
export function orderLine(order: Order, partition: number, offset: string, attempts: number, latencyMs: number, aggregate: Aggregate): string {
  return `{"event":"order","orderId":${JSON.stringify(order.orderId)},"partition":${JSON.stringify(partition)},"offset":${JSON.stringify(offset)},`
    + `"status":"ok","attempts":${JSON.stringify(attempts)},"price":${JSON.stringify(order.price)},"product":${JSON.stringify(order.product)},`
    + `"latency_ms":${JSON.stringify(latencyMs)},"total_price":${JSON.stringify(totalPrice(aggregate))},"count":${JSON.stringify(aggregate.count)},`
    + `"avg":${JSON.stringify(average(aggregate))}}`;
}
