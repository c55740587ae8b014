import type { Logger } from '../../logger.js';
import { finalizedFeatures } from './broker-features.js';
import type { Properties } from '../properties.js';

/**
 * KIP-848's `consumer` protocol (the broker assigns, each member heartbeats on its own, a member's
 * death costs only its own partitions) or the `classic` one (the group stops for every rebalance).
 */
export type GroupProtocol = 'consumer' | 'classic';

/** How a consume's consumer joins its group. */
export interface Membership {
  protocol: GroupProtocol;
  /** Static membership (group.instance.id): a restart within the session timeout keeps the partitions. */
  instanceId: string | undefined;
}

// Reading the features must not hold a start-up long: a broker that does not answer soon is asked no more.
const FEATURES_WAIT_MS = 3_000;

/**
 * The protocol a consume joins with: `-X group.protocol` if given; `classic` for a static member
 * (`instanceId`); else `consumer` where the cluster has finalized group.version 1 or more (Kafka 4.0
 * and later by default), else `classic`.
 */
export async function chooseGroupProtocol(brokers: string[], properties: Properties, timeoutMs: number, logger: Logger, instanceId: string | undefined): Promise<GroupProtocol> {
  const given = properties['group.protocol'];
  if (given === 'consumer' || given === 'classic') return given;
  // KIP-848's coordinator refuses a restarted static member until the dead one's session expires
  // (UNRELEASED_INSTANCE_ID, fatal to librdkafka's consumer: seen 150 ms after a SIGKILL); the classic
  // one hands it the dead member's place and partitions at once (0.6 s).
  if (instanceId !== undefined) return 'classic';
  try {
    const features = await finalizedFeatures(brokers, properties, Math.min(timeoutMs, FEATURES_WAIT_MS));
    const level = features.get('group.version') ?? 0;
    logger.debug(`the cluster's group.version is ${level}`);
    return level >= 1 ? 'consumer' : 'classic';
  } catch (error) {
    // Classic is what every broker has; the consumer's own connection reports a broker that is away.
    logger.debug(`group protocol classic: ${error instanceof Error ? error.message : String(error)}`);
    return 'classic';
  }
}
