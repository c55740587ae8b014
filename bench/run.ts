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
import {
  RETRY_ORDERS, kcatConsume, kcatProduce, latencyRun, ordersConsume, ordersProduce, ordersProduceEach, ordersProduceInput, ordersRetries, verifyKcatTopic, type Bench, type Throughput,
} from './phases.js';
import { killAll } from './proc.js';
import { RETRY_FAIL_RATES, markdown, retryKey, summarise, type Rounds } from './report.js';
import { GUARANTEES, parseSettings } from './settings.js';

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
  const rounds: Rounds = { ordersProduce: [], ordersProduceEach: [], ordersProduceInput: [], kcatProduce: [], ordersConsume: { 'at-least-once': [], 'exactly-once': [] }, kcatConsume: [], latency: settings.latency.map(() => []), retries: {}, registryProduce: [], registryConsume: [] };
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      const tag = `bench-${runId}-r${round}`;
      const ordersTopic = `${tag}-orders`;
      const kcatTopic = `${tag}-kcat`;
      progress(`round ${round}/${settings.rounds}: produce ${settings.orders} (orders, orders --input${settings.inputOnly ? '' : ', orders --report each, then kcat'})`);
      rounds.ordersProduce.push(show('orders produce', await ordersProduce(bench, ordersTopic, settings.orders, SEED)));
      rounds.ordersProduceInput.push(show('orders produce --input', await ordersProduceInput(bench, `${tag}-input`, inputFile, settings.orders)));
      if (settings.inputOnly) continue;
      rounds.ordersProduceEach.push(show('orders produce --report each --json', await ordersProduceEach(bench, `${tag}-each`, settings.orders, SEED)));
      rounds.kcatProduce.push(show('kcat -P', await kcatProduce(bench, kcatTopic, payload)));
      if (round === 1) {
        await verifyKcatTopic(bench, kcatTopic, payload);
        progress(`kcat's ${settings.orders} records read back byte-exact`);
      }
      const registryFlags = settings.registry === undefined ? [] : ['--schema-registry', settings.registry];
      const registryTopic = `${tag}-registry`;
      if (settings.registry !== undefined) {
        progress(`round ${round}/${settings.rounds}: produce ${settings.orders} in schema registry mode`);
        rounds.registryProduce.push(show('orders produce --schema-registry', await ordersProduce(bench, registryTopic, settings.orders, SEED, registryFlags)));
      }
      if (settings.produceOnly) continue;
      progress(`round ${round}/${settings.rounds}: consume ${settings.orders} (orders ${settings.guarantees.join(', then ')}, then kcat -G)`);
      for (const guarantee of settings.guarantees) {
        rounds.ordersConsume[guarantee].push(show(`orders consume --guarantee ${guarantee}`, await ordersConsume(bench, ordersTopic, `${ordersTopic}-${guarantee}`, guarantee, settings.orders)));
      }
      rounds.kcatConsume.push(show('kcat -G', await kcatConsume(bench, kcatTopic, `${kcatTopic}-group`, settings.orders)));
      if (settings.registry !== undefined) {
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

function show(what: string, figures: Throughput): Throughput {
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
