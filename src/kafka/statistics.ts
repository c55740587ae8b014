/**
 * librdkafka's statistics (statistics.interval.ms, the `event.stats` event), read into the few figures
 * an operator watches: per broker the round trip and the requests queued and awaiting answers; per
 * partition the offsets a consumer's lag comes from. Anything missing or of another type reads as -1.
 */

/** One broker connection of one client. */
export interface BrokerStatistics {
  /** "host:port/nodeid" as librdkafka names it. */
  name: string;
  nodeId: number;
  /** UP, DOWN, CONNECT, ... */
  state: string;
  /** Round trip of requests over the last window, in seconds (-1: none measured yet). */
  rttAvgSeconds: number;
  rttP99Seconds: number;
  /** Requests waiting to be sent. */
  outbufCount: number;
  /** Requests sent, waiting for their answer. */
  waitrespCount: number;
}

/** One partition as a client sees it (-1 where librdkafka does not know the figure). */
export interface PartitionStatistics {
  topic: string;
  partition: number;
  /** Log start offset. */
  loOffset: number;
  /** High watermark: the log end offset. */
  hiOffset: number;
  /** Last stable offset: where a read_committed consumer stops. */
  lsOffset: number;
  /** The group's committed offset, as this consumer last fetched or committed it itself. */
  committedOffset: number;
  /** librdkafka's own lag: end (ls for read_committed) minus committed offset. */
  consumerLag: number;
  /** Messages fetched, waiting in the consumer's queue. */
  fetchqCount: number;
}

export interface ClientStatistics {
  /** consumer or producer */
  type: string;
  /** Operations waiting to be served by a poll. */
  replyq: number;
  /** Producer: messages queued or awaiting acknowledgement. */
  msgCount: number;
  brokers: BrokerStatistics[];
  partitions: PartitionStatistics[];
}

type Json = Record<string, unknown>;

const object = (value: unknown): Json => (typeof value === 'object' && value !== null ? value as Json : {});
const number = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : -1);
// librdkafka reports round trips in microseconds; 0 until one was measured.
const seconds = (microseconds: unknown): number => (typeof microseconds === 'number' && microseconds > 0 ? microseconds / 1e6 : -1);

/** The figures of one statistics JSON document; undefined for text that is not one. */
export function parseStatistics(json: unknown): ClientStatistics | undefined {
  let document: Json;
  try {
    document = object(JSON.parse(String(json)));
  } catch {
    return undefined;
  }
  if (Object.keys(document).length === 0) return undefined;
  // Bootstrap and logical brokers (the group coordinator's second connection) have node id -1.
  const brokers = Object.values(object(document.brokers)).map(object).filter((broker) => number(broker.nodeid) >= 0).map((broker) => {
    const rtt = object(broker.rtt);
    return {
      name: String(broker.name ?? ''), nodeId: number(broker.nodeid), state: String(broker.state ?? ''),
      rttAvgSeconds: seconds(rtt.avg), rttP99Seconds: seconds(rtt.p99),
      outbufCount: number(broker.outbuf_cnt), waitrespCount: number(broker.waitresp_cnt),
    };
  });
  const partitions: PartitionStatistics[] = [];
  for (const topic of Object.values(object(document.topics)).map(object)) {
    for (const partition of Object.values(object(topic.partitions)).map(object)) {
      // -1 is librdkafka's internal "unassigned" partition of each topic.
      if (number(partition.partition) < 0) continue;
      partitions.push({
        topic: String(topic.topic ?? ''), partition: number(partition.partition),
        loOffset: number(partition.lo_offset), hiOffset: number(partition.hi_offset), lsOffset: number(partition.ls_offset),
        committedOffset: number(partition.committed_offset), consumerLag: number(partition.consumer_lag), fetchqCount: number(partition.fetchq_cnt),
      });
    }
  }
  return { type: String(document.type ?? ''), replyq: number(document.replyq), msgCount: number(document.msg_cnt), brokers, partitions };
}
