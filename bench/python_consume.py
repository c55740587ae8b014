"""The job of `orders consume` as a plain Python loop, the bench's baseline beside kcat -G.

Usage: /usr/bin/python3 bench/python_consume.py BROKER TOPIC GROUP COUNT SCHEMA [name=value ...]
Joins GROUP (fresh, from the beginning), decodes each Avro value with schemas/order.avsc, keeps a running
total and count until COUNT records are read, prints them and exits. name=value pairs are librdkafka
settings, the ones kcat gets with -X. Debian's python3-confluent-kafka and python3-avro, hence /usr/bin/python3.
"""
import io
import sys

import avro.io
import avro.schema
from confluent_kafka import Consumer

broker, topic, group, wanted, schema_file, *settings = sys.argv[1:]
reader = avro.io.DatumReader(avro.schema.parse(open(schema_file).read()))
consumer = Consumer({'bootstrap.servers': broker, 'group.id': group, 'auto.offset.reset': 'earliest',
                     **dict(setting.split('=', 1) for setting in settings)})
consumer.subscribe([topic])
count, total_cents = 0, 0
while count < int(wanted):
    for message in consumer.consume(1000, 1.0):
        if message.error():
            raise SystemExit(f'python consume: {message.error()}')
        order = reader.read(avro.io.BinaryDecoder(io.BytesIO(message.value())))
        total_cents += round(order['price'] * 100)
        count += 1
print(f'count={count} total={total_cents / 100:.2f}')
consumer.close()
