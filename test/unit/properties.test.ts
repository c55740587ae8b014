import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseProduceOptions } from '../../src/config/flags.js';
import { UsageError } from '../../src/errors.js';
import { checkProperties, clientProperties, isSecret, parseProperties } from '../../src/kafka/properties.js';
import { Redactor } from '../../src/redact.js';

const usage = (message: RegExp) => (error: unknown) => error instanceof UsageError && message.test(error.message);

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'orders-props-')), 'client.properties');
  writeFileSync(path, text);
  return path;
}

describe('client properties', () => {
  it('read key=value lines like kcat -F: comments, blanks, = inside values', () => {
    assert.deepEqual(parseProperties('# Confluent Cloud\n\nbootstrap.servers=pkc-1.example:9092\n! also a comment\nsasl.password = a=b=c \n', 'f'), {
      'bootstrap.servers': 'pkc-1.example:9092', 'sasl.password': 'a=b=c',
    });
  });

  it('name the file and line of a malformed line, without its text', () => {
    assert.throws(() => parseProperties('a=1\nsasl.password hunter2\n', 'client.properties'), (error: unknown) =>
      usage(/^client\.properties line 2: expected key=value$/)(error) && !String((error as Error).message).includes('hunter2'));
  });

  it('refuse unknown names, bad values and what the tool owns, each with a reason', () => {
    assert.throws(() => checkProperties({ 'linger.mss': '5' }), usage(/^unknown property linger\.mss$/));
    assert.throws(() => checkProperties({ 'security.protocol': 'tls' }), usage(/^property security\.protocol: Invalid value "tls"/));
    assert.throws(() => checkProperties({ 'enable.idempotence': 'false' }), usage(/^property enable\.idempotence cannot be set: producers are always idempotent/));
    assert.throws(() => checkProperties({ 'isolation.level': 'read_uncommitted' }), usage(/^property isolation\.level cannot be set/));
    assert.throws(() => checkProperties({ 'transactional.id': 'x' }), usage(/^property transactional\.id cannot be set/));
    checkProperties({ 'security.protocol': 'SASL_SSL', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 'p', 'fetch.wait.max.ms': '50', 'schema.registry.url': 'http://r' });
  });

  it('know which names hold secrets', () => {
    assert.ok(isSecret('sasl.password') && isSecret('sasl.oauthbearer.client.secret') && isSecret('basic.auth.user.info') && isSecret('schema.registry.basic.auth.user.info'));
    assert.ok(!isSecret('sasl.username'));
  });

  it('take precedence as flags > -X > --config > environment > defaults', () => {
    const config = file('bootstrap.servers=from-file:9092\nclient.id=file\nlinger.ms=5\n');
    const env = { KAFKA_BROKERS: 'from-env:9092' };
    assert.deepEqual(parseProduceOptions({}, env).brokers, ['from-env:9092']);
    assert.deepEqual(parseProduceOptions({ config }, env).brokers, ['from-file:9092']);
    assert.deepEqual(parseProduceOptions({}, { ...env, ORDERS_CONFIG: config }).brokers, ['from-file:9092']);
    const overridden = parseProduceOptions({ config, property: ['bootstrap.servers=from-x:9092', 'linger.ms=7'] }, env);
    assert.deepEqual(overridden.brokers, ['from-x:9092']);
    assert.equal(overridden.properties['linger.ms'], '7');
    assert.equal(overridden.properties['client.id'], 'file');
    assert.deepEqual(parseProduceOptions({ config, property: ['bootstrap.servers=from-x:9092'], broker: 'from-flag:9092' }, env).brokers, ['from-flag:9092']);
    assert.deepEqual(clientProperties(overridden.properties), { 'client.id': 'file', 'linger.ms': '7' });
  });

  it('exit 2 for a missing file, naming it, and for a malformed -X', () => {
    assert.throws(() => parseProduceOptions({ config: '/nonexistent/client.properties' }, {}), usage(/^--config \/nonexistent\/client\.properties cannot be read: ENOENT$/));
    assert.throws(() => parseProduceOptions({ property: ['nokey'] }, {}), usage(/^-X must be key=value, got "nokey"$/));
    assert.throws(() => parseProduceOptions({ property: ['linger.mss=1'] }, {}), usage(/^unknown property linger\.mss$/));
    assert.throws(() => parseProduceOptions({ config: file('bootstrap.servers=nope\n') }, {}), usage(/^bootstrap\.servers must be a comma-separated list of host:port/));
  });
});

describe('redaction', () => {
  it('takes every secret value out of logs and errors, user:password halves included', () => {
    const redactor = new Redactor({ 'sasl.password': 'hunter2', 'sasl.username': 'alice', 'basic.auth.user.info': 'bob:s3cr3t:x' });
    assert.equal(redactor.text('login alice/hunter2 then bob:s3cr3t:x or s3cr3t:x'), 'login alice/[redacted] then [redacted] or [redacted]');
    const lines: string[] = [];
    redactor.logger({ debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) }).debug('sasl.password=hunter2');
    assert.deepEqual(lines, ['sasl.password=[redacted]']);
    const error = redactor.error(Object.assign(new Error('bad hunter2'), { errors: [new Error('inner hunter2')] })) as Error & { errors: Error[] };
    assert.equal(error.message, 'bad [redacted]');
    assert.equal(error.errors[0]?.message, 'inner [redacted]');
    assert.ok(!(error.stack ?? '').includes('hunter2'));
  });
});
