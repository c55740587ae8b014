import { parseArgs } from 'node:util';
import { CLIENT_SETTINGS, type ClientSettings } from './client-settings.js';

export const GUARANTEES = ['at-least-once', 'exactly-once'] as const;
export type Guarantee = (typeof GUARANTEES)[number];

/** One latency run: orders at `rate` per second for `seconds`, to a consumer under `guarantee`. */
export interface LatencyRun {
  rate: number;
  seconds: number;
  guarantee: Guarantee;
}

/** What --only narrows a run to; without it every phase runs. */
export const ONLY = ['produce', 'input', 'consume', 'slow-orders', 'restore'] as const;
export type Only = (typeof ONLY)[number];

export interface Settings {
  mode: 'quick' | 'full';
  orders: number;
  rounds: number;
  /** Only the produce phases (orders, orders --report each, orders --input, kcat): for measuring a produce change quickly. */
  produceOnly: boolean;
  /** Only plain produce and produce --input (--only input): the input row and what it is compared with. */
  inputOnly: boolean;
  /**
   * --only: produce and input as above; consume: plain produce and kcat -P, then the consume rows (both
   * guarantees, exactly-once with --metrics-port, kcat -G, the Python loop); slow-orders and restore: that phase alone.
   */
  only: Only | undefined;
  broker: string;
  brokerPid: number | undefined;
  /** Extra flags for every `orders consume`, without any --guarantee (which `guarantees` took over). */
  consumeArgs: string[];
  /** The guarantees the consume and latency runs use: both, or the one --consume-args named. */
  guarantees: Guarantee[];
  /** The guarantee of the registry consume, and so of the plain consume it is compared with. */
  registryGuarantee: Guarantee;
  /** A schema registry to measure registry mode against plain mode; none skips those rows. */
  registry: string | undefined;
  latency: LatencyRun[];
  /** What both orders and kcat run with; kcat gets them with -X. */
  clients: ClientSettings;
}

export function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      broker: { type: 'string', default: '127.0.0.1:29092' },
      'broker-pid': { type: 'string' },
      'consume-args': { type: 'string', default: '' },
      only: { type: 'string' },
      registry: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const rounds = values.rounds === undefined ? 3 : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error(`--rounds must be a whole number from 1 to 20, got ${values.rounds}`);
  const only = ONLY.find((phase) => phase === values.only);
  if (values.only !== undefined && only === undefined) throw new Error(`--only must be ${ONLY.join(', ')}, got ${values.only}`);
  const brokerPid = values['broker-pid'] === undefined || values['broker-pid'] === '' ? undefined : Number(values['broker-pid']);
  const seconds = quick ? 10 : 30;
  const { rest: consumeArgs, guarantee } = takeGuarantee(values['consume-args'].split(/\s+/).filter(Boolean));
  const guarantees = GUARANTEES.filter((each) => guarantee === undefined || each === guarantee);
  // The latency targets: 1,000/s under both guarantees, 10,000/s exactly once.
  const latency: LatencyRun[] = [
    { rate: 1_000, seconds, guarantee: 'at-least-once' },
    { rate: 1_000, seconds, guarantee: 'exactly-once' },
    { rate: 10_000, seconds, guarantee: 'exactly-once' },
  ];
  return {
    mode: quick ? 'quick' : 'full',
    orders: quick ? 100_000 : 1_000_000,
    rounds,
    produceOnly: only === 'produce' || only === 'input',
    inputOnly: only === 'input',
    only,
    broker: values.broker,
    brokerPid,
    consumeArgs,
    guarantees,
    // exactly-once is what `orders consume` does by default, so registry mode is measured there when it can be.
    registryGuarantee: guarantee ?? 'exactly-once',
    registry: values.registry === '' ? undefined : values.registry,
    latency: latency.filter((run) => guarantees.includes(run.guarantee)),
    clients: CLIENT_SETTINGS,
  };
}

/**
 * Takes --guarantee out of --consume-args: the bench passes each run's guarantee itself, so one given
 * there narrows the consume and latency runs to that guarantee instead of silently overriding both.
 */
export function takeGuarantee(args: string[]): { rest: string[]; guarantee: Guarantee | undefined } {
  const rest: string[] = [];
  let guarantee: Guarantee | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? '';
    if (arg !== '--guarantee' && !arg.startsWith('--guarantee=')) {
      rest.push(arg);
      continue;
    }
    const value = arg === '--guarantee' ? args[++index] : arg.slice('--guarantee='.length);
    const named = GUARANTEES.find((each) => each === value);
    if (named === undefined) throw new Error(`--consume-args --guarantee must be ${GUARANTEES.join(' or ')}, got ${String(value)}`);
    guarantee = named;
  }
  return { rest, guarantee };
}
