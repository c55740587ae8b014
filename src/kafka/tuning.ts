/** The tool's own settings of its librdkafka clients, each measured; the user's properties go over them. */

// Measured with 1,000,000 orders (npm run bench): linger 1 ms beat 5 ms and 20 ms, as node, not the
// network, is the bottleneck; lz4 and zstd were alike and a little ahead of none, lz4 costs less CPU.
// Batches as librdkafka's defaults, written out so kcat in the bench, on its own librdkafka, gets the same.
// One request in flight per broker: with more, a partition's first request refused by a leader that was
// moving (NOT_LEADER, nothing written) could be overtaken by the next one, which the new leader, with no state
// of this producer, accepted at sequence 1; librdkafka then counted the refused orders delivered and they
// were lost (1 order in 40 runs of 1,000 while a node was killed and restarted). Not slower, measured: 1,000,000 orders on one
// broker 4.1 s against 4.3 s; 300,000 on the three-node cluster 2.9 s against 4.6 s (fuller batches).
export const PRODUCER_TUNING = { 'linger.ms': 1, 'compression.codec': 'lz4', 'batch.num.messages': 10_000, 'batch.size': 1_000_000, 'max.in.flight.requests.per.connection': 1 } as const;

// librdkafka's prefetch queue, small: consuming 1,000,000 orders, 1 MB and 10,000 messages gave a
// median peak RSS of 408 MB against 568 MB with 8 MB, at the same speed, once a queue found full is
// fetched into again after 10 ms instead of librdkafka's 1 s (which alone made it 2.7 x slower).
// Issue 27: 256 KB and 2,000 messages a partition with 128 KB fetches: the bare consume loop peaked at
// 118 MB against 132 MB (181 MB on librdkafka's defaults) in 7.4 CPU s against 9.8, orders consume
// at-least-once at 286 and 322 MB against 305 and 348 MB in as much CPU (1,000,000 orders, load 17-44).
export const CONSUMER_QUEUE = {
  'queued.max.messages.kbytes': 256,
  'queued.min.messages': 2_000,
  'fetch.queue.backoff.ms': 10,
} as const;

// Measured consuming 1,000,000 orders: the client's defaults prefetch far ahead of processing (1.2 GB peak RSS).
export const CONSUMER_TUNING = {
  'fetch.message.max.bytes': 131_072,
  ...CONSUMER_QUEUE,
} as const;

// Reconnect quickly after a broker restart instead of backing off to 10 s.
export const RECONNECT = { 'reconnect.backoff.ms': 100, 'reconnect.backoff.max.ms': 1000 } as const;

// What the KafkaJS API gives its idempotent producer besides our tuning (lib/kafkajs/_producer.js and
// _common.js), so the native producer behaves alike: same partitions per key, same retries.
export const NATIVE_PRODUCER_SETTINGS = {
  'enable.idempotence': true,
  acks: 'all',
  partitioner: 'murmur2_random',
  retries: 5,
  'retry.backoff.ms': 300,
  'socket.connection.setup.timeout.ms': 11_000,
} as const;

// How long produce keeps trying an order (librdkafka's message.timeout.ms, 300 s by default): Java's
// delivery.timeout.ms, 120 s, which outlasts a failover (a dead broker is fenced after 9 s, then an election).
export const DELIVERY_TIMEOUT_MS = 120_000;
