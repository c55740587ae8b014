import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '@confluentinc/kafka-javascript';
import type { NativeConsumer } from '../../src/kafka/consumer/native-consumer.js';
import { readTopic } from '../../src/kafka/consumer/reader.js';
import type { SourceRecord } from '../../src/kafka/record.js';
import type { KafkaSession } from '../../src/kafka/session.js';

const TOPIC = 'orders';

function sessionFor(end: number): KafkaSession {
  return {
    log: { readingAs: () => {} },
    // --exit-at-end asks the group about the whole topic: nobody else holds anything here.
    admin: {
      topicOffsets: async () => new Map([[0, { low: 0, high: end }]]),
      describeGroup: async () => ({ state: 'Stable', members: [] }),
    },
    connect: async (client: { connect: () => Promise<void> }) => client.connect(),
    steps: { run: async (_what: string, step: () => Promise<void>) => step(), throwIfFailed: () => {} },
    signal: new AbortController().signal,
    failed: new AbortController().signal,
    logger: { debug: () => {}, warn: () => {} },
    timeoutMs: 1_000,
  } as unknown as KafkaSession;
}

function message(offset: number): Message {
  return { topic: TOPIC, partition: 0, offset, value: Buffer.from('x'), size: 1, key: null, timestamp: 0 } as unknown as Message;
}

/** One partition of `end` records, all fetched in the first batch; records what the reader asks of it. */
function fakeConsumer(end: number): { consumer: NativeConsumer; calls: string[]; consumes: () => number } {
  const calls: string[] = [];
  let consumes = 0;
  let assigned = false;
  const consumer = {
    connect: async () => {},
    subscribe: () => {},
    disconnect: async () => { calls.push('disconnect'); },
    takeRebalance: () => {
      if (assigned) return undefined;
      assigned = true;
      return { kind: 'assign', partitions: [{ topic: TOPIC, partition: 0 }], lost: false };
    },
    finish: () => {},
    assignment: () => (assigned ? [0] : []),
    pause: (_topic: string, partitions: number[]) => calls.push(`pause ${partitions.join(',')}`),
    resume: (_topic: string, partitions: number[]) => calls.push(`resume ${partitions.join(',')}`),
    seek: async () => { calls.push('seek'); },
    // --exit-at-end asks the group's committed offsets through this consumer: none committed here.
    committed: async () => [],
    consume: async () => {
      consumes++;
      calls.push('consume');
      // Everything in the first batch, then the partition's end: a paused partition brings nothing more.
      if (consumes === 1) return { messages: Array.from({ length: end }, (_, offset) => message(offset)), ends: [] };
      return { messages: [], ends: [{ topic: TOPIC, partition: 0, offset: end }] };
    },
  } as unknown as NativeConsumer;
  return { consumer, calls, consumes: () => consumes };
}

describe('the reader (issue 25, point 1)', () => {
  it('pauses a partition the handler has no room for, keeps polling, offers its records again in order, and resumes once all are taken', async () => {
    const end = 10;
    const { consumer, calls, consumes } = fakeConsumer(end);
    const offered: string[][] = [];
    let room = 4;
    let pollsWhileFull = 0;
    await readTopic(sessionFor(end), { topic: TOPIC, group: 'g', consumer, commit: false, exitAtEnd: true }, async (records: SourceRecord[]) => {
      offered.push(records.map(({ offset }) => offset));
      // Room comes back only after a few more polls: the loop must go on meanwhile.
      if (room === 0 && ++pollsWhileFull >= 3) room = end;
      const taken = Math.min(room, records.length);
      room -= taken;
      return taken;
    });
    assert.deepEqual(offered[0], ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.ok(offered.slice(1).every((batch) => batch[0] === '4' && batch.length === 6), `the rest, from offset 4, each time: ${JSON.stringify(offered)}`);
    assert.deepEqual(calls.slice(0, 5), ['consume', 'pause 0', 'consume', 'consume', 'resume 0'], 'paused once, polled on meanwhile, resumed once, never sought back');
    // Then it only polls while --exit-at-end asks the group (in the background) whether the whole topic is done.
    assert.deepEqual(calls.slice(5), [...Array.from({ length: consumes() - 3 }, () => 'consume'), 'disconnect']);
  });
});
