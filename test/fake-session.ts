import { encodeOrder } from '../src/avro/codec.js';
import { parseConsumeOptions } from '../src/config/flags.js';
import type { ConsumeParts } from '../src/consume/mode.js';
import { Tally, type ConsumeEvents } from '../src/consume/tally.js';
import type { CommittedOffset } from '../src/kafka/consumer/native-consumer.js';
import { DoneOffsets } from '../src/kafka/consumer/reader.js';
import type { SourceRecord } from '../src/kafka/record.js';
import type { KafkaSession } from '../src/kafka/session.js';
import { FlightGate } from '../src/processing/flight.js';
import { PartitionTotals } from '../src/processing/partition-totals.js';
import { bareAvro } from '../src/registry/value-format.js';

/** A committed() call the test answers when it likes. */
export interface CommittedCall {
  partitions: number[];
  answer(found: CommittedOffset[]): void;
  fail(error: unknown): void;
}

/** The consumer a mode makes, without librdkafka: committed() waits for the test, commits are kept. */
export class FakeConsumer {
  readonly client = {};
  readonly calls: CommittedCall[] = [];
  readonly commits: { partition: number; offset: number; metadata?: string | undefined }[][] = [];
  /** What committed() answers at once; undefined: the test answers each call itself. */
  answer: ((partitions: number[]) => CommittedOffset[]) | undefined;

  constructor(private readonly log: string[]) {}

  committed(_topic: string, partitions: number[], _timeoutMs: number): Promise<CommittedOffset[]> {
    this.log.push(`committed ${partitions.join(',')}`);
    const answer = this.answer;
    if (answer !== undefined) return Promise.resolve(answer(partitions));
    return new Promise((resolve, reject) => this.calls.push({ partitions, answer: resolve, fail: reject }));
  }

  async commit(offsets: { partition: number; offset: number; metadata?: string | undefined }[]): Promise<void> {
    this.commits.push(offsets);
  }
}

/** A transactional producer whose calls the test scripts; it keeps the dead letters and offsets of each transaction. */
export class FakeProducer {
  readonly deadLetters: string[] = [];
  readonly offsets: { partition: number; offset: number; metadata?: string | undefined }[] = [];
  disconnected = false;
  /** Set by the test: how this producer's next calls go. */
  commitFails: unknown;
  abortFails: unknown;
  sendOffsetsHangs: Promise<void> | undefined;

  constructor(readonly id: number, private readonly log: string[]) {}

  async connect(): Promise<void> { this.log.push(`producer ${this.id} initTransactions`); }
  async begin(): Promise<void> {}
  produce(_topic: string, record: { key: Buffer | null }): void { this.deadLetters.push(String(record.key)); }
  async sendOffsets(offsets: { partition: number; offset: number; metadata?: string | undefined }[]): Promise<void> {
    if (this.sendOffsetsHangs !== undefined) await this.sendOffsetsHangs;
    this.offsets.push(...offsets);
  }
  async commit(): Promise<void> {
    this.log.push(`producer ${this.id} commit`);
    if (this.commitFails !== undefined) throw this.commitFails;
  }
  /** Runs as the abort begins: what happens meanwhile, say a rebalance. */
  onAbort: (() => Promise<void>) | undefined;
  async abort(): Promise<void> {
    this.log.push(`producer ${this.id} abort`);
    await this.onAbort?.();
    if (this.abortFails !== undefined) throw this.abortFails;
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
    this.log.push(`producer ${this.id} disconnect`);
  }
}

/** A session that makes fake clients and logs what matters, in order, to `log`. */
export function fakeSession(log: string[], timeoutMs = 1_000): { session: KafkaSession; consumer: FakeConsumer; producers: FakeProducer[]; warnings: string[] } {
  const consumer = new FakeConsumer(log);
  const producers: FakeProducer[] = [];
  const warnings: string[] = [];
  const session = {
    timeoutMs,
    logger: { info: () => {}, debug: () => {}, warn: (line: string) => warnings.push(line) },
    consumer: () => consumer,
    producer: () => ({ connect: async () => {}, disconnect: async () => {}, send: async () => {} }),
    connect: async <T>(client: T) => client,
    connectNew: async <T extends { connect(): Promise<void> }>(make: () => T) => {
      const client = make();
      await client.connect();
      return client;
    },
    transactionalProducer: () => {
      const producer = new FakeProducer(producers.length + 1, log);
      producers.push(producer);
      return producer;
    },
    forget: () => {},
    fail: (error: unknown) => { throw error; },
  } as unknown as KafkaSession;
  return { session, consumer, producers, warnings };
}

/** The parts of a consume over the fake session, with `outcomes` told each processed and dead-lettered order's offset. */
export function fakeParts(session: KafkaSession, exactly: boolean, flags: Record<string, string> = {}): { parts: ConsumeParts; outcomes: string[]; stop: AbortController } {
  const stop = new AbortController();
  const options = parseConsumeOptions({ failRate: '0', maxInFlight: '10', guarantee: exactly ? 'exactly-once' : 'at-least-once', ...flags }, {});
  const outcomes: string[] = [];
  const events: ConsumeEvents = {
    processed: ({ partition, offset }) => outcomes.push(`${partition}@${offset}`),
    retrying: () => {},
    deadLettered: ({ partition, offset }) => outcomes.push(`dlq ${partition}@${offset}`),
  };
  const parts: ConsumeParts = {
    options, session, events, totals: new PartitionTotals(exactly), tally: new Tally(events),
    gate: new FlightGate(options.maxInFlight, stop.signal), stop: stop.signal, done: new DoneOffsets(), decoder: bareAvro,
    membership: { protocol: 'classic', instanceId: undefined },
  };
  return { parts, outcomes, stop };
}

/** Orders at `offsets` of `partition`, each of its own key, priced 1. */
export function orderRecords(partition: number, offsets: number[]): SourceRecord[] {
  const value = encodeOrder({ orderId: 'o-1', product: 'dock', price: 1, createdAt: 0 });
  return offsets.map((offset) => ({ topic: 'orders', partition, offset: String(offset), timestamp: '0', key: Buffer.from(`k${partition}-${offset}`), value, headers: {} }));
}

/** Resolves once `condition` holds, checked every few ms; fails after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs = 5_000, what = 'the condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether `promise` settled by the time the queued callbacks ran (a few turns of the loop). */
export async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => { settled = true; }, () => { settled = true; });
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
}
