import { parseArgs } from 'node:util';
import { CLIENT_SETTINGS, type ClientSettings } from './client-settings.js';

export interface Settings {
  mode: 'quick' | 'full';
  orders: number;
  rounds: number;
  /** Only the produce phases (orders, orders --report each, kcat): for measuring a produce change quickly. */
  produceOnly: boolean;
  broker: string;
  brokerPid: number | undefined;
  consumeArgs: string[];
  /** A schema registry to measure registry mode against plain mode; none skips those rows. */
  registry: string | undefined;
  latency: { rate: number; seconds: number }[];
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
  if (values.only !== undefined && values.only !== 'produce') throw new Error(`--only must be produce, got ${values.only}`);
  const brokerPid = values['broker-pid'] === undefined || values['broker-pid'] === '' ? undefined : Number(values['broker-pid']);
  const seconds = quick ? 10 : 30;
  return {
    mode: quick ? 'quick' : 'full',
    orders: quick ? 100_000 : 1_000_000,
    rounds,
    produceOnly: values.only === 'produce',
    broker: values.broker,
    brokerPid,
    consumeArgs: values['consume-args'].split(/\s+/).filter(Boolean),
    registry: values.registry === '' ? undefined : values.registry,
    latency: [{ rate: 1_000, seconds }, { rate: 10_000, seconds }],
    clients: CLIENT_SETTINGS,
  };
}
