import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failsAttempt } from '../../src/processing/simulated-failure.js';
import { FAIL_RATE, RETRIES, assertExact, consumeFlags, expectation, names, statsOf } from '../exactness.js';
import { eventually, jsonLines, readAll, runOrders, startOrders, uniqueName } from '../helpers.js';

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
      // The default group protocol, as a user runs it.
      '--retries', String(retries), '--backoff-ms', String(backoffMs)];
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

/** The partitions a consumer holds by its own log (info level): each assignment adds, each revoke removes. */
function held(stderr: string, topic: string): Set<number> {
  const partitions = new Set<number>();
  for (const found of stderr.matchAll(new RegExp(`"msg":"(assigned|revoked) ${topic} partitions ([0-9, ]+)"`, 'g'))) {
    for (const partition of (found[2] ?? '').split(', ').map(Number)) {
      if (found[1] === 'assigned') partitions.add(partition);
      else partitions.delete(partition);
    }
  }
  return partitions;
}

describe('orders consume --exit-at-end reads the whole topic in its group', () => {
  // The default protocol, as a user runs it; and KIP-848's, where a dead member keeps its partitions for
  // the broker's 45 s session, which the client cannot lower: there the run ended with them unread.
  for (const protocol of [undefined, 'consumer']) it(`after a member was SIGKILLed (${protocol ?? 'default'} group protocol): waits for the partitions the dead member still holds, reads them once they are handed over, and ends exact`, async (t) => {
    const n = names('dead-member');
    const seed = 25;
    const made = await runOrders(['produce', '--topic', n.topic, '--count', '1200', '--seed', '2525', '--partitions', '6', '--json', '--report', 'each'], { timeoutMs: 120_000 });
    assert.equal(made.code, 0, made.stderr);
    const sent = jsonLines(made.stdout).filter((event) => event.event === 'sent');
    const expected = expectation(sent, seed);
    // Backoffs and room for every order: an order that fails twice needs at least 4 + 8 s of backoff (each
    // at least half its delay), and every partition has one, so a member killed sooner after its first
    // assignment leaves work in each of its partitions, by construction.
    const backoffMs = 8_000;
    const slowestMinMs = Array.from({ length: RETRIES }, (_, retry) => (backoffMs * 2 ** retry) / 2).reduce((sum, ms) => sum + ms, 0);
    const failsTwice = (id: string): boolean => failsAttempt(seed, id, 1, FAIL_RATE) && failsAttempt(seed, id, 2, FAIL_RATE);
    assert.equal(new Set(sent.filter((event) => failsTwice(String(event.orderId))).map((event) => Number(event.partition))).size, 6, 'every partition has an order that fails twice');
    const flags = [...consumeFlags(n, seed).map((flag, i, all) => (all[i - 1] === '--backoff-ms' ? String(backoffMs) : all[i - 1] === '--max-in-flight' ? '2000' : flag)),
      '--guarantee', 'exactly-once', ...(protocol === undefined ? [] : ['-X', `group.protocol=${protocol}`])];
    const info = { LOG_LEVEL: 'info' };

    const doomed = startOrders(t, flags, info);
    const survivor = startOrders(t, flags, info);
    // Settled: the two hold the six partitions between them.
    await doomed.waitFor((p) => {
      const [mine, theirs] = [held(p.stderr, n.topic), held(survivor.stderr, n.topic)];
      return mine.size > 0 && theirs.size > 0 && new Set([...mine, ...theirs]).size === 6 && mine.size + theirs.size === 6;
    }, 60_000);
    doomed.child.kill('SIGKILL');
    // From the log's own clock: no record of it was read before its first assignment.
    const assignedAt = Number(/\{"level":30,"time":(\d+),"msg":"assigned /.exec(doomed.stderr)?.[1]);
    const killedAfterMs = Date.now() - assignedAt;
    assert.equal((await doomed.done).signal, 'SIGKILL');
    assert.ok(killedAfterMs < slowestMinMs, `the kill came ${Math.round(killedAfterMs)} ms after the assignment, when the slowest orders (${slowestMinMs} ms of backoff) may have ended`);
    const survivorHeld = held(survivor.stderr, n.topic);
    t.diagnostic(`killed ${Math.round(killedAfterMs)} ms after its first assignment, holding partitions ${[...held(doomed.stderr, n.topic)].join(', ')}`);
    // The survivor finishes what it holds and stops, or stops as soon as it is handed a dead member's partition
    // (classic, after 10 s), so work is left in those. Under KIP-848 the dead member keeps its partitions for
    // the broker's 45 s session: that is where the run below used to end early with them unread.
    await eventually(async () => {
      if ([...held(survivor.stderr, n.topic)].some((p) => !survivorHeld.has(p))) return true;
      const lags = await runOrders(['stats', '--group', n.group, '--topic', n.topic, '--aggregates-topic', n.aggregates, '--json', '--lag']);
      return jsonLines(lags.stdout).filter((line) => line.event === 'partition' && survivorHeld.has(Number(line.partition))).every((line) => line.lag === 0);
    }, 90_000, () => survivor.stderr.slice(-1500));
    survivor.child.kill('SIGTERM');
    assert.equal((await survivor.done).code, 0, survivor.stderr);
    const before = await statsOf(n);
    assert.ok(before.count < expected.count, `work remains: ${before.count} of ${expected.count}`);

    const last = await runOrders([...flags, '--exit-at-end'], { timeoutMs: 240_000, env: info });
    assert.equal(last.code, 0, last.stderr);
    const waits = last.stderr.split('\n').filter((line) => line.includes('--exit-at-end: waiting for'));
    t.diagnostic(`the --exit-at-end run took ${Math.round(last.elapsedMs)} ms; ${waits.length} waiting lines, the first: ${waits[0] ?? 'none'}`);
    t.diagnostic(await assertExact(n, expected));
  });

  // Both protocols: each tells a member that it was given nothing in its own way.
  for (const protocol of ['classic', 'consumer']) it(`ends when it holds no partition (more members than partitions, ${protocol} group protocol), once the member holding it committed to the end`, async (t) => {
    const topic = uniqueName('no-partition');
    const flags = ['consume', '--topic', topic, '--dlq-topic', `${topic}-dlq`, '--group', `${topic}-group`, '--fail-rate', '0', '--json', '-X', `group.protocol=${protocol}`];
    const made = await runOrders(['produce', '--topic', topic, '--count', '200', '--seed', '2526', '--partitions', '1']);
    assert.equal(made.code, 0, made.stderr);
    const holder = startOrders(t, flags);
    await holder.waitFor((p) => p.events().filter((event) => event.event === 'order').length === 200, 60_000);

    // The one partition stays with its holder (sticky), or the run ends before it is even assigned one.
    const idle = await runOrders([...flags, '--exit-at-end'], { timeoutMs: 60_000, env: { LOG_LEVEL: 'info' } });
    assert.equal(idle.code, 0, idle.stderr);
    assert.deepEqual(jsonLines(idle.stdout).map((event) => [event.event, event.processed]), [['summary', 0]]);
    holder.child.kill('SIGTERM');
    assert.equal((await holder.done).code, 0, holder.stderr);
  });
});
