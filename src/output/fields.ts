/** How an order and an aggregate look in every view: their JSON fields, and the figures as text. */

import type { Order } from '../avro/codec.js';
import { average, totalPrice, type Aggregate } from '../processing/aggregate.js';

export function orderJson(order: Order): Record<string, unknown> {
  return { orderId: order.orderId, product: order.product, price: order.price, createdAt: new Date(order.createdAt).toISOString() };
}

export function figures(aggregate: Aggregate): { total_price: number; count: number; avg: number } {
  return { total_price: totalPrice(aggregate), count: aggregate.count, avg: average(aggregate) };
}

export function figuresText(aggregate: Aggregate): string {
  return `total_price=${totalPrice(aggregate).toFixed(2)} count=${aggregate.count} avg=${average(aggregate).toFixed(2)}`;
}
