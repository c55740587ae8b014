import kafkaJavascript from '@confluentinc/kafka-javascript';
import { MissingTopicError } from '../../errors.js';
import type { Access } from '../failures.js';
import type { LibraryLog } from '../library-log.js';
import type { StepOptions, StepRunner } from '../step.js';
import { transientCause } from '../transient.js';
import type { Admin, AdminClient } from './admin-client.js';

const { IsolationLevel } = kafkaJavascript.KafkaJS;

export type { Admin } from './admin-client.js';

export interface TopicSpec {
  topic: string;
  /** Keep only the newest record per key (cleanup.policy=compact). */
  compacted?: boolean;
}

export interface LogRange {
  low: number;
  high: number;
}

/** A consumer group as the coordinator describes it. */
export interface GroupDescription {
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Dead (no such group) or Unknown. */
  state: string;
  /** "consumer" for a group of consumers; empty for a group that only has committed offsets or none. */
  protocolType: string;
  /** The assignor, e.g. range or cooperative-sticky. */
  protocol: string;
  members: { memberId: string; clientId: string; host: string; partitions: { topic: string; partition: number }[] }[];
}

const GROUP_STATES = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'] as const;

// An admin request that takes longer is asked again on a new client (librdkafka's own default is 5 s).
const ADMIN_ATTEMPT_MS = 5_000;
// A request to a group's coordinator (describeGroups, fetchOffsets) must never time out inside librdkafka
// while the process lives: librdkafka 2.x then frees its state twice and aborts or segfaults a moment later
// (rd_kafka_admin_coord_response_parse, confluentinc/librdkafka#5397; seen in 4 of 12 runs at 500-1000 ms,
// 0 of 12 at 2-5 s). Our own step deadline ends it first, and the process exits without disconnecting.
const COORDINATOR_MARGIN_MS = 30_000;

/** What the admin requests take from the session: its steps, its log, and its client lifecycle. */
export interface AdminScope {
  readonly brokers: string[];
  readonly timeoutMs: number;
  readonly steps: StepRunner;
  readonly log: LibraryLog;
  /** A new admin client, tracked by the session, not yet connected. */
  makeAdmin(): AdminClient;
  connectNew<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(make: () => T, what: string, access?: Access, options?: StepOptions): Promise<T>;
  /** A client the session's close must not wait for. */
  forget(client: { disconnect(): Promise<void> }): void;
}

/** The admin requests of one command run, on one admin client made on first use (and again after a transient failure). */
export class AdminRequests {
  private connectedAdmin: Promise<AdminClient> | undefined;

  constructor(private readonly scope: AdminScope) {}

  /** The session's admin client, connected on first use (and again after a transient failure, see adminRequest). */
  private admin(): Promise<AdminClient> {
    this.connectedAdmin ??= this.scope.connectNew(() => this.scope.makeAdmin(), 'admin client');
    return this.connectedAdmin;
  }

  /**
   * An admin request as a step, each attempt bounded by ADMIN_ATTEMPT_MS. After a transient failure
   * the next attempt gets a new admin client: librdkafka's admin sends CreateTopics and DescribeTopics
   * to the controller it last heard of, and waited for a SIGKILLed one until our deadline (seen: 30 s of
   * "Timed out waiting for controller" while two brokers answered); a new client asks the live ones.
   */
  private adminRequest<T>(what: string, request: (admin: Admin, attemptMs: number) => Promise<T>, access?: Access): Promise<T> {
    return this.scope.steps.run(what, async (remainingMs) => {
      const connected = this.admin();
      const admin = await connected;
      try {
        return await admin.request((client) => request(client, Math.max(500, Math.min(ADMIN_ATTEMPT_MS, remainingMs))));
      } catch (error) {
        if (transientCause(error) !== undefined) this.dropAdmin(connected, admin);
        throw error;
      }
    }, access);
  }

  /**
   * A request to a group's coordinator, on the session's admin client, with a librdkafka timeout past the
   * step's deadline (see COORDINATOR_MARGIN_MS): the step gives up first. The client is never dropped
   * for it: librdkafka finds a moved coordinator by itself.
   */
  private coordinatorRequest<T>(what: string, request: (admin: Admin, timeoutMs: number) => Promise<T>, access?: Access): Promise<T> {
    return this.scope.steps.run(what, async (remainingMs) => {
      const admin = await this.admin();
      return admin.request((client) => request(client, remainingMs + COORDINATOR_MARGIN_MS));
    }, access);
  }

  // Another request may have replaced it already: then only this one goes, once its other requests ended.
  private dropAdmin(connected: Promise<AdminClient>, admin: AdminClient): void {
    if (this.connectedAdmin === connected) this.connectedAdmin = undefined;
    this.scope.forget(admin);
    void admin.disconnect();
  }

  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  async ensureTopics(topics: (string | TopicSpec)[], { partitions, replicationFactor }: { partitions: number; replicationFactor: number }): Promise<void> {
    // Listing needs any one broker; creating needs the controller quorum, which a cluster that lost
    // brokers may not have: topics that exist need nothing more.
    const existing = new Set(await this.adminRequest('listing topics', (admin, attemptMs) => admin.listTopics({ timeout: attemptMs })));
    const specs = topics.map((topic) => (typeof topic === 'string' ? { topic } : topic)).filter((spec) => !existing.has(spec.topic));
    if (specs.length === 0) return;
    await this.adminRequest(`creating topics ${specs.map((spec) => spec.topic).join(', ')}`, (admin, attemptMs) => admin.createTopics({
      // One request per topic, run one after another in librdkafka: together they end with the attempt,
      // so no request outlives the step (the process exit would wait for it). Existing topics count as made.
      timeout: Math.max(500, Math.floor(attemptMs / specs.length)),
      topics: specs.map(({ topic, compacted }) => ({
        topic,
        numPartitions: partitions,
        replicationFactor,
        configEntries: compacted === true ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    }), { operation: 'CREATE', resource: `topics ${specs.map((spec) => spec.topic).join(', ')}` });
    this.scope.log.wasAnswered();
  }

  /** For commands that only read: a missing topic is the user's mistake to hear about, not one to create. */
  async requireTopics(topics: string[]): Promise<void> {
    const existing = new Set(await this.adminRequest('listing topics', (admin, attemptMs) => admin.listTopics({ timeout: attemptMs })));
    this.scope.log.wasAnswered();
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) throw new MissingTopicError(`topic ${missing.join(', ')} does not exist on ${this.scope.brokers.join(',')}`);
  }

  async topicExists(topic: string): Promise<boolean> {
    return (await this.adminRequest('listing topics', (admin, attemptMs) => admin.listTopics({ timeout: attemptMs }))).includes(topic);
  }

  // A group's committed offsets are read by a consumer (src/kafka/consumer/group-offsets.ts), never here:
  // librdkafka's admin OffsetFetch dereferences a null group handle when the coordinator moves.

  /**
   * How the group's coordinator describes `group`: its state, protocol and members with their partitions.
   * Ask it only once the coordinator answered something else (the group's offsets): the binding (1.10.1)
   * converts a description that carries a group error (COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR) by
   * reading its null assignor name, a SIGSEGV (FromConsumerGroupDescription → strlen(NULL), caught with gdb).
   */
  async describeGroup(group: string): Promise<GroupDescription> {
    const { groups } = await this.coordinatorRequest(`describing group ${group}`, (admin, timeoutMs) => admin.describeGroups([group], { timeout: timeoutMs }), { operation: 'DESCRIBE', resource: `group ${group}` });
    const found = groups.find((entry) => entry.groupId === group);
    if (found?.error !== undefined) throw found.error;
    return {
      state: GROUP_STATES[found?.state ?? 0] ?? 'Unknown',
      protocolType: found?.protocolType ?? '',
      protocol: found?.protocol ?? '',
      members: (found?.members ?? []).map((member) => ({
        memberId: member.memberId, clientId: member.clientId, host: member.clientHost,
        partitions: (member.assignment?.topicPartitions ?? []).map(({ topic, partition }) => ({ topic, partition })),
      })),
    };
  }

  /** Log start and high watermark of every partition of `topic`; read_committed, the end is the last stable offset instead. */
  async topicOffsets(topic: string, isolationLevel = IsolationLevel.READ_UNCOMMITTED): Promise<Map<number, LogRange>> {
    const offsets = await this.adminRequest(`reading the offsets of ${topic}`, (admin, attemptMs) => admin.fetchTopicOffsets(topic, { timeout: attemptMs, isolationLevel }), { operation: 'DESCRIBE', resource: `topic ${topic}` });
    return new Map(offsets.map((entry) => [entry.partition, { low: Number(entry.low), high: Number(entry.high) }]));
  }

  /** Whether a transaction is open on some partition of `topic`: what it wrote holds back every later record (LSO < high watermark). */
  async transactionOpenOn(topic: string): Promise<boolean> {
    const [stable, written] = await Promise.all([this.topicOffsets(topic, IsolationLevel.READ_COMMITTED), this.topicOffsets(topic)]);
    return [...stable].some(([partition, { high }]) => high < (written.get(partition)?.high ?? 0));
  }
}
