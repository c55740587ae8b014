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

/**
 * The protocol a consume joins with: `-X group.protocol` if given, else `classic`, chosen from
 * measurements (bench/group-protocols.ts, docs/consume.md "Groups"): a crashed member's partitions
 * wait for its session, which the client sets to 10 s under classic and cannot lower from the broker's
 * 45 s under KIP-848; and a restarted static member gets its place back at once under classic, where
 * KIP-848's coordinator refuses it (UNRELEASED_INSTANCE_ID, fatal to librdkafka) until that session ends.
 */
export function chooseGroupProtocol(properties: Properties): GroupProtocol {
  const given = properties['group.protocol'];
  return given === 'consumer' ? 'consumer' : 'classic';
}
