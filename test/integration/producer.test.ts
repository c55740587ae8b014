import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaSession } from '../../src/kafka/session.js';
import { silentLogger } from '../../src/logger.js';
import { BROKERS, createTopic, uniqueName } from '../helpers.js';

// Orders made before the producer id sat queued (half a second when librdkafka's 500 ms timer asked for it,
// which the bench's latency rows measure); connect() now returns with the id, ten times over.
test('the native producer has its producer id once connected, so the first orders are not held back', async () => {
  const topic = uniqueName('producer-id');
  await createTopic(topic);
  for (let attempt = 1; attempt <= 10; attempt++) {
    const session = new KafkaSession({ brokers: [BROKERS], timeoutMs: 10_000, properties: {}, registry: undefined, logLevel: 'silent' }, silentLogger, new AbortController().signal);
    try {
      const producer = await session.connect(session.nativeProducer(topic, 'errors', () => {}), 'producer');
      assert.equal(producer.idempotenceState, 'Assigned', `connect ${attempt} of 10 returned before the producer id`);
    } finally {
      await session.close();
    }
  }
});
