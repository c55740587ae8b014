import { connect } from 'node:net';

// A TCP connect is enough to tell a dead broker from a live one; a live broker accepts at once.
const PROBE_MS = 1_000;

function answers(broker: string): Promise<boolean> {
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_MS });
    const done = (up: boolean): void => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** Some of several brokers do not accept a connection: which, said in one phrase for an error line. */
export interface BrokersDown {
  /** E.g. "only 1 of 3 brokers answer (down: b2:9092, b3:9092)". */
  text: string;
  /** None answers: the whole cluster is away (say restarting), not just too few of it. */
  all: boolean;
}

/** Which of `brokers` do not accept a connection; undefined when all do or there is only one to ask. */
export async function brokersDown(brokers: string[]): Promise<BrokersDown | undefined> {
  if (brokers.length < 2) return undefined;
  const up = await Promise.all(brokers.map(answers));
  const down = brokers.filter((_, i) => !up[i]);
  if (down.length === 0) return undefined;
  return { text: `only ${brokers.length - down.length} of ${brokers.length} brokers answer (down: ${down.join(', ')})`, all: down.length === brokers.length };
}
