import { seededRandom } from '../../src/orders/generate.js';

/** What happens to the group during a round, and when (ms after the previous event). */
export type SoakEventKind = 'sigkill' | 'sigterm' | 'join' | 'leave' | 'broker-restart';
export interface SoakEvent { kind: SoakEventKind; afterMs: number }

/** Everything one round does, picked from (seed, round) alone: the pair replays it. */
export interface RoundPlan {
  seed: number;
  round: number;
  partitions: 1 | 3;
  guarantee: 'exactly-once' | 'at-least-once';
  protocol: 'classic' | 'consumer';
  instanceIds: boolean;
  retries: number;
  backoffMs: number;
  maxInFlight: number;
  failRate: number;
  orders: number;
  /** Seed of the produced orders and of consume's simulated failures. */
  dataSeed: number;
  members: number;
  events: SoakEvent[];
  /** How long the members run after the last event before they are all stopped. */
  settleMs: number;
}

/** A whole number from [low, high], spread evenly over its logarithm: small values as often as large ones. */
function logUniform(random: () => number, low: number, high: number): number {
  return Math.min(high, Math.floor(Math.exp(Math.log(low) + random() * (Math.log(high + 1) - Math.log(low)))));
}

function pick<T>(random: () => number, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)] as T;
}

/** The round's own PRNG: round r of seed s is the same whether rounds 1..r-1 ran or not. */
export function planRound(seed: number, round: number, cluster: boolean): RoundPlan {
  const random = seededRandom((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(round, 0x85ebca6b)) >>> 0);
  const kinds: SoakEventKind[] = cluster ? ['sigkill', 'sigterm', 'join', 'leave', 'broker-restart'] : ['sigkill', 'sigterm', 'join', 'leave'];
  const members = 1 + Math.floor(random() * 2);
  const eventCount = 1 + Math.floor(random() * 3);
  const partitions = pick(random, [1, 3] as const);
  const guarantee = pick(random, ['exactly-once', 'at-least-once'] as const);
  const protocol = pick(random, ['classic', 'consumer'] as const);
  const instanceIds = random() < 0.5;
  const retries = Math.floor(random() * 9);
  const backoffMs = logUniform(random, 1, 4000);
  const maxInFlight = logUniform(random, 1, 5000);
  // Low enough that long retry chains stay rare: a round stays within a minute or so.
  const failRate = pick(random, [0.05, 0.1, 0.2] as const);
  // Few orders in flight and long backoffs make a partition's orders wait in line: fewer orders then,
  // so that the first backoffs alone take at most ~30 s a partition.
  const picked = 1000 + 500 * Math.floor(random() * 5);
  const backoffPerOrderMs = (failRate * backoffMs) / Math.min(maxInFlight, picked / partitions);
  const orders = Math.max(200, Math.min(picked, Math.floor((30_000 * partitions) / backoffPerOrderMs)));
  return {
    seed, round, partitions, guarantee, protocol, instanceIds, retries, backoffMs, maxInFlight, failRate, orders,
    dataSeed: 1 + Math.floor(random() * 1_000_000),
    members,
    events: Array.from({ length: eventCount }, () => ({ kind: pick(random, kinds), afterMs: 500 + Math.floor(random() * 4500) })),
    settleMs: Math.floor(random() * 3000),
  };
}

/** The round's choices on one line, as the soak prints them. */
export function describePlan(plan: RoundPlan): string {
  const events = plan.events.map((e) => `${e.kind}@+${(e.afterMs / 1000).toFixed(1)}s`).join(' ');
  return `partitions=${plan.partitions} ${plan.guarantee} group.protocol=${plan.protocol} instance-id=${plan.instanceIds ? 'yes' : 'no'} `
    + `retries=${plan.retries} backoff-ms=${plan.backoffMs} max-in-flight=${plan.maxInFlight} fail-rate=${plan.failRate} `
    + `orders=${plan.orders} data-seed=${plan.dataSeed} members=${plan.members} events=[${events}] settle=${(plan.settleMs / 1000).toFixed(1)}s`;
}
