import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { AvroDeserializer, AvroSerializer } from '@confluentinc/schemaregistry/dist/serde/avro.js';
import { SerdeType, SubjectNameStrategyType } from '@confluentinc/schemaregistry/dist/serde/serde.js';
import { ORDER_SCHEMA_TEXT, encodeOrder, type Order } from '../src/avro/codec.js';
import { orderGenerator } from '../src/orders/generate.js';
import { RegistryOutage } from '../src/registry/outage.js';
import { RegistryDecoder } from '../src/registry/registry-decoder.js';
import { SchemaRegistry } from '../src/registry/schema-registry.js';
import { wireHeader } from '../src/registry/wire.js';
import { median, perSecond } from './stats.js';

export interface RegistryCodecFigures {
  orders: number;
  /** Confluent's AvroSerializer, one awaited serialize() per order. */
  librarySerializesPerSecond: number;
  /** What orders does: the 5-byte header written once, then avsc's encoding. */
  headerEncodesPerSecond: number;
  libraryDeserializesPerSecond: number;
  /** orders' RegistryDecoder: header, cached resolver, avsc, validation. */
  registryDecodesPerSecond: number;
}

/** Ops/s of Confluent's serde against orders' own framing, medians of `rounds` after a warm-up round. */
export async function benchRegistryCodec(registryUrl: string, count: number, rounds: number, seed: number): Promise<RegistryCodecFigures> {
  const topic = `bench-codec-${Date.now().toString(36)}`;
  const client = new SchemaRegistryClient({ baseURLs: [registryUrl] });
  const id = await client.register(`${topic}-value`, { schemaType: 'AVRO', schema: ORDER_SCHEMA_TEXT });
  // TOPIC strategy and the registered version: the defaults would ask /associations and infer a schema.
  const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false, subjectNameStrategyType: SubjectNameStrategyType.TOPIC });
  const deserializer = new AvroDeserializer(client, SerdeType.VALUE, { subjectNameStrategyType: SubjectNameStrategyType.TOPIC });
  const decoder = new RegistryDecoder(new SchemaRegistry({ url: registryUrl, userInfo: undefined, secrets: [] }, 10_000), new RegistryOutage({
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), warn: () => {}, info: () => {}, now: () => Date.now(),
  }));
  const orders = Array.from({ length: count }, orderGenerator(seed));
  const header = wireHeader(id);
  const framed = orders.map((order) => Buffer.concat([header, encodeOrder(order)]));
  const checked = await serializer.serialize(topic, orders[0]);
  if (!checked.equals(framed[0] ?? Buffer.alloc(0))) throw new Error(`AvroSerializer wrote other bytes than orders: ${checked.toString('hex')} vs ${framed[0]?.toString('hex') ?? ''}`);

  const rates = { librarySerialize: [] as number[], headerEncode: [] as number[], libraryDeserialize: [] as number[], registryDecode: [] as number[] };
  let sink = 0;
  const time = async (into: number[], round: number, work: () => Promise<void> | void): Promise<void> => {
    const started = performance.now();
    await work();
    if (round > 0) into.push(perSecond(count, performance.now() - started));
  };
  for (let round = 0; round <= rounds; round++) {
    await time(rates.librarySerialize, round, async () => {
      for (const order of orders) sink += (await serializer.serialize(topic, order)).length;
    });
    await time(rates.headerEncode, round, () => {
      for (const order of orders) sink += Buffer.concat([header, encodeOrder(order)]).length;
    });
    await time(rates.libraryDeserialize, round, async () => {
      for (const bytes of framed) sink += ((await deserializer.deserialize(topic, bytes)) as Order).price;
    });
    await time(rates.registryDecode, round, async () => {
      for (const bytes of framed) sink += (await decoder.decode(bytes)).price;
    });
  }
  if (!Number.isFinite(sink)) throw new Error('registry codec benchmark produced no result');
  return {
    orders: count,
    librarySerializesPerSecond: median(rates.librarySerialize),
    headerEncodesPerSecond: median(rates.headerEncode),
    libraryDeserializesPerSecond: median(rates.libraryDeserialize),
    registryDecodesPerSecond: median(rates.registryDecode),
  };
}
