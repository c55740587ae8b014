/** One run of a command: options, terminal, redactor, logger, metrics server, Kafka session, view; Ctrl-C and SIGTERM; all closed. */

import type { Env, LogLevel } from './config/environment.js';
import type { FlagSet, RawFlags } from './config/flag-kit.js';
import type { ConnectionOptions } from './config/flags.js';
import { KafkaSession } from './kafka/session.js';
import type { Logger } from './logger.js';
import { OrdersMetrics } from './metrics/metrics.js';
import { serveMetrics, type MetricsServer } from './metrics/server.js';
import { createLogger, terminal, type Terminal, type View } from './output/terminal.js';
import { Redactor } from './redact.js';

export type RunOptions = ConnectionOptions & { json: boolean; logLevel: LogLevel; metricsPort?: number | undefined; metricsHost?: string };

export interface CommandSpec<O extends RunOptions, V extends View> {
  name: string;
  description: string;
  flags: FlagSet;
  parse(raw: RawFlags, env: Env): O;
  /** The client.id the command's Kafka clients report. */
  clientId: string;
  view(options: O, term: Terminal, logger: Logger): V;
  /** `metrics`: with --metrics-port, what the command counts and shows there. */
  run(options: O, session: KafkaSession, view: V, metrics: OrdersMetrics | undefined): Promise<void>;
}

/** Runs a command: validated options, a logger, a Kafka session that Ctrl-C / SIGTERM stops, and a view that is always closed. */
export async function run<O extends RunOptions, V extends View>(spec: CommandSpec<O, V>, raw: RawFlags): Promise<void> {
  const options = spec.parse(raw, process.env);
  const term = terminal(options.json);
  const redactor = new Redactor(options.properties, options.registry?.secrets);
  const logger = redactor.logger(createLogger(term.interactive, options.logLevel));
  const metrics = options.metricsPort === undefined ? undefined : new OrdersMetrics();
  // Bound before anything reaches Kafka: a port in use stops the command (exit 2) before it consumes anything.
  const server: MetricsServer | undefined = metrics === undefined || options.metricsPort === undefined
    ? undefined : await serveMetrics(metrics, options.metricsHost ?? '127.0.0.1', options.metricsPort, logger);
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals): void => {
    // A second Ctrl-C means "now": skip the clean shutdown.
    if (controller.signal.aborted) process.exit(130);
    logger.info(`${signal} received, finishing the records in progress and committing`);
    // Not ready from now on: a load balancer or orchestrator sends nothing new while we drain.
    metrics?.stop();
    controller.abort(signal);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const session = new KafkaSession(options, logger, controller.signal, spec.clientId);
  const view = spec.view(options, term, logger);
  try {
    await spec.run(options, session, view, metrics);
  } catch (error) {
    throw redactor.error(error);
  } finally {
    metrics?.stop();
    view.close();
    await session.close();
    await server?.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
