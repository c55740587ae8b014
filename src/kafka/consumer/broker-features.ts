import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import type { Properties } from '../properties.js';

/**
 * The cluster's finalized feature levels (KIP-584) as a broker states them in its ApiVersions answer (v3
 * and later), which a broker serves before any SASL exchange: `group.version` 1 or more means its group
 * coordinator runs KIP-848's consumer protocol. librdkafka reads the API list but not these levels, and
 * the list alone does not tell: a broker with group.version 0 still lists ConsumerGroupHeartbeat, then
 * refuses it (UNSUPPORTED_VERSION, fatal to the consumer).
 */
export async function finalizedFeatures(brokers: string[], properties: Properties, timeoutMs: number): Promise<Map<string, number>> {
  const failures: string[] = [];
  for (const broker of brokers) {
    try {
      return parseApiVersionsResponse(await exchange(broker, properties, apiVersionsRequest(), timeoutMs));
    } catch (error) {
      failures.push(`${broker}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no broker told its features (${failures.join('; ')})`);
}

const API_VERSIONS = 18;
const API_VERSIONS_VERSION = 3;
const UNSUPPORTED_VERSION = 35;
const FINALIZED_FEATURES_TAG = 2;

/** ApiVersions v3: request header v2 (client id a plain string, then tagged fields), then the flexible body. */
export function apiVersionsRequest(): Buffer {
  const clientId = Buffer.from('orders');
  const software = Buffer.from('orders');
  const version = Buffer.from('1');
  const body = Buffer.concat([
    int16(API_VERSIONS), int16(API_VERSIONS_VERSION), int32(1), int16(clientId.length), clientId, Buffer.from([0]),
    Buffer.from([software.length + 1]), software, Buffer.from([version.length + 1]), version, Buffer.from([0]),
  ]);
  return Buffer.concat([int32(body.length), body]);
}

/** The FinalizedFeatures of an ApiVersions response (after its size); none from a broker that answered v0 (UNSUPPORTED_VERSION). */
export function parseApiVersionsResponse(frame: Buffer): Map<string, number> {
  const reader = new Reader(frame);
  reader.int32(); // correlation id; the response header of ApiVersions has no tagged fields
  const errorCode = reader.int16();
  const features = new Map<string, number>();
  if (errorCode === UNSUPPORTED_VERSION) return features;
  if (errorCode !== 0) throw new Error(`ApiVersions error ${errorCode}`);
  for (let keys = reader.uvarint() - 1; keys > 0; keys--) {
    reader.skip(6);
    reader.skipTags();
  }
  reader.skip(4); // throttle time
  for (let tags = reader.uvarint(); tags > 0; tags--) {
    const tag = reader.uvarint();
    const size = reader.uvarint();
    if (tag !== FINALIZED_FEATURES_TAG) {
      reader.skip(size);
      continue;
    }
    for (let count = reader.uvarint() - 1; count > 0; count--) {
      const name = reader.compactString();
      const maxLevel = reader.int16();
      reader.int16(); // min level
      reader.skipTags();
      features.set(name, maxLevel);
    }
  }
  return features;
}

// Sends one request and resolves with the one answer's frame (without its size prefix).
function exchange(broker: string, properties: Properties, request: Buffer, timeoutMs: number): Promise<Buffer> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(broker.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const socket = open(host, port, properties);
    let received = Buffer.alloc(0);
    const done = (error: Error | undefined, frame?: Buffer): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined && frame !== undefined) resolve(frame);
      else reject(error ?? new Error('no answer'));
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', (error) => done(error));
    socket.on('close', () => done(new Error('connection closed before the answer')));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) done(undefined, received.subarray(4, 4 + received.readInt32BE(0)));
    });
    socket.write(request);
  });
}

// Plain TCP or TLS, as librdkafka would connect with the same properties (SASL comes after ApiVersions).
function open(host: string, port: number, properties: Properties): Socket {
  const protocol = (properties['security.protocol'] ?? 'plaintext').toLowerCase();
  if (protocol !== 'ssl' && protocol !== 'sasl_ssl') return netConnect({ host, port });
  const file = (name: string): Buffer | undefined => (properties[name] === undefined ? undefined : readFileSync(properties[name] ?? ''));
  const pem = (name: string): string | undefined => properties[name];
  const ca = file('ssl.ca.location') ?? pem('ssl.ca.pem');
  const cert = file('ssl.certificate.location') ?? pem('ssl.certificate.pem');
  const key = file('ssl.key.location') ?? pem('ssl.key.pem');
  const passphrase = properties['ssl.key.password'];
  const options: TlsOptions = {
    host, port,
    ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(passphrase === undefined ? {} : { passphrase }),
    ...(isIP(host) === 0 ? { servername: host } : {}),
    rejectUnauthorized: properties['enable.ssl.certificate.verification'] !== 'false',
  };
  // librdkafka checks the broker's name only with ssl.endpoint.identification.algorithm=https (its default).
  if ((properties['ssl.endpoint.identification.algorithm'] ?? 'https').toLowerCase() === 'none') options.checkServerIdentity = () => undefined;
  return tlsConnect(options);
}

function int16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

/** Reads Kafka's wire types in order; reading past the end throws. */
class Reader {
  private at = 0;

  constructor(private readonly buffer: Buffer) {}

  int16(): number {
    const value = this.buffer.readInt16BE(this.at);
    this.at += 2;
    return value;
  }

  int32(): number {
    const value = this.buffer.readInt32BE(this.at);
    this.at += 4;
    return value;
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.buffer.readUInt8(this.at++);
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new Error('bad varint');
  }

  compactString(): string {
    const length = this.uvarint() - 1;
    const text = this.buffer.toString('utf8', this.at, this.at + length);
    this.skip(length);
    return text;
  }

  skip(bytes: number): void {
    if (this.at + bytes > this.buffer.length) throw new RangeError('short ApiVersions answer');
    this.at += bytes;
  }

  skipTags(): void {
    for (let tags = this.uvarint(); tags > 0; tags--) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}
