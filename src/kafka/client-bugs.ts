import { createRequire } from 'node:module';

// @confluentinc/kafka-javascript 1.10.1 maps COORDINATOR_NOT_AVAILABLE (15) to a class its _error.js does not
// define; the TypeError then escapes from a native callback and kills the process instead of rejecting
// sendOffsets or commit. Defining the class before any client is made turns it back into a rejection.
const kafkaErrors = createRequire(import.meta.url)('@confluentinc/kafka-javascript/lib/kafkajs/_error.js') as {
  KafkaJSProtocolError: new (...args: unknown[]) => Error;
  KafkaJSGroupCoordinatorNotAvailableError?: unknown;
};

if (typeof kafkaErrors.KafkaJSGroupCoordinatorNotAvailableError !== 'function') {
  kafkaErrors.KafkaJSGroupCoordinatorNotAvailableError = class KafkaJSGroupCoordinatorNotAvailableError extends kafkaErrors.KafkaJSProtocolError {
    constructor(...args: unknown[]) {
      super(...args);
      this.name = 'KafkaJSGroupCoordinatorNotAvailableError';
    }
  };
}
