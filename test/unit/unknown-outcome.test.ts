import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { exactlyOnce } from '../../src/consume/exactly-once.js';
import type { CommittedOffset } from '../../src/kafka/consumer/native-consumer.js';
import { fakeParts, fakeSession, orderRecords, waitUntil, type FakeProducer } from '../fake-session.js';

const { ERR__FENCED } = kafkaJavascript.CODES.ERRORS;

// A commit that failed and says nothing of its outcome, then an abort that failed too: the producer is let go of.
const noAnswer = Object.assign(new Error('Local: Timed out'), { code: -1 });

/**
 * An exactly-once consume of partitions 0 and 1, restored from no commit, whose every order is
 * dead-lettered: one order of each is read before the first transaction, which `script` sets up.
 */
async function deadLettering(script: (producer: FakeProducer, run: Run) => void, timeoutMs = 1_000): Promise<Run> {
  const log: string[] = [];
  const fake = fakeSession(log, timeoutMs);
  fake.consumer.answer = (partitions) => partitions.map((partition) => ({ partition, offset: -1, metadata: undefined }));
  const made = fakeParts(fake.session, true, { failRate: '1', retries: '0' });
  const mode = exactlyOnce(made.parts);
  const run = { ...fake, ...made, mode, log };
  await mode.rebalance.assigned?.([0, 1]);
  await mode.handle(orderRecords(0, [0]), () => false);
  await mode.handle(orderRecords(1, [0]), () => false);
  // The first producer is made (and scripted) as the consume starts; its first commit is on the tick.
  const connecting = mode.start();
  await waitUntil(() => fake.producers.length === 1);
  script(fake.producers[0] as FakeProducer, run);
  await connecting;
  return run;
}
type Run = ReturnType<typeof fakeSession> & ReturnType<typeof fakeParts> & { mode: ReturnType<typeof exactlyOnce>; log: string[] };

// What `producer` wrote for each partition, as the group's committed offsets show it once it landed.
function asWritten(producer: FakeProducer, partitions: number[], otherwise: (partition: number) => CommittedOffset): CommittedOffset[] {
  return partitions.map((partition) => {
    const wrote = producer.offsets.find((entry) => entry.partition === partition);
    return wrote === undefined ? otherwise(partition) : { partition, offset: wrote.offset, metadata: wrote.metadata };
  });
}

async function closed({ mode }: Run): Promise<void> {
  await mode.drain();
  await mode.settle();
}

describe('a transaction whose outcome is unknown (issue 25, point 5)', () => {
  it('is fenced first, then judged partition by partition: not sent again when it landed though another owner moved a partition on', async () => {
    const run = await deadLettering((failing, { consumer }) => {
      failing.commitFails = noAnswer;
      failing.abortFails = noAnswer;
      // It did land; partition 1 was moved on since by another owner.
      consumer.answer = (partitions) => asWritten(failing, partitions.filter((partition) => partition === 0), () => assert.fail())
        .concat(partitions.includes(1) ? [{ partition: 1, offset: 7, metadata: undefined }] : []);
    });
    await waitUntil(() => run.outcomes.length === 2, 5_000, 'the dead letters counted');
    await closed(run);
    assert.deepEqual(run.outcomes.sort(), ['dlq 0@0', 'dlq 1@0']);
    assert.deepEqual(run.producers.flatMap((producer) => producer.deadLetters).sort(), ['k0-0', 'k1-0'], 'no dead letter sent twice');
    // The new producer's initTransactions ended the open transaction before the offsets were read.
    const { log } = run;
    const fenced = log.indexOf('producer 2 initTransactions');
    const checked = log.findIndex((line, at) => at > log.indexOf('producer 1 abort') && line.startsWith('committed'));
    assert.ok(fenced >= 0 && fenced < checked, log.join('\n'));
  });

  it('leaves out a partition lost since: only the owned ones are read', async () => {
    const run = await deadLettering((failing, { consumer, mode }) => {
      failing.commitFails = noAnswer;
      failing.abortFails = noAnswer;
      // Partition 1 is lost while the transaction fails (its session expired meanwhile).
      failing.onAbort = async () => { await mode.rebalance.revoking?.([1], true); };
      consumer.answer = (partitions) => asWritten(failing, partitions, (partition) => ({ partition, offset: -1, metadata: undefined }));
    });
    await waitUntil(() => run.outcomes.length >= 1, 5_000, 'the dead letter counted');
    await closed(run);
    const { log } = run;
    assert.deepEqual(log.slice(log.indexOf('producer 1 abort')).filter((line) => line.startsWith('committed')), ['committed 0']);
    assert.deepEqual(run.outcomes, ['dlq 0@0']);
  });

  it('disconnects a producer left behind with a stuck call once that call came back', async () => {
    let release = (): void => {};
    let stuck: FakeProducer | undefined;
    const run = await deadLettering((producer) => {
      stuck = producer;
      producer.sendOffsetsHangs = new Promise((resolve) => { release = resolve; });
      // Fenced by its successor: what it still does fails.
      producer.commitFails = Object.assign(new Error('Local: This instance has been fenced by a newer instance'), { code: ERR__FENCED });
    }, 50);
    await waitUntil(() => run.outcomes.length === 2, 5_000, 'a new producer committed the dead letters');
    release();
    await closed(run);
    assert.equal(stuck?.disconnected, true, 'the producer left behind is disconnected');
    assert.equal(run.producers.at(-1)?.disconnected, true, 'the last producer is disconnected');
  });
});
