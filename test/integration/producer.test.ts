import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaSession } from '../../src/kafka/session.js';
import { silentLogger } from '../../src/logger.js';
import { BROKERS, createTopic, uniqueName } from '../helpers.js';

// Without a nudge, 1 connect in 2-6 left the producer id to librdkafka's 500 ms timer, so the first orders
// of a `--rate` run sat queued for half a second; ten connects make that race show.
test('the native producer has its producer id once connected, so the first orders are not held back', async (t) => {
  const topic = uniqueName('producer-id');
  await createTopic(topic);
  for (let attempt = 1; attempt <= 10; attempt++) {
    const session = new KafkaSession({ brokers: [BROKERS], timeoutMs: 10_000, properties: {}, registry: undefined, logLevel: 'silent' }, silentLogger, new AbortController().signal);
    t.after(() => session.close());
    const producer = await session.connect(session.nativeProducer(topic, 'errors', () => {}), 'producer');
    assert.equal(producer.idempotenceState, 'Assigned', `connect ${attempt} of 10 returned before the producer id`);
    await session.close();
  }
});
