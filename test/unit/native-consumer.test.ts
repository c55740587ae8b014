import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NativeConsumer } from '../../src/kafka/consumer/native-consumer.js';

describe('the native consumer', () => {
  it('reports an (un)assign that librdkafka refuses instead of throwing it out of rebalance_cb (soak seed 20261207 round 30)', () => {
    const heard: string[] = [];
    // Never connected: nothing is asked of a broker, and nothing needs a disconnect.
    const consumer = new NativeConsumer({ 'group.id': 'orders-unit', 'bootstrap.servers': '127.0.0.1:9' }, (message) => heard.push(message));
    const refuse = (): never => { throw new Error('Local: Erroneous state'); };
    Object.assign(consumer.client, { assign: refuse, unassign: refuse, incrementalAssign: refuse, incrementalUnassign: refuse });
    assert.doesNotThrow(() => consumer.finish({ kind: 'assign', partitions: [{ topic: 't', partition: 0 }], lost: false }));
    assert.doesNotThrow(() => consumer.finish({ kind: 'revoke', partitions: [{ topic: 't', partition: 0 }], lost: false }));
    assert.equal(heard.length, 2);
    assert.match(heard[0] ?? '', /assign of 1 partitions refused by librdkafka: Local: Erroneous state/);
  });
});
