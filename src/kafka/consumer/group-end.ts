import { messageOf } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { AdminRequests } from '../admin/admin-requests.js';

/** A member of the group as describeGroups names it. */
export interface Holder {
  memberId: string;
  clientId: string;
  host: string;
}

/** One partition of the topic, as the end of the whole topic in the group is judged. */
export interface PartitionInGroup {
  partition: number;
  /** The end it had when the run started: what has to be reached. */
  startEnd: number;
  /** Its log start now: what lies below is gone (retention, deleted records). */
  logStart: number;
  /** The group's committed offset (the next to read), -1 for none. */
  committed: number;
  /** This member holds it, and has read it to its end with all work done (EndOfTopic). */
  owned: boolean;
  ownDone: boolean;
  /** Another member that holds it, as last described; undefined when none is known. */
  holder: Holder | undefined;
}

/** What a partition still waits for: this member's own reading, or its owner's commits (or a hand-over). */
export interface Waiting {
  partition: number;
  reason: 'reading' | 'held' | 'unassigned';
  holder: Holder | undefined;
  committed: number;
  startEnd: number;
}

/**
 * Whether the whole topic has reached, in this group, the end it had at start: each partition is done
 * when nothing that was there at start is left to read (its log start passed that end: retention or
 * deleted records took it), when the group committed that far (whoever read it), or when this member
 * holds it and read it to its end. Pure: the caller gathers the figures.
 */
export function topicEnd(partitions: PartitionInGroup[]): Waiting[] {
  const waiting: Waiting[] = [];
  for (const p of partitions) {
    if (p.logStart >= p.startEnd || p.committed >= p.startEnd || (p.owned && p.ownDone)) continue;
    const reason = p.owned ? 'reading' : p.holder === undefined ? 'unassigned' : 'held';
    waiting.push({ partition: p.partition, reason, holder: p.owned ? undefined : p.holder, committed: p.committed, startEnd: p.startEnd });
  }
  return waiting;
}

/** `partitions 0, 2 held by member m-1 (client c, host /10.0.0.1) for 12 s, at 40/503 and -/472`: one clause per holder. */
export function waitingText(topic: string, waiting: Waiting[], sinceMs: (partition: number) => number): string {
  const groups = new Map<string, Waiting[]>();
  for (const wait of waiting) {
    const who = wait.reason === 'reading' ? 'read by this member'
      : wait.holder === undefined ? 'held by no member yet'
        : `held by member ${wait.holder.memberId} (client ${wait.holder.clientId}, host ${wait.holder.host})`;
    groups.set(who, [...(groups.get(who) ?? []), wait]);
  }
  const clauses = [...groups].map(([who, waits]) => {
    const longest = Math.max(...waits.map((wait) => sinceMs(wait.partition)));
    const where = waits.map((wait) => `${wait.committed < 0 ? '-' : wait.committed}/${wait.startEnd}`).join(', ');
    return `partition${waits.length === 1 ? '' : 's'} ${waits.map((wait) => wait.partition).join(', ')} ${who} for ${Math.round(longest / 1000)} s, committed ${where}`;
  });
  return `--exit-at-end: waiting for ${topic}: ${clauses.join('; ')}`;
}

// The group is asked again at most this often while it is waited for.
const CHECK_EVERY_MS = 1_000;
// One waiting line this often at most: the wait may last the broker's whole session (45 s).
const LOG_EVERY_MS = 5_000;

/**
 * --exit-at-end over the whole topic: once this member's own partitions are done, asks the group
 * (committed offsets, who holds what, log starts) in the background, never blocking the read loop, and
 * says the run is over only when `topicEnd` finds nothing left. Meanwhile it logs what it waits for.
 */
export class GroupEnd {
  // Until this member joined its group, its summary would miss what its partitions restore: no end before.
  // Joined: an assignment came (classic gives one, maybe empty), or the settled group has a member
  // holding nothing here (KIP-848 tells such a member nothing at all, and it is likely us).
  private hasJoined = false;
  private waiting: Waiting[] | undefined;
  private checking = false;
  private lastCheck = -Infinity;
  private lastLog = -Infinity;
  // When each partition was first seen waiting, and for which reason and holder: "for how long".
  private readonly since = new Map<number, { key: string; at: number }>();

  constructor(
    private readonly admin: AdminRequests,
    private readonly logger: Logger,
    private readonly topic: string,
    private readonly group: string,
    private readonly startEnds: Map<number, number>,
    // The group's committed offsets (-1: none), through the member's own consumer: never the admin client's
    // OffsetFetch, which a coordinator moving turns into a SIGSEGV (src/kafka/consumer/group-offsets.ts).
    private readonly committed: () => Promise<Map<number, number>>,
  ) {}

  /** This member was given its partitions (maybe none): from now on it may end. */
  joined(): void {
    this.hasJoined = true;
  }

  /**
   * True once the whole topic is done in the group. `owned`: this member's partitions; `ownDone`: whether
   * it read one to its end. A check under way or too recent leaves the last answer standing.
   */
  reached(owned: number[], ownDone: (partition: number) => boolean): boolean {
    // Our own partitions first, without asking anyone: reading them is what this run does.
    if (owned.some((partition) => !ownDone(partition))) {
      this.waiting = undefined;
      return false;
    }
    const now = performance.now();
    if (!this.checking && now - this.lastCheck >= CHECK_EVERY_MS) {
      this.checking = true;
      this.lastCheck = now;
      void this.check(owned, ownDone).finally(() => { this.checking = false; });
    }
    return this.hasJoined && this.waiting !== undefined && this.waiting.length === 0;
  }

  private async check(owned: number[], ownDone: (partition: number) => boolean): Promise<void> {
    try {
      // The coordinator answered the offsets before it is described: the binding segfaults converting a
      // description that carries a group error (a coordinator loading or moving; src/kafka/admin/admin-requests.ts).
      const committed = await this.committed();
      const [ranges, holders] = await Promise.all([this.admin.topicOffsets(this.topic), this.holders(owned.length === 0)]);
      const partitions = [...this.startEnds].map(([partition, startEnd]): PartitionInGroup => ({
        partition, startEnd,
        logStart: ranges.get(partition)?.low ?? 0,
        committed: committed.get(partition) ?? -1,
        owned: owned.includes(partition),
        ownDone: ownDone(partition),
        holder: holders.get(partition),
      }));
      this.waiting = topicEnd(partitions);
      // Before it joined, every partition is "held by no member yet": nothing worth a line.
      if (this.hasJoined) this.report(this.waiting);
    } catch (error) {
      // Asked again at the next check: a coordinator moving is no reason to stop reading.
      this.logger.debug(`reading the group ${this.group} for --exit-at-end: ${messageOf(error)}`);
    }
  }

  // Who holds each partition; nobody known where the group cannot be described. `idle`: we hold none.
  private async holders(idle: boolean): Promise<Map<number, Holder>> {
    try {
      const { state, members } = await this.admin.describeGroup(this.group);
      const holdsNone = members.some(({ partitions }) => !partitions.some((tp) => tp.topic === this.topic));
      if (idle && state === 'Stable' && holdsNone) this.joined();
      return new Map(members.flatMap(({ memberId, clientId, host, partitions }) => partitions
        .filter((tp) => tp.topic === this.topic)
        .map((tp) => [tp.partition, { memberId, clientId, host }] as const)));
    } catch (error) {
      this.logger.debug(`describing group ${this.group}: ${messageOf(error)}`);
      return new Map();
    }
  }

  private report(waiting: Waiting[]): void {
    const now = performance.now();
    for (const partition of [...this.since.keys()]) if (!waiting.some((wait) => wait.partition === partition)) this.since.delete(partition);
    for (const wait of waiting) {
      const key = `${wait.reason} ${wait.holder?.memberId ?? ''}`;
      if (this.since.get(wait.partition)?.key !== key) this.since.set(wait.partition, { key, at: now });
    }
    if (waiting.length === 0 || now - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = now;
    this.logger.info(waitingText(this.topic, waiting, (partition) => now - (this.since.get(partition)?.at ?? now)));
  }
}
