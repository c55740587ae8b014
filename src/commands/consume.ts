import type { ConsumeOptions } from '../config/flags.js';
import { atLeastOnce } from '../consume/at-least-once.js';
import { exactlyOnce } from '../consume/exactly-once.js';
import type { ConsumeParts } from '../consume/mode.js';
import { Tally, type ConsumeEvents, type ConsumeSummary } from '../consume/tally.js';
import { ConsumeWatch } from '../consume/watch.js';
import { readTopic } from '../kafka/consumer/reader.js';
import type { KafkaSession } from '../kafka/session.js';
import { FlightGate } from '../processing/flight.js';
import { PartitionTotals } from '../processing/partition-totals.js';
import type { OrdersMetrics } from '../metrics/metrics.js';
import { orderDecoder } from '../registry/value-format.js';

const STATUS_EVERY_MS = 1_000;
// The consumer's librdkafka statistics (lag, round trips, queues) as often as the progress line turns.
const STATISTICS_EVERY_MS = 1_000;

export type { ConsumeEvents, ConsumeSummary } from '../consume/tally.js';

/**
 * Consumes orders with retries and a dead-letter topic, under the chosen guarantee, until Ctrl-C or
 * (with --exit-at-end) the end of every assigned partition.
 */
export async function consume(options: ConsumeOptions, session: KafkaSession, view: ConsumeEvents, metrics?: OrdersMetrics): Promise<ConsumeSummary> {
  const exactly = options.guarantee === 'exactly-once';
  const totals = new PartitionTotals(exactly);
  const stop = AbortSignal.any([session.signal, session.failed]);
  const gate = new FlightGate(options.maxInFlight, stop);
  // Counts, lag, progress and readiness, for the progress line and --metrics-port.
  const watch = new ConsumeWatch(options.topic, options.exitAtEnd, gate, totals, metrics);
  const events = watch.events(view);
  const tally = new Tally(events);
  const done = watch.done;
  session.statistics(STATISTICS_EVERY_MS, (json, client) => { if (client === 'consumer') watch.statistics(json); });
  const decoder = orderDecoder(session, options.registry, stop);
  const protocol = session.groupProtocol();
  const parts: ConsumeParts = {
    options, session, events, totals, tally, gate, stop, done, decoder, membership: { protocol, instanceId: options.instanceId },
    ...(metrics === undefined ? {} : { commitTook: (seconds: number) => metrics.commits.observe(seconds) }),
  };
  // What waits is visible: the terminal's progress line shows orders in flight and in backoff, the lag and the rate.
  const status = setInterval(() => {
    events.flight?.(gate.status());
    const report = watch.tick(performance.now());
    events.progress?.(report);
  }, STATUS_EVERY_MS);
  status.unref();
  const mode = exactly ? exactlyOnce(parts) : atLeastOnce(parts);

  await session.admin.ensureTopics([options.topic, options.dlqTopic], options);
  await mode.start();
  session.logger.info(`consuming ${options.topic} as group ${options.group}${options.instanceId === undefined ? '' : ` (instance ${options.instanceId})`}, ${protocol} group protocol, ${options.guarantee} (fail-rate ${options.failRate}, retries ${options.retries}, seed ${options.seed})`);
  try {
    await readTopic(session, {
      topic: options.topic,
      group: options.group,
      consumer: mode.consumer,
      rebalance: watch.rebalance(mode.rebalance),
      heartbeat: () => watch.beat(),
      commit: false,
      exitAtEnd: options.exitAtEnd,
      done,
      beforeDisconnect: async () => {
        await mode.drain();
        totals.freeze();
      },
    }, mode.handle);
  } finally {
    // A failed read too: restores settled, every producer the run made closed.
    clearInterval(status);
    await mode.settle();
  }
  return tally.summary(totals.total(), options.seed);
}
