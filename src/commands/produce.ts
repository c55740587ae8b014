import { encodeOrder, type Order } from '../avro/codec.js';
import type { ProduceOptions } from '../config.js';
import { messageOf } from '../errors.js';
import { disconnectAll, ensureTopics, withinTimeout, type KafkaClients, type Producer } from '../kafka/client.js';
import type { Logger } from '../logger.js';
import { orderGenerator } from '../orders/generate.js';

export interface SentOrder {
  order: Order;
  partition: number;
  offset: string;
}

export interface ProduceEvents {
  sent(report: SentOrder): void;
}

export interface ProduceDeps {
  clients: KafkaClients;
  logger: Logger;
  events: ProduceEvents;
}

export interface ProduceSummary {
  requested: number;
  sent: number;
  failed: number;
  seed: number;
  elapsedMs: number;
  ordersPerSecond: number;
  firstError: string | undefined;
}

// Enough unacknowledged sends to keep librdkafka's batches full, few enough to bound memory.
const MAX_IN_FLIGHT = 20_000;

/** Produces `count` seeded orders and waits for every delivery report. */
export async function produce(options: ProduceOptions, deps: ProduceDeps, signal: AbortSignal): Promise<ProduceSummary> {
  const { clients, logger, events } = deps;
  const admin = clients.admin();
  let producer: Producer | undefined;
  try {
    await ensureTopics(clients, admin, [options.topic], options.partitions);
    producer = clients.producer();
    await withinTimeout(clients, 'connecting the producer', producer.connect());
    logger.info(`producing ${options.count} orders to ${options.topic} (seed ${options.seed})`);
    return await sendOrders(producer, options, events, signal);
  } finally {
    await disconnectAll(logger, producer, admin);
  }
}

async function sendOrders(producer: Producer, options: ProduceOptions, events: ProduceEvents, signal: AbortSignal): Promise<ProduceSummary> {
  const nextOrder = orderGenerator(options.seed);
  const started = performance.now();
  let sent = 0;
  let failed = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const send = async (order: Order): Promise<void> => {
    try {
      const [report] = await producer.send({
        topic: options.topic,
        messages: [{ key: order.orderId, value: encodeOrder(order), timestamp: String(order.createdAt) }],
      });
      sent++;
      events.sent({ order, partition: report?.partition ?? -1, offset: report?.baseOffset ?? report?.offset ?? '-1' });
    } catch (error) {
      failed++;
      firstError ??= messageOf(error);
    } finally {
      inFlight--;
      drained?.();
    }
  };
  const waitBelow = (limit: number): Promise<void> =>
    inFlight < limit ? Promise.resolve() : new Promise((resolve) => {
      drained = () => {
        if (inFlight < limit) { drained = undefined; resolve(); }
      };
    });

  let requested = 0;
  for (; requested < options.count && !signal.aborted; requested++) {
    if (options.rate !== undefined) await pace(started, requested, options.rate);
    await waitBelow(MAX_IN_FLIGHT);
    inFlight++;
    void send(nextOrder());
  }
  await waitBelow(1);

  const elapsedMs = performance.now() - started;
  return { requested, sent, failed, seed: options.seed, elapsedMs, ordersPerSecond: elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0, firstError };
}

// Waits until order `index` is due at `rate` per second; never sleeps when behind.
async function pace(started: number, index: number, rate: number): Promise<void> {
  const dueIn = started + (index * 1000) / rate - performance.now();
  if (dueIn >= 1) await new Promise((resolve) => setTimeout(resolve, dueIn));
}
