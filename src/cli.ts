import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { consume } from './commands/consume.js';
import { dlqReplay } from './commands/dlq-replay.js';
import { dlqTail } from './commands/dlq-tail.js';
import { produce } from './commands/produce.js';
import { stats } from './commands/stats.js';
import {
  DEFAULTS, parseConsumeOptions, parseDlqReplayOptions, parseDlqTailOptions, parseProduceOptions, parseStatsOptions,
  type CommonOptions, type RawFlags,
} from './config.js';
import { OrdersError, messageOf } from './errors.js';
import { createClients } from './kafka/client.js';
import type { Logger } from './logger.js';
import { consumeView, createLogger, dlqReplayView, dlqTailView, produceView, showStats, terminal } from './output.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

type Body<T> = (options: T, logger: Logger, signal: AbortSignal) => Promise<void>;

/** A commander action: validates the flags, then runs the body with a logger and a signal that Ctrl-C / SIGTERM aborts. */
function action<T extends CommonOptions>(parse: (flags: RawFlags, env: NodeJS.ProcessEnv) => T, body: Body<T>): (flags: RawFlags) => Promise<void> {
  return (flags) => run(parse(flags, process.env), body);
}

async function run<T extends CommonOptions>(options: T, command: Body<T>): Promise<void> {
  const logger = createLogger(terminal(options.json).interactive);
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals): void => {
    // A second Ctrl-C means "now": skip the clean shutdown.
    if (controller.signal.aborted) process.exit(130);
    logger.info(`${signal} received, finishing the records in progress and committing`);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await command(options, logger, controller.signal);
}

function withCommonFlags(command: Command): Command {
  return command
    .option('--broker <list>', `comma-separated host:port list (default: $KAFKA_BROKERS or ${DEFAULTS.broker})`)
    .option('--timeout-ms <ms>', 'how long to wait for the broker before giving up', String(DEFAULTS.timeoutMs))
    .option('--partitions <n>', 'partitions for topics this command creates', String(DEFAULTS.partitions))
    .option('--json', 'one JSON object per line on stdout; logs stay on stderr');
}

function program(): Command {
  const cli = new Command('orders')
    .description('Stream orders through Apache Kafka: Avro, bounded retries and a dead-letter topic.')
    .version(version)
    .showSuggestionAfterError()
    // Keep commander's error and its suggestion on one line, like every other error of this tool.
    .configureOutput({ outputError: (text, write) => write(`${text.trimEnd().replace(/\n+/g, ' ')}\n`) })
    .exitOverride();

  withCommonFlags(cli.command('produce').description('send random Avro-encoded orders'))
    .option('--topic <name>', 'topic to send to', DEFAULTS.topic)
    .option('--count <n>', 'how many orders', String(DEFAULTS.count))
    .option('--seed <n>', 'PRNG seed: the same seed gives the same orders (default: random)')
    .option('--rate <n>', 'at most this many orders per second (default: as fast as possible)')
    .action(action(parseProduceOptions, async (opts, logger, signal) => {
      const view = produceView(terminal(opts.json), opts.count);
      const summary = await produce(opts, { clients: createClients(opts, logger, 'orders-producer'), logger, events: view }, signal);
      view.summary(summary, opts.topic);
      if (summary.failed > 0) {
        throw new OrdersError('delivery', `${summary.failed} of ${summary.requested} orders were not acknowledged by the broker: ${summary.firstError ?? 'unknown error'}`);
      }
    }));

  withCommonFlags(cli.command('consume').description('process orders with retries; move permanent failures to the dead-letter topic'))
    .option('--topic <name>', 'topic to read', DEFAULTS.topic)
    .option('--dlq-topic <name>', 'dead-letter topic', DEFAULTS.dlqTopic)
    .option('--group <id>', 'consumer group', DEFAULTS.group)
    .option('--guarantee <mode>', 'exactly-once (transactions, aggregate survives restarts) or at-least-once', DEFAULTS.guarantee)
    .option('--aggregates-topic <name>', 'compacted topic holding each partition\'s aggregate (exactly-once)', DEFAULTS.aggregatesTopic)
    .option('--fail-rate <0..1>', 'probability that one processing attempt fails', String(DEFAULTS.failRate))
    .option('--retries <n>', 'retries after the first attempt', String(DEFAULTS.retries))
    .option('--backoff-ms <ms>', 'delay before the first retry; doubles each retry, with jitter', String(DEFAULTS.backoffMs))
    .option('--seed <n>', 'seed of the simulated failures (default: random)')
    .option('--exit-at-end', 'stop once every assigned partition is read to its end')
    .action(action(parseConsumeOptions, async (opts, logger, signal) => {
      const view = consumeView(terminal(opts.json), opts.dlqTopic);
      const summary = await consume(opts, { clients: createClients(opts, logger, 'orders-consumer'), logger, events: view }, signal);
      view.summary(summary);
    }));

  withCommonFlags(cli.command('dlq-tail').description('show the dead letters, decoded, with why they got there'))
    .option('--dlq-topic <name>', 'dead-letter topic', DEFAULTS.dlqTopic)
    .option('--exit-at-end', 'stop at the end of the topic instead of following it')
    .action(action(parseDlqTailOptions, async (opts, logger, signal) => {
      const view = dlqTailView(terminal(opts.json), opts.dlqTopic);
      const summary = await dlqTail(opts, { clients: createClients(opts, logger, 'orders-dlq-tail'), logger, events: view }, signal);
      view.summary(summary);
    }));

  withCommonFlags(cli.command('stats').description('exact total_price, count and avg of a consumer group, from the aggregates topic'))
    .option('--group <id>', 'consumer group', DEFAULTS.group)
    .option('--topic <name>', 'topic the group consumes', DEFAULTS.topic)
    .option('--aggregates-topic <name>', 'compacted topic of the aggregates', DEFAULTS.aggregatesTopic)
    .option('--by-partition', 'also show each partition')
    .action(action(parseStatsOptions, async (opts, logger, signal) => {
      const result = await stats(opts, { clients: createClients(opts, logger, 'orders-stats'), logger }, signal);
      showStats(terminal(opts.json), result, opts.byPartition);
    }));

  withCommonFlags(cli.command('dlq-replay').description('send dead letters back to their topic, each at most once per replay group'))
    .option('--dlq-topic <name>', 'dead-letter topic', DEFAULTS.dlqTopic)
    .option('--to <topic>', 'send here instead of each dead letter\'s original topic')
    .option('--reason <reason>', 'only dead letters with this reason (retries-exhausted, undecodable, non-retryable)')
    .option('--order-id <id>', 'only the dead letter of this orderId')
    .option('--limit <n>', 'replay at most this many')
    .option('--max-replays <n>', 'skip dead letters already replayed this many times', String(DEFAULTS.maxReplays))
    .option('--group <id>', 'consumer group that remembers what was replayed', DEFAULTS.replayGroup)
    .option('--dry-run', 'list what would be replayed; send and commit nothing')
    .action(action(parseDlqReplayOptions, async (opts, logger, signal) => {
      const view = dlqReplayView(terminal(opts.json), opts.dryRun);
      const summary = await dlqReplay(opts, { clients: createClients(opts, logger, 'orders-dlq-replay'), logger, events: view }, signal);
      view.summary(summary);
    }));

  for (const command of cli.commands) command.exitOverride().configureOutput(cli.configureOutput());
  return cli;
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help / version text).
      return error.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`orders: ${messageOf(error)}\n`);
    if (process.env.LOG_LEVEL === 'debug' && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    return error instanceof OrdersError ? error.exitCode : 1;
  }
}

// A promise nobody awaited failed: a bug, but it still gets one line and exit code 1, not a stack trace.
process.on('unhandledRejection', (error) => {
  process.stderr.write(`orders: internal error: ${messageOf(error)}\n`);
  process.exit(1);
});

process.exitCode = await main(process.argv);
// librdkafka threads that never got a broker can outlive disconnect; do not let them hold the exit.
setTimeout(() => process.exit(), 3_000).unref();
