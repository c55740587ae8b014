import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchAdmin } from './admin.js';
import { writeChart } from './chart.js';
import { benchCodec } from './codec.js';
import { benchRegistryCodec, type RegistryCodecFigures } from './registry-codec.js';
import { machineInfo } from './machine.js';
import { writeInputLines, writePayload } from './payload.js';
import { writeCommitHistory } from './commit-history.js';
import {
  RETRY_ORDERS, SLOW_ORDERS, floorConsume, kcatConsume, kcatProduce, latencyRun, ordersConsume, ordersConsumeScraped, ordersProduce, ordersProduceEach, ordersProduceInput, ordersRetries, pythonConsume,
  restoreRun, slowOrders, verifyKcatTopic, type Bench, type Restore, type SlowOrders, type Throughput,
} from './phases.js';
import { killAll } from './proc.js';
import { RESTORE_HISTORY, RETRY_FAIL_RATES, markdown, retryKey, summarise, type Rounds } from './report.js';
import { GUARANTEES, parseSettings } from './settings.js';

// Restarts per round on each restore group: a restore takes milliseconds, so a few more samples steady its median.
const RESTARTS = 3;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// One seed for orders and kcat, so both send the same keys and the same Avro values.
const SEED = 20_240_601;

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const startedAt = new Date();
  const runId = `${startedAt.getTime().toString(36)}-${randomBytes(2).toString('hex')}`;
  const machine = machineInfo();

  progress('codec: 200,000 orders, 5 rounds');
  const codec = benchCodec(200_000, 5, SEED);
  let registryCodec: RegistryCodecFigures | undefined;
  if (settings.registry !== undefined) {
    progress('registry codec: Confluent\'s AvroSerializer / AvroDeserializer against header + avsc, 50,000 orders, 3 rounds');
    registryCodec = await benchRegistryCodec(settings.registry, 50_000, 3, SEED);
  }

  progress(`writing ${settings.orders} Avro orders for kcat`);
  const payload = writePayload(`${ROOT}bench/tmp/payload-${runId}.bin`, settings.orders, SEED);
  progress(`writing ${settings.orders} JSON lines for orders produce --input`);
  const inputFile = `${ROOT}bench/tmp/input-${runId}.jsonl`;
  writeInputLines(inputFile, settings.orders, SEED);

  const admin = benchAdmin(settings.broker);
  await admin.connect();
  const bench: Bench = { broker: settings.broker, brokerPid: settings.brokerPid, admin, consumeArgs: settings.consumeArgs, clients: settings.clients };
  const rounds: Rounds = {
    ordersProduce: [], ordersProduceEach: [], ordersProduceInput: [], kcatProduce: [], ordersConsume: { 'at-least-once': [], 'exactly-once': [] }, metricsConsume: [], floorConsume: [], kcatConsume: [], pythonConsume: [],
    latency: settings.latency.map(() => []), retries: {}, registryProduce: [], registryConsume: [], slowOrders: { 'at-least-once': [], 'exactly-once': [] }, restore: { deep: [], shallow: [] },
  };
  const slowOrdersPhase = async (bench: Bench, tag: string, round: number): Promise<void> => {
    const topic = `${tag}-slow`;
    progress(`round ${round}/${settings.rounds}: ${SLOW_ORDERS} orders at fail-rate 0.3, --retries 8 --backoff-ms 1000, both guarantees: time to 90 % decided`);
    await ordersProduce(bench, topic, SLOW_ORDERS, SEED);
    for (const guarantee of GUARANTEES) {
      const slow: SlowOrders = await slowOrders(bench, topic, `${topic}-${guarantee}`, guarantee);
      progress(`  ${guarantee}: ${slow.decided} orders decided, 90 % after ${(slow.decidedMs / 1000).toFixed(2)} s, peak RSS ${slow.peakRssMb.toFixed(0)} MB`);
      rounds.slowOrders[guarantee].push(slow);
    }
  };
  const restorePhase = async (bench: Bench, name: string, groups: typeof restoreGroups, round: number): Promise<NonNullable<typeof restoreGroups>> => {
    const history = RESTORE_HISTORY[settings.mode];
    let made = groups;
    if (made === undefined) {
      made = { topic: `${name}-orders`, deep: `${name}-deep`, shallow: `${name}-shallow` };
      progress(`restore: ${history} exactly-once transactions against one, on two groups of ${made.topic}`);
      await ordersProduce(bench, made.topic, RETRY_ORDERS, SEED);
      const ms = await writeCommitHistory(bench.broker, bench.admin, made.topic, made.deep, history);
      progress(`  ${history} transactions in ${(ms / 1000).toFixed(1)} s`);
      await writeCommitHistory(bench.broker, bench.admin, made.topic, made.shallow, 1);
    }
    progress(`round ${round}/${settings.rounds}: restore after ${history} transactions and after 1, ${RESTARTS} restarts each, alternating`);
    for (let restart = 0; restart < RESTARTS; restart++) {
      for (const [depth, group] of [['deep', made.deep], ['shallow', made.shallow]] as const) {
        const restored: Restore = await restoreRun(bench, made.topic, group);
        progress(`  after ${depth === 'deep' ? history : 1}: restored in ${restored.restoreMs.toFixed(1)} ms, ${restored.startToRestoredMs.toFixed(0)} ms after the start`);
        rounds.restore[depth].push(restored);
      }
    }
    return made;
  };
  const runs = (phase: 'slow-orders' | 'restore'): boolean => settings.only === undefined || settings.only === phase;
  // Built once, in the first round: each round restarts consumers on the same two groups.
  let restoreGroups: { topic: string; deep: string; shallow: string } | undefined;
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      const tag = `bench-${runId}-r${round}`;
      // Issue 18's slow orders and restore: after a round's other phases, or alone with --only.
      const issue18 = async (): Promise<void> => {
        if (runs('slow-orders')) await slowOrdersPhase(bench, tag, round);
        if (runs('restore')) restoreGroups = await restorePhase(bench, `bench-${runId}-restore`, restoreGroups, round);
      };
      if (settings.only === 'slow-orders' || settings.only === 'restore') {
        await issue18();
        continue;
      }
      const ordersTopic = `${tag}-orders`;
      const kcatTopic = `${tag}-kcat`;
      const producers = settings.inputOnly ? 'orders, orders --input' : settings.only === 'consume' ? 'orders, then kcat' : 'orders, orders --input, orders --report each, then kcat';
      progress(`round ${round}/${settings.rounds}: produce ${settings.orders} (${producers})`);
      rounds.ordersProduce.push(show('orders produce', await ordersProduce(bench, ordersTopic, settings.orders, SEED)));
      if (settings.only !== 'consume') rounds.ordersProduceInput.push(show('orders produce --input', await ordersProduceInput(bench, `${tag}-input`, inputFile, settings.orders)));
      if (settings.inputOnly) continue;
      if (settings.only !== 'consume') rounds.ordersProduceEach.push(show('orders produce --report each --json', await ordersProduceEach(bench, `${tag}-each`, settings.orders, SEED)));
      rounds.kcatProduce.push(show('kcat -P', await kcatProduce(bench, kcatTopic, payload)));
      if (round === 1) {
        await verifyKcatTopic(bench, kcatTopic, payload);
        progress(`kcat's ${settings.orders} records read back byte-exact`);
      }
      const registryFlags = settings.registry === undefined ? [] : ['--schema-registry', settings.registry];
      const registryTopic = `${tag}-registry`;
      const registry = settings.only === 'consume' ? undefined : settings.registry;
      if (registry !== undefined) {
        progress(`round ${round}/${settings.rounds}: produce ${settings.orders} in schema registry mode`);
        rounds.registryProduce.push(show('orders produce --schema-registry', await ordersProduce(bench, registryTopic, settings.orders, SEED, registryFlags)));
      }
      if (settings.produceOnly) continue;
      // Issue 20's run is compared with the plain exactly-once run of its round, so it needs that one.
      const scraped = settings.guarantees.includes('exactly-once');
      progress(`round ${round}/${settings.rounds}: consume ${settings.orders} (the floor loop, orders ${settings.guarantees.join(', then ')}${scraped ? ', then exactly-once with --metrics-port, scraped' : ''}, then kcat -G, then the Python loop)`);
      rounds.floorConsume.push(show('floor (bare KafkaConsumer loop)', await floorConsume(bench, ordersTopic, `${ordersTopic}-floor`, settings.orders)));
      for (const guarantee of settings.guarantees) {
        rounds.ordersConsume[guarantee].push(show(`orders consume --guarantee ${guarantee}`, await ordersConsume(bench, ordersTopic, `${ordersTopic}-${guarantee}`, guarantee, settings.orders)));
      }
      if (scraped) {
        const figures = await ordersConsumeScraped(bench, ordersTopic, `${ordersTopic}-exactly-once-metrics`, settings.orders);
        const { answered, failed, consumed } = figures.scrapes;
        rounds.metricsConsume.push(show(`orders consume --guarantee exactly-once --metrics-port ${figures.metricsPort} (${answered} scrapes answered, ${failed} failed; orders_consumed_total seen up to ${consumed})`, figures));
      }
      rounds.kcatConsume.push(show('kcat -G', await kcatConsume(bench, kcatTopic, `${kcatTopic}-group`, settings.orders)));
      rounds.pythonConsume.push(show('python consume', await pythonConsume(bench, ordersTopic, `${ordersTopic}-python`, settings.orders)));
      if (settings.only === 'consume') continue;
      if (registry !== undefined) {
        const guarantee = settings.registryGuarantee;
        rounds.registryConsume.push(show(`orders consume --guarantee ${guarantee} --schema-registry`, await ordersConsume(bench, registryTopic, `${registryTopic}-${guarantee}`, guarantee, settings.orders, registryFlags)));
      }
      const retryTopic = `${tag}-retries`;
      progress(`round ${round}/${settings.rounds}: ${RETRY_ORDERS} orders at fail-rate 0 and 0.3, both guarantees`);
      await ordersProduce(bench, retryTopic, RETRY_ORDERS, SEED);
      for (const guarantee of GUARANTEES) {
        for (const failRate of RETRY_FAIL_RATES) {
          const figures = show(`orders consume --guarantee ${guarantee} --fail-rate ${failRate}`, await ordersRetries(bench, retryTopic, `${retryTopic}-${guarantee}-${failRate}`, guarantee, failRate));
          (rounds.retries[retryKey(guarantee, failRate)] ??= []).push(figures);
        }
      }
      for (const [index, run] of settings.latency.entries()) {
        progress(`round ${round}/${settings.rounds}: latency at ${run.rate}/s for ${run.seconds} s, ${run.guarantee}`);
        const name = `${tag}-latency-${run.guarantee}-${run.rate}`;
        const latency = await latencyRun(bench, name, `${name}-group`, run);
        progress(`  p50 ${latency.p50} ms, p99 ${latency.p99} ms, p99.9 ${latency.p999} ms, max ${latency.max} ms over ${latency.samples} orders (${latency.redelivered} redelivered)`);
        rounds.latency[index]?.push(latency);
      }
      await issue18();
    }
  } finally {
    killAll();
    await admin.disconnect();
    rmSync(payload.file, { force: true });
    rmSync(inputFile, { force: true });
  }

  const summary = summarise(settings, rounds, codec, payload.valueBytes, registryCodec);
  const resultsDir = `${ROOT}bench/results`;
  mkdirSync(resultsDir, { recursive: true });
  const file = `${resultsDir}/${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), runId, settings, machine, loadAverageAtEnd: os.loadavg(), codec, registryCodec, rounds, summary }, null, 2)}\n`);
  process.stdout.write(markdown(settings, machine, summary));
  progress(`results written to ${file}`);
  progress(`chart written to ${await writeChart(file)}`);
}

function show<T extends Throughput>(what: string, figures: T): T {
  const steady = figures.steadyOrdersPerSecond === undefined ? '' : `, ${Math.round(figures.steadyOrdersPerSecond)} orders/s steady`;
  progress(`  ${what}: ${Math.round(figures.ordersPerSecond)} orders/s wall${steady}, ${(figures.wallMs / 1000).toFixed(1)} s, peak RSS ${figures.peakRssMb.toFixed(0)} MB`);
  return figures;
}

// Ctrl-C or a stopping bench.sh: leave no orders or kcat process behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

try {
  await main();
} catch (error) {
  killAll();
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
