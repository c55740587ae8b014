import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrderWriter, decodeOrder, encodeOrder, type Order } from '../../src/avro/codec.js';
import { UndecodableError } from '../../src/errors.js';
import { orderGenerator, seededRandom } from '../../src/orders/generate.js';

const order: Order = { orderId: 'a1', product: 'mouse', price: 12.5, createdAt: 1_700_000_000_123 };

describe('Avro codec', () => {
  it('round-trips an order', () => {
    assert.deepEqual({ ...decodeOrder(encodeOrder(order)) }, order);
  });

  it('round-trips generated orders', () => {
    const next = orderGenerator(7);
    for (let i = 0; i < 1000; i++) {
      const generated = next();
      assert.deepEqual({ ...decodeOrder(encodeOrder(generated)) }, generated);
    }
  });

  it('writes the same bytes as encodeOrder into one reused buffer, after a fixed prefix', () => {
    const prefix = Buffer.from([0, 0, 0, 0, 42]);
    const plain = new OrderWriter();
    const prefixed = new OrderWriter(prefix);
    const next = orderGenerator(11);
    for (let i = 0; i < 100; i++) {
      const generated = next();
      assert.deepEqual(plain.write(generated), encodeOrder(generated));
      assert.deepEqual(prefixed.write(generated), Buffer.concat([prefix, encodeOrder(generated)]));
      assert.deepEqual(prefixed.orderIdBytes(), Buffer.from(generated.orderId));
    }
    // An order larger than the buffer makes it grow, prefix and all.
    const large = { ...order, orderId: 'x'.repeat(1000) };
    assert.deepEqual(prefixed.write(large), Buffer.concat([prefix, encodeOrder(large)]));
    assert.deepEqual(prefixed.orderIdBytes(), Buffer.from(large.orderId));
    assert.deepEqual(prefixed.write(order), Buffer.concat([prefix, encodeOrder(order)]));
    const accented = { ...order, orderId: 'commande-é-€' };
    plain.write(accented);
    assert.deepEqual(plain.orderIdBytes(), Buffer.from(accented.orderId));
  });

  it('rejects a missing value, empty bytes, truncated bytes and trailing bytes', () => {
    const bytes = encodeOrder(order);
    for (const bad of [null, Buffer.alloc(0), bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.from([0])])]) {
      assert.throws(() => decodeOrder(bad), UndecodableError);
    }
  });

  it('rejects text that is not Avro', () => {
    assert.throws(() => decodeOrder(Buffer.from('{"orderId":"a1","price":3}')), UndecodableError);
  });

  it('rejects strings that are not valid UTF-8 and prices that are not finite', () => {
    const badUtf8 = Buffer.from(encodeOrder({ ...order, orderId: 'ab' }));
    badUtf8[1] = 0xff; // first byte of orderId, after its zig-zag length
    assert.throws(() => decodeOrder(badUtf8), /not valid UTF-8/);
    assert.throws(() => decodeOrder(encodeOrder({ ...order, price: Number.NaN })), /price is NaN/);
    assert.throws(() => decodeOrder(encodeOrder({ ...order, orderId: '' })), /orderId is empty/);
  });

  it('never returns a half-valid order from random bytes', () => {
    const random = seededRandom(99);
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      try {
        const decoded = decodeOrder(bytes);
        // Anything accepted must be a real Order that encodes back to the very same bytes.
        assert.deepEqual(encodeOrder(decoded), bytes);
      } catch (error) {
        assert.ok(error instanceof UndecodableError, `unexpected ${String(error)}`);
        rejected++;
      }
    }
    assert.ok(rejected > 4900, `only ${rejected} of 5000 random payloads rejected`);
  });
});
