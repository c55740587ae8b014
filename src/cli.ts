import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { consume } from './commands/consume.js';
import { dlqReplay } from './commands/dlq-replay.js';
import { dlqTail } from './commands/dlq-tail.js';
import { produce } from './commands/produce.js';
import { stats } from './commands/stats.js';
import { verify } from './commands/verify.js';
import type { FlagSet, RawFlags, RawValue } from './config/flag-kit.js';
import {
  consumeFlags, dlqReplayFlags, dlqTailFlags, parseConsumeOptions, parseDlqReplayOptions, parseDlqTailOptions, parseProduceOptions,
  parseStatsOptions, parseVerifyOptions, produceFlags, statsFlags, verifyFlags,
} from './config/flags.js';
import { boundHeapGrowth } from './heap-growth.js';
import { BadInputError, DeliveryError, InternalError, MismatchError, errorLines, exitCodeOf, messageOf } from './errors.js';
import { consumeView } from './output/consume-view.js';
import { dlqReplayView } from './output/dlq-replay-view.js';
import { dlqTailView } from './output/dlq-tail-view.js';
import { produceView } from './output/produce-view.js';
import { statsView } from './output/stats-view.js';
import { verifyView } from './output/verify-view.js';
import type { View } from './output/terminal.js';
import { run, type CommandSpec, type RunOptions } from './run.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const produceCommand: CommandSpec<ReturnType<typeof parseProduceOptions>, ReturnType<typeof produceView>> = {
  name: 'produce', description: 'send Avro-encoded orders: random ones, or those of a file of JSON lines (--input)', flags: produceFlags, parse: parseProduceOptions, clientId: 'orders-producer',
  view: (_options, term) => produceView(term),
  run: async (options, session, view, metrics) => {
    const summary = await produce(options, session, view, metrics);
    view.summary(summary, options.topic);
    const { stoppedAt } = summary;
    const where = stoppedAt === undefined ? undefined : `${summary.input ?? ''} line ${stoppedAt.line}: ${stoppedAt.reason}`;
    if (summary.failed > 0) {
      // Unknown orders may be in the topic: whoever sends them again must look there first, or write them twice.
      const fate = `${summary.sent} acknowledged, ${summary.refused} refused, ${summary.unknown} unknown${summary.unknown > 0 ? ', which may have been written: read the topic before sending them again' : ''}`;
      throw new DeliveryError(`${summary.failed} of ${summary.requested} orders were not acknowledged by the broker (${fate}): ${summary.firstError ?? 'unknown error'}${where === undefined ? '' : `; the input stopped at ${where}`}`);
    }
    if (where !== undefined) throw new BadInputError([`${where}; stopped there, after sending the ${summary.sent} orders before it`], false);
  },
};

const consumeCommand: CommandSpec<ReturnType<typeof parseConsumeOptions>, ReturnType<typeof consumeView>> = {
  name: 'consume', description: 'process orders with retries; move permanent failures to the dead-letter topic',
  flags: consumeFlags, parse: parseConsumeOptions, clientId: 'orders-consumer',
  view: (options, term, logger) => consumeView(term, options.dlqTopic, (line) => logger.info(line)),
  run: async (options, session, view, metrics) => view.summary(await consume(options, session, view, metrics)),
};

const dlqTailCommand: CommandSpec<ReturnType<typeof parseDlqTailOptions>, ReturnType<typeof dlqTailView>> = {
  name: 'dlq-tail', description: 'show the dead letters, decoded, with why they got there',
  flags: dlqTailFlags, parse: parseDlqTailOptions, clientId: 'orders-dlq-tail',
  view: (options, term) => dlqTailView(term, options.dlqTopic),
  run: async (options, session, view) => view.summary(await dlqTail(options, session, view)),
};

const statsCommand: CommandSpec<ReturnType<typeof parseStatsOptions>, ReturnType<typeof statsView>> = {
  name: 'stats', description: 'exact total_price, count and avg of a consumer group, from the aggregates topic',
  flags: statsFlags, parse: parseStatsOptions, clientId: 'orders-stats',
  view: (options, term) => statsView(term, options.byPartition, options.lag),
  run: async (options, session, view) => view.show(await stats(options, session)),
};

const verifyCommand: CommandSpec<ReturnType<typeof parseVerifyOptions>, ReturnType<typeof verifyView>> = {
  name: 'verify', description: 'audit a group: does stats equal the orders its offsets passed, less their dead letters? exit 0 exact, 1 not',
  flags: verifyFlags, parse: parseVerifyOptions, clientId: 'orders-verify',
  view: (_options, term) => verifyView(term),
  run: async (options, session, view) => {
    const result = await verify(options, session);
    view.show(result);
    if (result.problems.length > 0) throw new MismatchError(`group ${options.group} is not exact: ${result.problems.join('; ')}`);
  },
};

const dlqReplayCommand: CommandSpec<ReturnType<typeof parseDlqReplayOptions>, ReturnType<typeof dlqReplayView>> = {
  name: 'dlq-replay', description: 'send dead letters back to their topic, each at most once per replay group',
  flags: dlqReplayFlags, parse: parseDlqReplayOptions, clientId: 'orders-dlq-replay',
  view: (options, term) => dlqReplayView(term, options.dryRun),
  run: async (options, session, view, metrics) => view.summary(await dlqReplay(options, session, view, metrics)),
};

/** commander options from a flag table; the table's defaults show in --help, commander holds none. */
function withFlags(command: Command, flags: FlagSet): Command {
  for (const flag of Object.values(flags)) {
    const option = new Option(flag.syntax, flag.shownDefault === undefined ? flag.help : `${flag.help} (default: ${flag.shownDefault})`);
    if (flag.repeatable === true) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    command.addOption(option);
  }
  return command;
}

/** commander's values keyed like the flag table, whatever attribute name commander gave each. */
export function rawFlags(flags: FlagSet, values: Record<string, unknown>): RawFlags {
  const raw: RawFlags = {};
  for (const [key, flag] of Object.entries(flags)) {
    const value = values[new Option(flag.syntax).attributeName()];
    const isList = Array.isArray(value) && value.every((item) => typeof item === 'string');
    if (value !== undefined && typeof value !== 'string' && typeof value !== 'boolean' && !isList) throw new InternalError(`flag ${flag.syntax} came as ${typeof value}`);
    raw[key] = value as RawValue;
  }
  return raw;
}

/** Commander's own error (`error: unknown option '--bogus'`, with its suggestion) in the tool's one-line form. */
export function commanderLine(text: string): string {
  return `orders: ${text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}\n`;
}

export function program(writeError: (line: string) => void = (line) => process.stderr.write(line)): Command {
  const cli = new Command('orders')
    .description('Stream orders through Apache Kafka: Avro, bounded retries and a dead-letter topic.')
    .version(version)
    .showSuggestionAfterError()
    // Commander's error and its suggestion as one `orders: ...` line, like every other error of this tool.
    .configureOutput({ outputError: (text) => writeError(commanderLine(text)) })
    .exitOverride();
  const specs = [produceCommand, consumeCommand, dlqTailCommand, statsCommand, dlqReplayCommand, verifyCommand] as CommandSpec<RunOptions, View>[];
  for (const spec of specs) {
    withFlags(cli.command(spec.name).description(spec.description), spec.flags)
      .action((values: Record<string, unknown>) => run(spec, rawFlags(spec.flags, values)));
  }
  for (const command of cli.commands) command.exitOverride().configureOutput(cli.configureOutput());
  return cli;
}

/** Runs the CLI on `argv`; returns the exit code, having printed any error as one line. */
export async function main(argv: string[], writeError: (line: string) => void = (line) => process.stderr.write(line)): Promise<number> {
  try {
    await program(writeError).parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander has already printed its one-line message (or the help / version text).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    for (const line of errorLines(error)) writeError(`orders: ${line}\n`);
    if (process.env.LOG_LEVEL === 'debug' && error instanceof Error) writeError(`${error.stack ?? ''}\n`);
    return exitCodeOf(error);
  }
}

/** True when this process was started as the `orders` binary, not imported by a test. */
export function isMain(argv1: string | undefined = process.argv[1]): boolean {
  if (argv1 === undefined) return false;
  const started = realpathSync(argv1);
  const bin = fileURLToPath(new URL('../../bin/orders.js', import.meta.url));
  return started === realpathSync(bin) || started === fileURLToPath(import.meta.url);
}

if (isMain()) {
  // A reader that went away (`orders dlq-tail | head`) ends the output, not with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  // A promise nobody awaited failed: a bug, but it still gets one line and exit code 1, not a stack trace.
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`orders: internal error: ${messageOf(error)}\n`);
    process.exit(1);
  });
  boundHeapGrowth();
  const code = await main(process.argv);
  // Interrupted: die of the signal as Unix programs do. That is also immediate, where an exit would
  // wait in librdkafka's teardown for requests still out (up to their timeout with a silent broker).
  if (code === 130 || code === 143) process.kill(process.pid, code === 130 ? 'SIGINT' : 'SIGTERM');
  // Exit once what was written reached the pipes: clients left behind by a failed step must not hold the process.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
  process.exit(code);
}
