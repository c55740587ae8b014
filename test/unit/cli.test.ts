import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option } from 'commander';
import { isMain, main, program, rawFlags } from '../../src/cli.js';
import { consumeFlags, dlqReplayFlags, dlqTailFlags, produceFlags, statsFlags } from '../../src/config/flags.js';
import { AggregatesGapError, BrokerError, InterruptedError, UsageError, exitCodeOf } from '../../src/errors.js';

describe('the CLI module', () => {
  it('can be imported without running', () => {
    assert.equal(isMain(), false);
  });

  it('maps errors to exit codes: 2 for usage, 130/143 for a signal, 1 for the rest', () => {
    assert.equal(exitCodeOf(new UsageError('bad flag')), 2);
    assert.equal(exitCodeOf(new InterruptedError('interrupted', 'SIGINT')), 130);
    assert.equal(exitCodeOf(new InterruptedError('interrupted', 'SIGTERM')), 143);
    assert.equal(exitCodeOf(new BrokerError('no answer')), 1);
    assert.equal(exitCodeOf(new AggregatesGapError('gap')), 1);
    assert.equal(exitCodeOf(new TypeError('bug')), 1);
  });

  it('gives commander\'s own errors the tool\'s one-line form and exit 2', async () => {
    for (const [args, expected] of [
      [['stats', 'extra'], "orders: too many arguments for 'stats'. Expected 0 arguments but got 1.\n"],
      [['stats', '--bogus'], "orders: unknown option '--bogus'\n"],
      [['prodcue'], "orders: unknown command 'prodcue' (Did you mean produce?)\n"],
    ] as const) {
      const lines: string[] = [];
      const code = await main(['node', 'orders', ...args], (line) => lines.push(line));
      assert.equal(code, 2, args.join(' '));
      assert.deepEqual(lines, [expected]);
    }
  });

  it('returns 2 and writes one line for a bad flag, before any broker is asked', async () => {
    const lines: string[] = [];
    const code = await main(['node', 'orders', 'consume', '--fail-rate', '2'], (line) => lines.push(line));
    assert.equal(code, 2);
    assert.deepEqual(lines, ['orders: --fail-rate must be between 0 and 1, got 2\n']);
  });

  it('checks a whole --input file before any broker is asked: each bad line, then how many more, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orders-cli-'));
    try {
      const file = join(dir, 'orders.jsonl');
      const good = JSON.stringify({ orderId: 'a', product: 'desk', price: 1, createdAt: 0 });
      writeFileSync(file, [good, ...Array.from({ length: 12 }, (_, i) => good.replace('"price":1', `"price":"${i},50"`))].join('\n'));
      const lines: string[] = [];
      // A port nobody answers on, and a long timeout: only a check before connecting ends this at once.
      const started = performance.now();
      const code = await main(['node', 'orders', 'produce', '--input', file, '--broker', '127.0.0.1:1', '--timeout-ms', '60000'], (line) => lines.push(line));
      assert.equal(code, 2);
      assert.ok(performance.now() - started < 5_000);
      assert.equal(lines.length, 11);
      assert.equal(lines[0], `orders: ${file} line 2: price must be a number, got "0,50"\n`);
      assert.equal(lines[9], `orders: ${file} line 11: price must be a number, got "9,50"\n`);
      assert.equal(lines[10], 'orders: ... and 2 more bad lines\n');
      const missing: string[] = [];
      assert.equal(await main(['node', 'orders', 'produce', '--input', join(dir, 'nothere.jsonl'), '--broker', '127.0.0.1:1'], (line) => missing.push(line)), 2);
      assert.deepEqual(missing, [`orders: --input ${join(dir, 'nothere.jsonl')} cannot be read: no such file or directory (ENOENT)\n`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads every flag of the tables under the name commander gives it', () => {
    for (const flags of [produceFlags, consumeFlags, dlqTailFlags, statsFlags, dlqReplayFlags]) {
      const values: Record<string, string> = {};
      for (const flag of Object.values(flags)) values[new Option(flag.syntax).attributeName()] = flag.syntax;
      const raw = rawFlags(flags, values);
      for (const [key, flag] of Object.entries(flags)) assert.equal(raw[key], flag.syntax, key);
    }
  });

  it('declares each command\'s flags once, from its table', () => {
    const commands = new Map(program().commands.map((command) => [command.name(), command.options.map((option) => option.long)]));
    const tables = { produce: produceFlags, consume: consumeFlags, 'dlq-tail': dlqTailFlags, stats: statsFlags, 'dlq-replay': dlqReplayFlags };
    for (const [name, flags] of Object.entries(tables)) {
      assert.deepEqual(commands.get(name), Object.values(flags).map((flag) => new Option(flag.syntax).long), name);
    }
  });
});
