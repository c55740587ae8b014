import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BIN, jsonLines, runCommand, runOrders, silentBroker, startOrders, uniqueName } from '../helpers.js';

const STACK_LINE = /^\s+at /m;

function assertOneLineError(run: { code: number | null; stdout: string; stderr: string }, code: number, message: RegExp): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  assert.match(lines[lines.length - 1] ?? '', message);
  assert.doesNotMatch(run.stderr, STACK_LINE);
}

describe('orders binary: bad input', () => {
  const cases: [string[], RegExp][] = [
    [['consume', '--fail-rate', '1.5'], /^orders: --fail-rate must be between 0 and 1, got 1\.5$/],
    [['consume', '--fail-rate', 'often'], /^orders: --fail-rate must be between 0 and 1, got often$/],
    [['produce', '--count', '-1'], /^orders: --count must be a whole number from 0 to \d+, got "-1"$/],
    [['produce', '--count', '2.5'], /^orders: --count must be a whole number/],
    [['consume', '--retries', 'x'], /^orders: --retries must be a whole number from 0 to 100, got "x"$/],
    [['produce', '--broker', ''], /^orders: --broker must be a comma-separated list of host:port/],
    [['produce', '--broker', 'localhost'], /^orders: --broker must be a comma-separated list of host:port/],
    [['dlq-tail', '--broker', 'a:1,b'], /^orders: --broker must be a comma-separated list of host:port/],
    [['produce', '--topic', 'no spaces'], /^orders: --topic must be a topic name/],
    [['prodcue'], /^orders: unknown command 'prodcue' \(Did you mean produce\?\)$/],
    [['consume', '--fail-rat', '0.1'], /^orders: unknown option '--fail-rat'/],
    [['stats', 'extra'], /^orders: too many arguments for 'stats'\. Expected 0 arguments but got 1\.$/],
    [['stats', '--bogus'], /^orders: unknown option '--bogus'$/],
    [['produce', '--report', 'all'], /^orders: --report must be one of each, summary, got "all"$/],
  ];
  for (const [args, message] of cases) {
    it(`orders ${args.join(' ')} exits 2 with one line`, async () => {
      const run = await runOrders(args);
      assertOneLineError(run, 2, message);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    });
  }

  it('rejects a malformed KAFKA_BROKERS, naming the variable', async () => {
    const run = await runOrders(['produce'], { env: { KAFKA_BROKERS: 'nope' } });
    assertOneLineError(run, 2, /^orders: KAFKA_BROKERS must be a comma-separated list of host:port/);
  });

  it('rejects an unknown LOG_LEVEL with exit 2, naming the variable and the levels (defect 7)', async () => {
    const run = await runOrders(['produce'], { env: { LOG_LEVEL: 'verbose' } });
    assertOneLineError(run, 2, /^orders: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
  });

  it('prints help and exits 0', async () => {
    const run = await runOrders(['consume', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /--fail-rate <0\.\.1>/);
  });
});

describe('orders binary: unreachable broker', () => {
  for (const command of ['produce', 'consume', 'dlq-tail', 'stats', 'dlq-replay']) {
    it(`${command} fails with exactly one line within its timeout instead of hanging (defect 9: at the default log level)`, async () => {
      const run = await runOrders([command, '--broker', '127.0.0.1:1', '--timeout-ms', '2000'], { env: { LOG_LEVEL: 'info' } });
      assertOneLineError(run, 1, /^orders: no answer from Kafka at 127\.0\.0\.1:1 within 2000 ms while .*; is the broker running\?$/);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
      assert.ok(run.elapsedMs < 8_000, `took ${Math.round(run.elapsedMs)} ms`);
    });
  }

  it('stops the spinner when produce fails on a terminal, so the process exits at once (defect 8)', async (t) => {
    // `script` gives the process a terminal, where the spinner runs; it used to hold the exit until the 3 s forced exit.
    const shell = `node ${BIN} produce --count 5000 --broker 127.0.0.1:1 --timeout-ms 500`;
    const run = await runCommand(t, 'script', ['-qec', shell, '/dev/null'], 20_000);
    assert.match(run.stdout, /orders: no answer from Kafka at 127\.0\.0\.1:1 within 500 ms/);
    assert.ok(run.elapsedMs < 2_900, `took ${Math.round(run.elapsedMs)} ms: something held the process after the error`);
  });

  it('stops at the first Ctrl-C while still connecting (defect 5)', async (t) => {
    const silent = await silentBroker(t);
    const consumer = startOrders(t, ['consume', '--broker', `127.0.0.1:${silent.port}`, '--timeout-ms', '60000']);
    await consumer.waitFor(() => silent.connections > 0, 10_000);
    consumer.child.kill('SIGINT');
    const run = await consumer.done;
    // It dies of the signal, as Unix programs do (a shell reports 130).
    assert.ok(run.signal === 'SIGINT' || run.code === 130, `code ${run.code} signal ${run.signal}: ${run.stderr}`);
    assert.match(run.stderr.trimEnd().split('\n').at(-1) ?? '', /^orders: interrupted while /);
    assert.ok(run.elapsedMs < 15_000, `took ${Math.round(run.elapsedMs)} ms`);
  });
});

describe('orders produce', () => {
  it('reports every acknowledged order and a summary', async () => {
    const topic = uniqueName('produce');
    const run = await runOrders(['produce', '--topic', topic, '--count', '25', '--seed', '3', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const events = jsonLines(run.stdout);
    const sent = events.filter((event) => event.event === 'sent');
    assert.equal(sent.length, 25);
    assert.ok(sent.every((event) => Number(event.offset) >= 0 && [0, 1, 2].includes(Number(event.partition))));
    assert.deepEqual(events.at(-1), { ...events.at(-1), event: 'summary', requested: 25, sent: 25, failed: 0, seed: 3 });
  });

  it('makes the same orders from the same seed', async () => {
    const ids = async () => {
      const run = await runOrders(['produce', '--topic', uniqueName('seeded'), '--count', '20', '--seed', '77', '--json']);
      return jsonLines(run.stdout).filter((event) => event.event === 'sent').map((event) => `${String(event.orderId)} ${String(event.price)}`).sort();
    };
    assert.deepEqual(await ids(), await ids());
  });

  it('prints human lines with partition and offset', async () => {
    const run = await runOrders(['produce', '--topic', uniqueName('human'), '--count', '3']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    for (const line of lines.slice(0, 3)) assert.match(line, /^Sent order: \{"orderId":".+","product":".+","price":[\d.]+,"createdAt":".+"\} \(partition \d, offset \d+\)$/);
    assert.match(lines[3] ?? '', /^Produced 3 of 3 orders to \S+ in [\d.]+ s \(\d+ orders\/s\), 0 failed, seed \d+$/);
  });
});
