/** Running total of processed orders; money is kept in whole cents so sums are exact in any order. */
export interface Aggregate {
  readonly totalCents: number;
  readonly count: number;
}

export const EMPTY_AGGREGATE: Aggregate = { totalCents: 0, count: 0 };

export function toCents(price: number): number {
  return Math.round(price * 100);
}

export function addOrder(aggregate: Aggregate, price: number): Aggregate {
  return { totalCents: aggregate.totalCents + toCents(price), count: aggregate.count + 1 };
}

export function totalPrice(aggregate: Aggregate): number {
  return aggregate.totalCents / 100;
}

export function average(aggregate: Aggregate): number {
  return aggregate.count === 0 ? 0 : aggregate.totalCents / aggregate.count / 100;
}

export function sumAggregates(aggregates: Iterable<Aggregate>): Aggregate {
  let sum = EMPTY_AGGREGATE;
  for (const aggregate of aggregates) sum = { totalCents: sum.totalCents + aggregate.totalCents, count: sum.count + aggregate.count };
  return sum;
}
