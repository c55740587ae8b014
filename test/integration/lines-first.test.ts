import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { names } from '../exactness.js';
import { BROKERS, committedOffsets, eventually, jsonLines, offsetsOf, runOrders, startOrders } from '../helpers.js';

const COUNT = 3_000;
const PARTITIONS = [0, 1, 2];

describe('an order\'s line before its commit (at-least-once, real broker)', () => {
  it('commits no order whose line is still queued in the process for a slow reader: a SIGKILL then loses no committed order\'s line', async (t) => {
    const n = names('lines-first');
    const produced = await runOrders(['produce', '--topic', n.topic, '--count', String(COUNT), '--seed', '4101', '--partitions', '3', '--report', 'summary']);
    assert.equal(produced.code, 0, produced.stderr);
    const flags = ['consume', '--topic', n.topic, '--dlq-topic', n.dlq, '--group', n.group, '--guarantee', 'at-least-once', '--fail-rate', '0', '--json'];
    const consumer = startOrders(t, flags, { LOG_LEVEL: 'info' });
    // The test reads nothing: 3,000 lines of about 270 bytes are far more than a pipe's 64 KB, so most of
    // them wait inside the consumer, by construction.
    consumer.child.stdout?.pause();
    const committed = async (): Promise<Map<number, number>> => offsetsOf(await committedOffsets(BROKERS, n.group, n.topic, PARTITIONS));
    const sum = (offsets: Map<number, number>): number => [...offsets.values()].reduce((total, offset) => total + Math.max(0, offset), 0);
    await eventually(() => /"assigned [^"]* partitions 0, 1, 2"/.test(consumer.stderr), 60_000, () => `never assigned; stderr: ${consumer.stderr.slice(-500)}`);
    // Three ticks of the 1 s commit: the old code committed every order it processed meanwhile, lines or not.
    await sleep(3_000);
    const before = await committed();
    consumer.child.kill('SIGKILL');
    consumer.child.stdout?.resume();
    const run = await consumer.done;
    assert.equal(run.signal, 'SIGKILL');
    const after = await committed();
    assert.deepEqual(after, before, 'nothing committed after the kill');
    const lined = new Set(jsonLines(run.stdout.slice(0, run.stdout.lastIndexOf('\n') + 1))
      .filter((event) => event.event === 'order' && event.status === 'ok')
      .map((event) => `${String(event.partition)}@${String(event.offset)}`));
    const unlined: string[] = [];
    for (const [partition, next] of after) for (let offset = 0; offset < next; offset++) if (!lined.has(`${partition}@${offset}`)) unlined.push(`${partition}@${offset}`);
    assert.deepEqual(unlined.slice(0, 10), [], `${unlined.length} committed orders have no line (of ${sum(after)} committed, ${lined.size} lines out)`);
    // What was not committed is read again: a slow reader delays commits, it loses nothing.
    const again = await runOrders([...flags, '--exit-at-end']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sum(await committed()), COUNT);
    t.diagnostic(`committed ${JSON.stringify([...after])} (${sum(after)} of ${COUNT}) with the reader stopped; ${lined.size} order lines had left the consumer when it was killed; a second consumer committed the rest`);
  });
});
