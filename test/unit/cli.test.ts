import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Option } from 'commander';
import { isMain, main, program, rawFlags } from '../../src/cli.js';
import { consumeFlags, dlqReplayFlags, dlqTailFlags, produceFlags, statsFlags } from '../../src/config.js';
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

  it('returns 2 and writes one line for a bad flag, before any broker is asked', async () => {
    const lines: string[] = [];
    const code = await main(['node', 'orders', 'consume', '--fail-rate', '2'], (line) => lines.push(line));
    assert.equal(code, 2);
    assert.deepEqual(lines, ['orders: --fail-rate must be between 0 and 1, got 2\n']);
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
