import { createServer, type AddressInfo } from 'node:net';

/** A port nobody listens on now: bound to port 0 and closed again, for a process to bind next. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Scrapes {
  /** Scrapes answered 200. */
  answered: number;
  /** Scrapes refused, failed or timed out: before the server is bound, or as the process exits. */
  failed: number;
  /** The highest `orders_consumed_total{outcome="succeeded"}` an answer held; NaN when none held the sample. */
  consumed: number;
}

export interface Scraper {
  /** Stops scraping, waits for a scrape under way, and returns the count. */
  stop(): Promise<Scrapes>;
}

const CONSUMED = /^orders_consumed_total\{outcome="succeeded"\} (\d+)/m;

/**
 * GETs `url` once every `intervalMs`, as Prometheus scrapes a target: on a fixed schedule from now
 * (the first scrape one interval from now), one scrape at a time, each given up after `timeoutMs` (an
 * interval, as Prometheus does by default); a tick that a slow scrape ran past is skipped, not caught up.
 */
export function scrapeEvery(url: string, intervalMs = 1_000, timeoutMs = intervalMs): Scraper {
  const scrapes: Scrapes = { answered: 0, failed: 0, consumed: Number.NaN };
  const started = performance.now();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake = (): void => {};
  const scrape = async (): Promise<void> => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      const body = await response.text();
      if (!response.ok) {
        scrapes.failed++;
        return;
      }
      scrapes.answered++;
      const value = CONSUMED.exec(body)?.[1];
      if (value !== undefined) scrapes.consumed = Math.max(Number.isNaN(scrapes.consumed) ? 0 : scrapes.consumed, Number(value));
    } catch {
      // Refused before the server is bound, reset as the process exits, or too slow: a failed scrape.
      scrapes.failed++;
    }
  };
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      const elapsed = performance.now() - started;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, intervalMs - (elapsed % intervalMs));
      });
      if (!stopped) await scrape();
    }
  })();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake();
      await loop;
      return scrapes;
    },
  };
}
