/**
 * How long a consume group stalls after a crash, under each group protocol: the measurements behind
 * the default of src/kafka/consumer/group-protocol.ts (docs/consume.md "Groups"). Not part of npm test.
 *
 *   npm run --silent build && node dist/bench/group-protocols.js [--brokers B] [--runs 3] [--protocols classic,consumer] [--scenarios lone,pair,static]
 *
 * Orders keep coming at 100/s into a 6-partition topic; every consume is exactly-once, which prints an
 * order only once its transaction committed, so the gaps between printed orders are the gaps between commits.
 * - lone: one consumer, SIGKILLed, restarted at once: time from the restart to its first order.
 * - pair: two members, one SIGKILLed and replaced at once: the survivor's longest pause without a commit,
 *   and the replacement's time to its first order.
 * - static: one consumer with --instance-id, SIGKILLed, restarted with the same id (again while it exits with an error).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/orders.js', import.meta.url));
const argument = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] ?? fallback : fallback;
};
const BROKERS = argument('--brokers', process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? '9092'}`);
const RUNS = Number(argument('--runs', '3'));
const PROTOCOLS = argument('--protocols', 'classic,consumer').split(',');
const SCENARIOS = argument('--scenarios', 'lone,pair,static').split(',');
// Longer than KIP-848's 45 s session, so a stall that waits for it is seen whole.
const WINDOW_MS = 75_000;

/** One `orders` process; the time each order line arrived, from the bench's start. */
class Orders {
  readonly child: ChildProcess;
  readonly orders: number[] = [];
  /** Per partition, when its orders arrived. */
  readonly byPartition = new Map<number, number[]>();
  readonly startedAt = performance.now();
  stderr = '';
  exited: number | null | undefined;
  readonly done: Promise<void>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, KAFKA_BROKERS: BROKERS, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      const now = performance.now();
      for (const line of lines) {
        if (!line.startsWith('{"event":"order"')) continue;
        this.orders.push(now);
        const partition = Number(/"partition":(\d+)/.exec(line)?.[1]);
        this.byPartition.set(partition, [...(this.byPartition.get(partition) ?? []), now]);
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { this.stderr = (this.stderr + chunk).slice(-2000); });
    this.done = new Promise((resolve) => this.child.on('close', (code) => { this.exited = code; resolve(); }));
    live.add(this);
    void this.done.then(() => live.delete(this));
  }

  get running(): boolean {
    return this.exited === undefined;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.done;
  }

  /** Milliseconds from the process's start to its first order; undefined if none. */
  firstOrderMs(): number | undefined {
    const first = this.orders[0];
    return first === undefined ? undefined : first - this.startedAt;
  }

  /** The longest time without an order between `from` and `to`. */
  longestGapMs(from: number, to: number): number {
    let last = from;
    let longest = 0;
    for (const at of [...this.orders.filter((t) => t > from && t < to), to]) {
      longest = Math.max(longest, at - last);
      last = at;
    }
    return longest;
  }
}

const live = new Set<Orders>();
process.on('SIGINT', () => {
  for (const process_ of live) process_.child.kill('SIGKILL');
  process.exit(130);
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** A 6-partition topic fed at 100 orders/s until stopped. */
async function feed(topic: string): Promise<Orders> {
  const made = new Orders(['produce', '--topic', topic, '--count', '0', '--partitions', '6']);
  await made.done;
  if (made.exited !== 0) throw new Error(`produce: ${made.stderr}`);
  return new Orders(['produce', '--topic', topic, '--count', '1000000', '--rate', '100', '--partitions', '6', '--report', 'summary']);
}

const consumeFlags = (topic: string, protocol: string, extra: string[] = []): string[] => [
  'consume', '--topic', topic, '--dlq-topic', `${topic}-dlq`, '--group', `${topic}-group`, '--guarantee', 'exactly-once',
  '--fail-rate', '0', '--json', '-X', `group.protocol=${protocol}`, ...extra,
];

type Figures = Record<string, number | undefined>;

/** A consumer settles (3 s of orders), is SIGKILLed and restarted at once; `restart` may need several starts (static). */
async function killAndRestart(topic: string, protocol: string, extra: string[]): Promise<Figures> {
  const first = new Orders(consumeFlags(topic, protocol, extra));
  if (!await until(() => first.orders.length > 0, 60_000)) throw new Error(`no first order: ${first.stderr}`);
  await sleep(3_000);
  await first.stop('SIGKILL');
  const restartedAt = performance.now();
  let failedStarts = 0;
  for (;;) {
    const next = new Orders(consumeFlags(topic, protocol, extra));
    await until(() => next.orders.length > 0 || !next.running || performance.now() - restartedAt > WINDOW_MS * 2, WINDOW_MS * 3);
    const firstAt = next.orders[0];
    await next.stop();
    if (firstAt !== undefined) return { firstOrderMs: firstAt - restartedAt, failedStarts };
    if (performance.now() - restartedAt > WINDOW_MS * 2) return { firstOrderMs: undefined, failedStarts };
    failedStarts++;
  }
}

/** Two members settle; one is SIGKILLed and replaced at once; the survivor's longest pause until all is settled again. */
async function pair(topic: string, protocol: string): Promise<Figures> {
  const doomed = new Orders(consumeFlags(topic, protocol));
  const survivor = new Orders(consumeFlags(topic, protocol));
  if (!await until(() => doomed.orders.length > 0 && survivor.orders.length > 0, 90_000)) throw new Error(`the pair never both read: ${doomed.stderr} ${survivor.stderr}`);
  await sleep(5_000);
  await doomed.stop('SIGKILL');
  const killedAt = performance.now();
  const replacement = new Orders(consumeFlags(topic, protocol));
  // Every partition read again after the kill (the dead member's too), then 5 s more; at most the window.
  const againAt = (partition: number): number | undefined => [survivor, replacement]
    .map((member) => member.byPartition.get(partition)?.find((at) => at > killedAt))
    .filter((at): at is number => at !== undefined).sort((a, b) => a - b)[0];
  const partitions = [0, 1, 2, 3, 4, 5];
  await until(() => partitions.every((partition) => againAt(partition) !== undefined), WINDOW_MS);
  const end = Math.min(killedAt + WINDOW_MS, performance.now() + 5_000);
  await sleep(Math.max(0, end - performance.now()));
  const again = partitions.map(againAt);
  const figures = {
    survivorLongestPauseMs: survivor.longestGapMs(killedAt, end),
    replacementFirstOrderMs: replacement.orders[0] === undefined ? undefined : replacement.orders[0] - killedAt,
    // The dead member's partitions: how long until the last of them is read again.
    allPartitionsReadAgainMs: again.includes(undefined) ? undefined : Math.max(...again.map((at) => (at ?? 0) - killedAt)),
  };
  await Promise.all([survivor.stop(), replacement.stop()]);
  return figures;
}

const median = (values: number[]): number | undefined => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? undefined : sorted[Math.floor((sorted.length - 1) / 2)];
};

async function main(): Promise<void> {
  const results = new Map<string, Figures[]>();
  for (let run = 1; run <= RUNS; run++) {
    for (const scenario of SCENARIOS) {
      for (const protocol of PROTOCOLS) {
        const topic = `bench-groups-${scenario}-${protocol}-${randomBytes(3).toString('hex')}`;
        const feeder = await feed(topic);
        try {
          const figures = scenario === 'lone' ? await killAndRestart(topic, protocol, [])
            : scenario === 'static' ? await killAndRestart(topic, protocol, ['--instance-id', 'bench-static'])
              : await pair(topic, protocol);
          console.log(JSON.stringify({ run, scenario, protocol, ...figures }));
          const key = `${scenario} ${protocol}`;
          results.set(key, [...(results.get(key) ?? []), figures]);
        } finally {
          await feeder.stop();
        }
      }
    }
  }
  console.log('\n| scenario | protocol | figure | runs (ms) | median (ms) |\n| --- | --- | --- | --- | --- |');
  for (const [key, runs] of results) {
    const [scenario, protocol] = key.split(' ');
    for (const figure of Object.keys(runs[0] ?? {})) {
      const values = runs.map((figures) => figures[figure]);
      const known = values.filter((value): value is number => value !== undefined);
      console.log(`| ${scenario} | ${protocol} | ${figure} | ${values.map((value) => (value === undefined ? 'none' : Math.round(value))).join(', ')} | ${median(known) === undefined ? 'none' : Math.round(median(known) ?? 0)} |`);
    }
  }
}

await main();
