import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import avro from 'avsc';
import { ORDER_SCHEMA_TEXT, encodeOrder, type Order } from '../../src/avro/codec.js';
import { RegistryError, UndecodableError, UsageError } from '../../src/errors.js';
import { MAX_WAIT_MS, RegistryOutage } from '../../src/registry/outage.js';
import { RegistryDecoder } from '../../src/registry/registry-decoder.js';
import { SchemaRegistry, proxied } from '../../src/registry/schema-registry.js';
import { resolveRegistry } from '../../src/registry/settings.js';
import { bareAvro } from '../../src/registry/value-format.js';
import { readFrame, schemaIdOf, wireHeader } from '../../src/registry/wire.js';

const order: Order = { orderId: 'o-1', product: 'lamp', price: 12.5, createdAt: 1_700_000_000_000 };
const framed = (id: number, body: Buffer = encodeOrder(order)): Buffer => Buffer.concat([wireHeader(id), body]);

// v2: one more field with a default, which is BACKWARD-compatible with v1.
const V2 = { ...(JSON.parse(ORDER_SCHEMA_TEXT) as { fields: unknown[] }) };
V2.fields = [...V2.fields, { name: 'currency', type: 'string', default: 'EUR' }];
const v2Type = avro.Type.forSchema(V2 as avro.Schema);

describe('the Confluent wire format', () => {
  it('writes magic byte 0 and the id big-endian, and reads them back', () => {
    assert.deepEqual([...wireHeader(0x01020304)], [0, 1, 2, 3, 4]);
    const { schemaId, body } = readFrame(framed(7));
    assert.equal(schemaId, 7);
    assert.deepEqual(body, encodeOrder(order));
  });

  it('calls a value without the magic byte, or shorter than the header, undecodable', () => {
    assert.throws(() => readFrame(Buffer.from([1, 0, 0, 0, 1, 2])), (error: unknown) => error instanceof UndecodableError && /byte 0x01, not the schema registry magic byte/.test(error.message));
    assert.throws(() => readFrame(Buffer.from([0, 0, 0])), /3 bytes is shorter than the 5-byte/);
    assert.throws(() => readFrame(null), UndecodableError);
    assert.equal(schemaIdOf(Buffer.from([0, 0, 0])), null);
    assert.equal(schemaIdOf(framed(9)), 9);
  });

  it('hints at --schema-registry when bare Avro decoding meets a framed value', () => {
    assert.throws(() => bareAvro.decode(framed(3)), /schema id 3: was --schema-registry meant\?/);
  });
});

describe('the registry settings', () => {
  it('take --schema-registry over schema.registry.url over $SCHEMA_REGISTRY_URL, and none means bare Avro', () => {
    const props = { 'schema.registry.url': 'http://file:8081' };
    assert.equal(resolveRegistry('http://flag:8081/apis/ccompat/v7/', props, { SCHEMA_REGISTRY_URL: 'http://env:8081' })?.url, 'http://flag:8081/apis/ccompat/v7');
    assert.equal(resolveRegistry(undefined, props, { SCHEMA_REGISTRY_URL: 'http://env:8081' })?.url, 'http://file:8081');
    assert.equal(resolveRegistry(undefined, {}, { SCHEMA_REGISTRY_URL: 'http://env:8081' })?.url, 'http://env:8081');
    assert.equal(resolveRegistry(undefined, {}, {}), undefined);
  });

  it('move credentials out of the URL into basic auth, and list them as secrets', () => {
    const settings = resolveRegistry('https://alice:s%40cret@registry:8081/x', {}, {});
    assert.equal(settings?.url, 'https://registry:8081/x');
    assert.equal(settings?.userInfo, 'alice:s@cret');
    for (const secret of ['s@cret', 's%40cret', 'alice:s@cret']) assert.ok(settings?.secrets.includes(secret), secret);
    const fromFile = resolveRegistry(undefined, { 'schema.registry.url': 'http://r:1', 'schema.registry.basic.auth.user.info': 'bob:pw' }, {});
    assert.deepEqual([fromFile?.userInfo, fromFile?.secrets], ['bob:pw', ['bob:pw', 'pw', Buffer.from('bob:pw').toString('base64')]]);
  });

  it('refuse what would fail later, without showing a password', () => {
    assert.throws(() => resolveRegistry('registry:8081', {}, {}), (error: unknown) => error instanceof UsageError && /must be an http:\/\/ or https:\/\/ URL/.test(error.message));
    assert.throws(() => resolveRegistry('not a url with a:secret@', {}, {}), (error: unknown) => error instanceof UsageError && !error.message.includes('secret'));
    assert.throws(() => resolveRegistry('', {}, {}), /must not be empty/);
    assert.throws(() => resolveRegistry('http://r:1', { 'schema.registry.ssl.truststore.location': '/x' }, {}), /schema.registry.ssl.truststore.location is not supported/);
    assert.throws(() => resolveRegistry('http://r:1', { 'schema.registry.basic.auth.user.info': 'nocolon' }, {}), /must be user:password/);
    assert.throws(() => resolveRegistry('http://r:1', { 'schema.registry.basic.auth.credentials.source': 'SASL_INHERIT' }, {}), /must be USER_INFO/);
  });
});

/** A registry whose answers the test sets, counting requests per id. */
function fakeRegistry(answers: Map<number, () => Promise<{ schema: string; schemaType?: string }>>) {
  const requests = new Map<number, number>();
  return {
    requests,
    schemaById: (id: number) => {
      requests.set(id, (requests.get(id) ?? 0) + 1);
      const answer = answers.get(id);
      return answer === undefined ? Promise.reject(new UndecodableError(`schema id ${id} is not in the schema registry`)) : answer();
    },
  };
}

function quietOutage() {
  const waits: number[] = [];
  const logs: string[] = [];
  let now = 0;
  const outage = new RegistryOutage({
    sleep: async (ms) => { waits.push(ms); now += ms; },
    warn: (message) => logs.push(`warn ${message}`),
    info: (message) => logs.push(`info ${message}`),
    now: () => now,
  });
  return { outage, waits, logs };
}

describe('decoding through the registry', () => {
  it('fetches each writer schema once, however many records need it at once', async () => {
    const registry = fakeRegistry(new Map([[1, async () => ({ schema: ORDER_SCHEMA_TEXT })]]));
    const decoder = new RegistryDecoder(registry, quietOutage().outage);
    const decoded = await Promise.all(Array.from({ length: 20 }, () => decoder.decode(framed(1))));
    assert.deepEqual({ ...decoded[19] }, order);
    assert.deepEqual({ ...(await decoder.decode(framed(1))) }, order);
    assert.equal(registry.requests.get(1), 1);
  });

  it('reads values of a newer BACKWARD-compatible schema into the order schema', async () => {
    const registry = fakeRegistry(new Map([[1, async () => ({ schema: ORDER_SCHEMA_TEXT })], [2, async () => ({ schema: JSON.stringify(V2), schemaType: 'AVRO' })]]));
    const decoder = new RegistryDecoder(registry, quietOutage().outage);
    const v2 = framed(2, v2Type.toBuffer({ ...order, orderId: 'o-2', currency: 'USD' }));
    assert.deepEqual({ ...(await decoder.decode(v2)) }, { ...order, orderId: 'o-2' });
    assert.deepEqual({ ...(await decoder.decode(framed(1))) }, order);
  });

  it('calls an unknown id, a truncated body, trailing bytes, a non-Avro or unresolvable schema undecodable, and remembers the unknown id', async () => {
    const unrelated = { type: 'record', name: 'Order', namespace: 'orders', fields: [{ name: 'sku', type: 'int' }] };
    const registry = fakeRegistry(new Map([
      [1, async () => ({ schema: ORDER_SCHEMA_TEXT })],
      [3, async () => ({ schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' })],
      [4, async () => ({ schema: JSON.stringify(unrelated) })],
    ]));
    const decoder = new RegistryDecoder(registry, quietOutage().outage);
    const body = encodeOrder(order);
    const cases: [Buffer, RegExp][] = [
      [framed(99), /schema id 99 is not in the schema registry/],
      [framed(99), /schema id 99 is not in the schema registry/],
      [framed(1, body.subarray(0, body.length - 2)), /not an Avro Order/],
      [framed(1, Buffer.concat([body, Buffer.from([7])])), /trailing data/],
      [framed(3), /PROTOBUF schema, not Avro/],
      [framed(4), /schema id 4 cannot be read as an Order/],
    ];
    for (const [value, message] of cases) {
      await assert.rejects(async () => decoder.decode(value), (error: unknown) => error instanceof UndecodableError && message.test(error.message));
    }
    assert.equal(registry.requests.get(99), 1);
  });

  it('waits out a registry that does not answer, backing off, and logs the outage once until it answers', async () => {
    let down = 9;
    const registry = fakeRegistry(new Map([[1, async () => {
      if (down-- > 0) throw new RegistryError('schema registry at http://r did not answer fetching schema id 1: connect ECONNREFUSED', true);
      return { schema: ORDER_SCHEMA_TEXT };
    }]]));
    const { outage, waits, logs } = quietOutage();
    const decoder = new RegistryDecoder(registry, outage);
    assert.deepEqual({ ...(await decoder.decode(framed(1))) }, order);
    assert.deepEqual(waits, [200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, MAX_WAIT_MS]);
    // Logged when it began, again once 30 s had passed, and when it answered.
    assert.equal(logs.length, 3, logs.join('\n'));
    assert.match(logs[0] ?? '', /^warn .*ECONNREFUSED; records needing it wait/);
    assert.match(logs[1] ?? '', /^warn schema registry still not answering after \d+ s/);
    assert.match(logs[2] ?? '', /^info schema registry answers again after 81\.0 s/);
  });

  it('lets a refusal no retry fixes (401, 403) through, and a stop end the wait, neither as undecodable', async () => {
    const refused = new RegistryError('schema registry at http://r refused the credentials (HTTP 401)', false);
    const decoder = new RegistryDecoder(fakeRegistry(new Map([[1, () => Promise.reject(refused)]])), quietOutage().outage);
    await assert.rejects(async () => decoder.decode(framed(1)), refused);
    const stopped = new Error('stopped');
    const outage = new RegistryOutage({ sleep: () => Promise.reject(stopped), warn: () => {}, info: () => {}, now: () => 0 });
    const down = new RegistryDecoder(fakeRegistry(new Map([[1, () => Promise.reject(new RegistryError('down', true))]])), outage);
    await assert.rejects(async () => down.decode(framed(1)), stopped);
  });
});

/** An HTTP server on 127.0.0.1 that answers every request with `answer`; closed at the test's end. */
async function registryAnswering(t: TestContext, answer: (response: ServerResponse) => void): Promise<string> {
  const server = createServer((_request, response) => answer(response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/apis/ccompat/v7`;
}

const json = (status: number, body: unknown) => (response: ServerResponse): void => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};
const settingsOf = (url: string) => ({ url, userInfo: undefined, secrets: [] });
const fetchOne = (url: string, timeoutMs = 2_000, stop?: AbortSignal) => new SchemaRegistry(settingsOf(url), timeoutMs, stop).schemaById(1);
const registryError = (canRetry: boolean, message: RegExp) => (error: unknown) => error instanceof RegistryError && error.canRetry === canRetry && message.test(error.message);

describe('what the registry answers, classified', () => {
  it('takes only the registry\'s own "not found" (40403) as an unknown id', async (t) => {
    await assert.rejects(fetchOne(await registryAnswering(t, json(404, { error_code: 40403, message: 'Schema 1 not found' }))), UndecodableError);
    // A wrong URL or a proxy's 404 is no verdict on the record.
    const html = await registryAnswering(t, (response) => response.writeHead(404, { 'content-type': 'text/html' }).end('<html>Not Found</html>'));
    await assert.rejects(fetchOne(html), registryError(false, /answered HTTP 404 fetching schema id 1; is that the registry's API/));
  });

  it('refuses a 200 that is not a schema (a login page) without blaming the record', async (t) => {
    const page = await registryAnswering(t, (response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>Sign in</html>'));
    await assert.rejects(fetchOne(page), registryError(false, /with something that is not a schema/));
  });

  it('waits out 5xx, 429, refused connections and timeouts; not 401', async (t) => {
    await assert.rejects(fetchOne(await registryAnswering(t, json(503, { error_code: 50301, message: 'down' }))), registryError(true, /did not answer fetching schema id 1: HTTP 503/));
    await assert.rejects(fetchOne(await registryAnswering(t, json(429, { message: 'slow down' }))), registryError(true, /HTTP 429/));
    await assert.rejects(fetchOne('http://127.0.0.1:9/x'), registryError(true, /ECONNREFUSED/));
    const silent = await registryAnswering(t, () => {});
    await assert.rejects(fetchOne(silent, 300), registryError(true, /did not answer .*timeout/));
    await assert.rejects(fetchOne(await registryAnswering(t, json(401, { error_code: 401, message: 'Unauthorized' }))), registryError(false, /refused the credentials \(HTTP 401\)/));
  });

  it('registers with one POST: the id, basic auth, and refusals and outages classified as for a fetch', async (t) => {
    const seen: { path: string | undefined; auth: string | undefined; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      request.on('end', () => {
        seen.push({ path: request.url, auth: request.headers.authorization, body });
        json(200, { id: 7 })(response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/apis/ccompat/v7`;
    assert.equal(await new SchemaRegistry({ url, userInfo: 'u:p w', secrets: [] }, 2_000).register('t 1-value', ORDER_SCHEMA_TEXT), 7);
    assert.deepEqual(seen, [{ path: '/apis/ccompat/v7/subjects/t%201-value/versions?normalize=false', auth: `Basic ${Buffer.from('u:p w').toString('base64')}`, body: JSON.stringify({ schemaType: 'AVRO', schema: ORDER_SCHEMA_TEXT }) }]);
    const registerOne = (at: string, timeoutMs = 2_000) => new SchemaRegistry(settingsOf(at), timeoutMs).register('t-value', ORDER_SCHEMA_TEXT);
    await assert.rejects(registerOne(await registryAnswering(t, json(409, { error_code: 409, message: 'incompatible' }))), registryError(false, /incompatible with the subject's earlier versions \(HTTP 409\) registering the schema under subject t-value: incompatible/));
    await assert.rejects(registerOne(await registryAnswering(t, json(401, { error_code: 401, message: 'Unauthorized' }))), registryError(false, /refused the credentials \(HTTP 401\)/));
    await assert.rejects(registerOne(await registryAnswering(t, json(503, { message: 'down' }))), registryError(true, /did not answer registering .*HTTP 503/));
    await assert.rejects(registerOne('http://127.0.0.1:9/x'), registryError(true, /ECONNREFUSED/));
    await assert.rejects(registerOne(await registryAnswering(t, () => {}), 300), registryError(true, /did not answer .*timeout/));
    await assert.rejects(registerOne(await registryAnswering(t, json(200, { nope: 1 }))), registryError(false, /not a schema id/));
  });

  it('gives up a request in progress at once when stopped', async (t) => {
    const silent = await registryAnswering(t, () => {});
    const stop = new AbortController();
    const started = performance.now();
    setTimeout(() => stop.abort(new Error('stopped')), 100);
    await assert.rejects(fetchOne(silent, 60_000, stop.signal), /stopped/);
    assert.ok(performance.now() - started < 2_000);
  });
});

describe('the outage', () => {
  it('ends every wait once one caller gets an answer', async () => {
    const outage = new RegistryOutage({ sleep: () => new Promise(() => {}), warn: () => {}, info: () => {}, now: () => 0 });
    const waits = [outage.wait(new Error('down'), 8), outage.wait(new Error('down'), 9)];
    outage.answered();
    await Promise.all(waits);
  });
});

describe('registering behind a proxy', () => {
  it('keeps Confluent\'s client (which goes through HTTP(S)_PROXY) when one is set for the URL\'s scheme', () => {
    assert.equal(proxied('http://registry:8081', {}), false);
    assert.equal(proxied('http://registry:8081', { HTTP_PROXY: 'http://proxy:3128' }), true);
    assert.equal(proxied('http://registry:8081', { http_proxy: 'http://proxy:3128' }), true);
    assert.equal(proxied('http://registry:8081', { HTTPS_PROXY: 'http://proxy:3128' }), false);
    assert.equal(proxied('https://registry:8081', { HTTPS_PROXY: 'http://proxy:3128' }), true);
    assert.equal(proxied('https://registry:8081', { HTTP_PROXY: '' }), false);
  });
});

