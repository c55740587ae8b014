import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statistics } from '../../src/kafka/producer/native-producer.js';

describe("reading librdkafka's producer statistics", () => {
  it('takes the messages held and the producer id state', () => {
    assert.deepEqual(statistics('{"msg_cnt":12,"eos":{"idemp_state":"Assigned","txn_state":"Init"}}'), { held: 12, idempotence: 'Assigned' });
  });

  it('leaves out what is missing or of another type: no eos for a producer that is not idempotent', () => {
    assert.deepEqual(statistics('{"msg_cnt":0}'), { held: 0 });
    assert.deepEqual(statistics('{"msg_cnt":"12","eos":{"idemp_state":3}}'), {});
  });

  it('gives nothing for text that is not JSON', () => {
    assert.deepEqual(statistics('{"msg_cnt":'), {});
    assert.deepEqual(statistics(undefined), {});
  });
});
