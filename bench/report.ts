import { pairs } from './client-settings.js';
import type { CodecFigures } from './codec.js';
import type { RegistryCodecFigures } from './registry-codec.js';
import type { Machine } from './machine.js';
import { RETRY_ORDERS, type Latency, type Throughput } from './phases.js';
import type { Settings } from './settings.js';
import { median } from './stats.js';

export interface Rounds {
  ordersProduce: Throughput[];
  /** `orders produce --report each --json`, a line per order. */
  ordersProduceEach: Throughput[];
  kcatProduce: Throughput[];
  ordersConsume: Throughput[];
  kcatConsume: Throughput[];
  /** One list of rounds per latency setting, in the order of Settings.latency. */
  latency: Latency[][];
  /** Consume runs keyed by retryKey(guarantee, failRate). */
  retries: Record<string, Throughput[]>;
  /** The same produce and consume with --schema-registry (empty without a registry). */
  registryProduce: Throughput[];
  registryConsume: Throughput[];
}

export const GUARANTEES = ['at-least-once', 'exactly-once'] as const;
export const RETRY_FAIL_RATES = [0, 0.3] as const;
export const retryKey = (guarantee: string, failRate: number): string => `${guarantee}@${failRate}`;

interface Medians {
  ordersPerSecond: number;
  steadyOrdersPerSecond: number;
  selfReportedOrdersPerSecond: number;
  wallSeconds: number;
  peakRssMb: number;
  cpuSeconds: number;
  brokerCpuSeconds: number;
}

export interface Target {
  name: string;
  figure: number;
  limit: string;
  pass: boolean;
}

/** Each target under a name of its own, so a table row reads its own target and no other. */
export type Targets = Record<'produce' | 'produceEach' | 'consume' | 'latency' | 'produceRss' | 'consumeRss' | 'encodes' | 'decodes' | 'retriesAtLeastOnce' | 'retriesExactlyOnce' | 'retriesRss' | 'registryProduce' | 'registryConsume', Target>;

// The latency target is set at this rate; the row of the other rate has none.
const LATENCY_TARGET_RATE = 1_000;

export interface Summary {
  bytesPerOrder: number;
  produce: { orders: Medians; kcat: Medians; ratio: number; ordersMBps: number; kcatMBps: number; each: Medians; eachRatio: number };
  consume: { orders: Medians; kcat: Medians; ratio: number; steadyRatio: number };
  latency: { rate: number; seconds: number; p50: number; p99: number; p999: number; max: number; consumerPeakRssMb: number }[];
  codec: { encodesPerSecond: number; decodesPerSecond: number };
  retries: { guarantee: string; clean: Medians; failing: Medians; ratio: number }[];
  registry: { produce: Medians; consume: Medians; produceRatio: number; consumeRatio: number; codec: RegistryCodecFigures | undefined };
  targets: Targets;
}

function medians(runs: Throughput[]): Medians {
  const of = (pick: (run: Throughput) => number | undefined): number =>
    median(runs.map(pick).filter((value): value is number => value !== undefined && Number.isFinite(value)));
  return {
    ordersPerSecond: of((run) => run.ordersPerSecond),
    steadyOrdersPerSecond: of((run) => run.steadyOrdersPerSecond),
    selfReportedOrdersPerSecond: of((run) => run.selfReportedOrdersPerSecond),
    wallSeconds: of((run) => run.wallMs / 1000),
    peakRssMb: of((run) => run.peakRssMb),
    cpuSeconds: of((run) => run.cpuSeconds),
    brokerCpuSeconds: of((run) => run.brokerCpuSeconds),
  };
}

export function summarise(settings: Settings, rounds: Rounds, codec: CodecFigures, valueBytes: number, registryCodec?: RegistryCodecFigures): Summary {
  const bytesPerOrder = valueBytes / settings.orders;
  const produce = { orders: medians(rounds.ordersProduce), kcat: medians(rounds.kcatProduce) };
  const consume = { orders: medians(rounds.ordersConsume), kcat: medians(rounds.kcatConsume) };
  const latency = settings.latency.map(({ rate, seconds }, index) => {
    const runs = rounds.latency[index] ?? [];
    const of = (pick: (run: Latency) => number): number => median(runs.map(pick));
    return { rate, seconds, p50: of((run) => run.p50), p99: of((run) => run.p99), p999: of((run) => run.p999), max: of((run) => run.max), consumerPeakRssMb: of((run) => run.consumerPeakRssMb) };
  });
  const produceRatio = produce.orders.ordersPerSecond / produce.kcat.ordersPerSecond;
  const each = medians(rounds.ordersProduceEach);
  const eachRatio = each.ordersPerSecond / produce.orders.ordersPerSecond;
  const consumeRatio = consume.orders.ordersPerSecond / consume.kcat.ordersPerSecond;
  const p99AtTarget = latency.find((entry) => entry.rate === LATENCY_TARGET_RATE)?.p99 ?? Number.NaN;
  const retries = GUARANTEES.map((guarantee) => {
    const clean = medians(rounds.retries[retryKey(guarantee, 0)] ?? []);
    const failing = medians(rounds.retries[retryKey(guarantee, 0.3)] ?? []);
    return { guarantee, clean, failing, ratio: failing.ordersPerSecond / clean.ordersPerSecond };
  });
  const retryRatio = (guarantee: string): number => retries.find((entry) => entry.guarantee === guarantee)?.ratio ?? Number.NaN;
  const retryRss = Math.max(...retries.map((entry) => entry.failing.peakRssMb));
  const registryProduce = medians(rounds.registryProduce);
  const registryConsume = medians(rounds.registryConsume);
  const registry = {
    produce: registryProduce, consume: registryConsume, codec: registryCodec,
    produceRatio: registryProduce.ordersPerSecond / produce.orders.ordersPerSecond, consumeRatio: registryConsume.ordersPerSecond / consume.orders.ordersPerSecond,
  };
  return {
    bytesPerOrder,
    produce: { ...produce, ratio: produceRatio, ordersMBps: (produce.orders.ordersPerSecond * bytesPerOrder) / 1e6, kcatMBps: (produce.kcat.ordersPerSecond * bytesPerOrder) / 1e6, each, eachRatio },
    consume: { ...consume, ratio: consumeRatio, steadyRatio: consume.orders.steadyOrdersPerSecond / consume.kcat.steadyOrdersPerSecond },
    latency,
    codec: { encodesPerSecond: codec.medianEncodesPerSecond, decodesPerSecond: codec.medianDecodesPerSecond },
    retries,
    registry,
    targets: {
      registryProduce: { name: 'registry mode / plain mode, produce', figure: registry.produceRatio, limit: '≥ 0.9 × plain', pass: registry.produceRatio >= 0.9 },
      registryConsume: { name: 'registry mode / plain mode, consume', figure: registry.consumeRatio, limit: '≥ 0.9 × plain', pass: registry.consumeRatio >= 0.9 },
      retriesAtLeastOnce: { name: 'fail-rate 0.3 / fail-rate 0, at-least-once', figure: retryRatio('at-least-once'), limit: '≥ 0.5', pass: retryRatio('at-least-once') >= 0.5 },
      retriesExactlyOnce: { name: 'fail-rate 0.3 / fail-rate 0, exactly-once', figure: retryRatio('exactly-once'), limit: '≥ 0.5', pass: retryRatio('exactly-once') >= 0.5 },
      retriesRss: { name: 'peak RSS at fail-rate 0.3', figure: retryRss, limit: '≤ 200 MB', pass: retryRss <= 200 },
      produce: { name: 'produce ≥ 0.4 × kcat', figure: produceRatio, limit: '≥ 0.4 × kcat', pass: produceRatio >= 0.4 },
      produceEach: { name: 'produce --report each ≥ 0.7 × plain produce', figure: eachRatio, limit: '≥ 0.7 × plain', pass: eachRatio >= 0.7 },
      consume: { name: 'consume + aggregate ≥ 0.6 × kcat', figure: consumeRatio, limit: '≥ 0.6 × kcat', pass: consumeRatio >= 0.6 },
      latency: { name: `p99 end-to-end at ${count(LATENCY_TARGET_RATE)}/s`, figure: p99AtTarget, limit: 'p99 ≤ 20 ms', pass: p99AtTarget <= 20 },
      produceRss: { name: `peak RSS of produce, ${settings.orders} orders`, figure: produce.orders.peakRssMb, limit: '≤ 150 MB', pass: produce.orders.peakRssMb <= 150 },
      consumeRss: { name: `peak RSS of consume, ${settings.orders} orders`, figure: consume.orders.peakRssMb, limit: '≤ 200 MB', pass: consume.orders.peakRssMb <= 200 },
      encodes: { name: 'codec encodes/s', figure: codec.medianEncodesPerSecond, limit: '≥ 1,000,000', pass: codec.medianEncodesPerSecond >= 1e6 },
      decodes: { name: 'codec decodes/s', figure: codec.medianDecodesPerSecond, limit: '≥ 1,000,000', pass: codec.medianDecodesPerSecond >= 1e6 },
    },
  };
}

// Beside plain mode, in the orders column; the ratio column holds registry / plain.
function registryRows({ registry, produce, consume, targets }: Summary, n: string): string[] {
  if (registry.codec === undefined && !Number.isFinite(registry.produce.ordersPerSecond)) return [];
  const rows = [
    `| Produce ${n} with \`--schema-registry\`, orders/s; ratio to plain produce (${count(produce.orders.ordersPerSecond)}) | ${count(registry.produce.ordersPerSecond)} | | ${fixed(registry.produceRatio)} | ${judged(targets.registryProduce)} |`,
    `| Consume + aggregate ${n} with \`--schema-registry\`, orders/s; ratio to plain consume (${count(consume.orders.ordersPerSecond)}) | ${count(registry.consume.ordersPerSecond)} | | ${fixed(registry.consumeRatio)} | ${judged(targets.registryConsume)} |`,
  ];
  const { codec } = registry;
  if (codec === undefined) return rows;
  return [
    ...rows,
    `| Registry encodes/s: header + avsc (orders) / Confluent's AvroSerializer | ${count(codec.headerEncodesPerSecond)} / ${count(codec.librarySerializesPerSecond)} | | ${fixed(codec.headerEncodesPerSecond / codec.librarySerializesPerSecond, 1)}× | | |`,
    `| Registry decodes/s: RegistryDecoder (orders) / Confluent's AvroDeserializer | ${count(codec.registryDecodesPerSecond)} / ${count(codec.libraryDeserializesPerSecond)} | | ${fixed(codec.registryDecodesPerSecond / codec.libraryDeserializesPerSecond, 1)}× | | |`,
  ];
}

const count = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const verdict = (pass: boolean): string => (pass ? '**PASS**' : '**FAIL**');
// The Target and Result cells of a row: the limit and verdict of the one target named.
const judged = (target: Target): string => `${target.limit} | ${verdict(target.pass)}`;

export function markdown(settings: Settings, machine: Machine, summary: Summary): string {
  const { produce, consume, latency, codec, targets } = summary;
  const n = count(settings.orders);
  const rows = [
    `| Produce ${n}, orders/s (wall; acks=all, idempotent) | ${count(produce.orders.ordersPerSecond)} | ${count(produce.kcat.ordersPerSecond)} | ${fixed(produce.ratio)} | ${judged(targets.produce)} |`,
    `| Produce ${n} with \`--report each --json\` (a line per order), orders/s; ratio to plain produce | ${count(produce.each.ordersPerSecond)} | | ${fixed(produce.eachRatio)} | ${judged(targets.produceEach)} |`,
    `| Produce, MB/s of Avro values (${fixed(summary.bytesPerOrder, 1)} B/order) | ${fixed(produce.ordersMBps)} | ${fixed(produce.kcatMBps)} | ${fixed(produce.ratio)} | | |`,
    `| Consume + aggregate ${n}, orders/s (wall, incl. start-up + group join; kcat -G) | ${count(consume.orders.ordersPerSecond)} | ${count(consume.kcat.ordersPerSecond)} | ${fixed(consume.ratio)} | ${judged(targets.consume)} |`,
    `| Consume + aggregate, orders/s (excluding start-up: first to last record) | ${count(consume.orders.steadyOrdersPerSecond)} | ${count(consume.kcat.steadyOrdersPerSecond)} | ${fixed(consume.steadyRatio)} | | |`,
    ...latency.map((entry) => {
      const target = entry.rate === LATENCY_TARGET_RATE ? judged(targets.latency) : ' | ';
      return `| End-to-end latency at ${count(entry.rate)}/s for ${entry.seconds} s, p50 / p99 / p99.9 (max) ms | ${entry.p50} / ${entry.p99} / ${entry.p999} (${entry.max}) | | | ${target} |`;
    }),
    `| Peak RSS, produce ${n}, MB | ${fixed(produce.orders.peakRssMb, 0)} | ${fixed(produce.kcat.peakRssMb, 0)} | | ${judged(targets.produceRss)} |`,
    `| Peak RSS, consume ${n}, MB | ${fixed(consume.orders.peakRssMb, 0)} | ${fixed(consume.kcat.peakRssMb, 0)} | | ${judged(targets.consumeRss)} |`,
    ...latency.map((entry) => `| Peak RSS, latency consumer at ${count(entry.rate)}/s, MB | ${fixed(entry.consumerPeakRssMb, 0)} | | | | |`),
    `| Codec encodes/s (200,000 orders in process) | ${count(codec.encodesPerSecond)} | | | ${judged(targets.encodes)} |`,
    `| Codec decodes/s (decode + validation) | ${count(codec.decodesPerSecond)} | | | ${judged(targets.decodes)} |`,
    ...summary.retries.map(({ guarantee, clean, failing, ratio }) => {
      const target = guarantee === 'exactly-once' ? targets.retriesExactlyOnce : targets.retriesAtLeastOnce;
      return `| Consume ${count(RETRY_ORDERS)} ${guarantee}, fail-rate 0.3 / fail-rate 0 (default backoff), orders/s | ${count(failing.ordersPerSecond)} / ${count(clean.ordersPerSecond)} | | ${fixed(ratio)} | ${judged(target)} |`;
    }),
    `| Peak RSS at fail-rate 0.3 (either guarantee), MB | ${fixed(targets.retriesRss.figure, 0)} | | | ${judged(targets.retriesRss)} |`,
    ...registryRows(summary, n),
  ];
  const cpuRow = (what: string, figures: Medians): string =>
    `| ${what} | ${fixed(figures.wallSeconds, 1)} | ${fixed(figures.cpuSeconds, 1)} | ${fixed(figures.brokerCpuSeconds, 1)} |`;
  return [
    `## orders benchmark (${settings.mode}: ${n} orders, median of ${settings.rounds} rounds; commit ${machine.commit}; consume flags: ${settings.consumeArgs.join(' ') || 'defaults'})`,
    '',
    `${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, librdkafka ${machine.librdkafka}, Kafka ${machine.kafka}, kcat ${machine.kcat}`,
    '',
    `Both orders and kcat produce with \`${pairs(settings.clients.producer)}\` and consume with \`${pairs(settings.clients.consumer)}\` (kcat gets them with -X).`,
    '',
    '| Figure | orders | kcat | orders / kcat | Target | Result |',
    '|---|---:|---:|---:|---|---|',
    ...rows,
    '',
    `Where the time goes (medians; CPU = user + system seconds; \`orders produce\` reports ${count(produce.orders.selfReportedOrdersPerSecond)} orders/s for its send loop alone):`,
    '',
    '| Phase | wall s | process CPU s | broker CPU s |',
    '|---|---:|---:|---:|',
    cpuRow('orders produce', produce.orders),
    cpuRow('orders produce --report each --json', produce.each),
    cpuRow('kcat -P', produce.kcat),
    cpuRow('orders consume --json', consume.orders),
    cpuRow('kcat -G', consume.kcat),
    '',
  ].join('\n');
}
