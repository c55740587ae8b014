import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failsAttempt } from '../../src/processing/simulated-failure.js';
import { jsonLines, readAll, runOrders, startOrders, uniqueName } from '../helpers.js';

async function produceOrders(topic: string, count: number, seed: number): Promise<Map<string, number>> {
  const run = await runOrders(['produce', '--topic', topic, '--count', String(count), '--seed', String(seed), '--json', '--report', 'each']);
  assert.equal(run.code, 0, run.stderr);
  return new Map(jsonLines(run.stdout).filter((event) => event.event === 'sent').map((event) => [String(event.orderId), Math.round(Number(event.price) * 100)]));
}

const produceIds = async (topic: string, count: number, seed: number): Promise<string[]> => [...(await produceOrders(topic, count, seed)).keys()];

for (const guarantee of ['exactly-once', 'at-least-once']) describe(`orders consume --guarantee ${guarantee} survives being stopped`, () => {
  it('killed with SIGKILL while orders are backing off, then restarted: every order ends succeeded or dead-lettered, none committed is run again', async (t) => {
    const topic = uniqueName('crash');
    const dlq = `${topic}-dlq`;
    const group = `${topic}-group`;
    const seed = 8;
    const prices = await produceOrders(topic, 2000, 505);
    const ids = [...prices.keys()];
    const retries = 5;
    const backoffMs = 600;
    const flags = ['consume', '--guarantee', guarantee, '--topic', topic, '--dlq-topic', dlq, '--group', group, '--json', '--fail-rate', '0.3', '--seed', String(seed),
      '--retries', String(retries), '--backoff-ms', String(backoffMs),
      // Exactness through a kill is the subject: the classic protocol's 10 s session keeps the restart short
      // (a KIP-848 group waits for the broker's 45 s; availability.test.ts and cluster.test.ts cover that).
      '-X', 'group.protocol=classic'];
    // Work certainly remains at the kill, by construction: the decisions are a pure function of (seed, orderId,
    // attempt), so the slowest order is known, and it cannot end before its backoffs (each at least half its delay).
    const failures = (id: string): number => {
      let failed = 0;
      while (failed <= retries && failsAttempt(seed, id, failed + 1, 0.3)) failed++;
      return failed;
    };
    const slowest = Math.max(...ids.map(failures));
    const slowestMinMs = Array.from({ length: Math.min(slowest, retries) }, (_, retry) => (backoffMs * 2 ** retry) / 2).reduce((sum, ms) => sum + ms, 0);
    assert.ok(slowestMinMs >= 9_000, `the slowest order needs only ${slowestMinMs} ms of backoff`);

    const first = startOrders(t, flags);
    const started = performance.now();
    await first.waitFor((p) => p.events().filter((event) => event.event === 'order').length >= 300, 60_000);
    const killedAfterMs = performance.now() - started;
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(killedAfterMs < slowestMinMs, `the kill came ${Math.round(killedAfterMs)} ms after the start, when the slowest order (${slowestMinMs} ms of backoff) may have ended`);
    t.diagnostic(`killed ${Math.round(killedAfterMs)} ms after the start; the slowest order fails ${slowest} times and needs at least ${slowestMinMs} ms`);
    const firstEvents = jsonLines(killed.stdout.slice(0, killed.stdout.lastIndexOf('\n') + 1));

    const second = await runOrders([...flags, '--exit-at-end'], { timeoutMs: 180_000 });
    assert.equal(second.code, 0, second.stderr);
    const secondEvents = jsonLines(second.stdout);
    const endedIn = (events: typeof firstEvents): string[] => events.filter((event) => event.event === 'order' || event.event === 'dlq').map((event) => String(event.orderId));
    if (guarantee === 'exactly-once') {
      // Exactly-once prints an order once its transaction committed it, also above a slower order of its partition.
      const again = endedIn(secondEvents).filter((id) => new Set(endedIn(firstEvents)).has(id));
      assert.deepEqual(again, [], `${again.length} orders committed before the kill were run again after it`);
    }

    const succeeded = new Set([...firstEvents, ...secondEvents].filter((event) => event.event === 'order').map((event) => String(event.orderId)));
    const expectedDead = ids.filter((id) => failures(id) > retries);
    // At least once: a dead letter acknowledged just before the kill may be written again after it.
    const letters = await readAll(dlq, expectedDead.length, { atLeast: guarantee === 'at-least-once' });
    const deadLettered = new Set(letters.map((letter) => letter.key?.toString() ?? ''));

    const lost = ids.filter((id) => !succeeded.has(id) && !deadLettered.has(id));
    // Exactly-once prints an order only after its transaction commits, so a kill between the commit and the
    // print leaves committed orders unprinted: there, the stats below are the proof that none was lost.
    if (guarantee === 'at-least-once') assert.deepEqual(lost, [], `${lost.length} orders were lost`);
    assert.deepEqual([...deadLettered].sort(), [...expectedDead].sort());
    assert.ok([...succeeded].every((id) => !deadLettered.has(id)), 'an order both succeeded and was dead-lettered');
    if (guarantee === 'exactly-once') {
      const stats = await runOrders(['stats', '--group', group, '--topic', topic, '--json']);
      assert.equal(stats.code, 0, stats.stderr);
      const [figures] = jsonLines(stats.stdout);
      const alive = ids.filter((id) => !expectedDead.includes(id));
      assert.equal(figures?.count, alive.length);
      assert.equal(Math.round(Number(figures?.total_price) * 100), alive.reduce((sum, id) => sum + (prices.get(id) ?? 0), 0));
    }
  });

  it('stops cleanly on SIGTERM: commits what it processed and prints the summary', async (t) => {
    const topic = uniqueName('sigterm');
    const group = `${topic}-group`;
    const flags = ['consume', '--guarantee', guarantee, '--topic', topic, '--dlq-topic', `${topic}-dlq`, '--group', group, '--json', '--fail-rate', '0'];
    await produceIds(topic, 150, 606);

    const consumer = startOrders(t, flags);
    await consumer.waitFor((p) => p.events().filter((event) => event.event === 'order').length === 150, 60_000);
    consumer.child.kill('SIGTERM');
    const stopped = await consumer.done;
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.deepEqual({ ...jsonLines(stopped.stdout).at(-1), total_price: 0, avg: 0, seed: 0 }, { event: 'summary', processed: 150, succeeded: 150, dlq: 0, count: 150, total_price: 0, avg: 0, seed: 0 });

    // Everything was committed: the same group finds nothing left to do.
    const again = await runOrders([...flags, '--exit-at-end']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(jsonLines(again.stdout).map((event) => event.event), ['summary']);
  });
});
