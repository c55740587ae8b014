import type { SchemaInfo, SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { RegistryError, UndecodableError, messageOf } from '../errors.js';
import type { RegistrySettings } from './settings.js';

/** The subject of a topic's values under Confluent's TopicNameStrategy. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/**
 * The schema registry's REST API through Confluent's client: register a schema, fetch one by id.
 * Every failure comes out as RegistryError (canRetry when the registry may answer later), an unknown
 * id as UndecodableError. The client's own retries are off: callers decide how long to wait.
 */
export class SchemaRegistry {
  private client: Promise<SchemaRegistryClient> | undefined;

  constructor(private readonly settings: RegistrySettings, private readonly timeoutMs: number) {}

  get url(): string {
    return this.settings.url;
  }

  /** Registers `schema` (Avro text, as it is) under `subject`; the id is this schema's, an identical one's if it exists. */
  async register(subject: string, schema: string): Promise<number> {
    const client = await this.connect();
    try {
      return await client.register(subject, { schemaType: 'AVRO', schema });
    } catch (error) {
      throw this.failure(error, `registering the schema under subject ${subject}`);
    }
  }

  /** The schema with this id; UndecodableError when the registry does not know it. */
  async schemaById(id: number): Promise<SchemaInfo> {
    const client = await this.connect();
    try {
      // No subject: an id names one schema whatever topic the value sits in (a dead letter's is not its subject's).
      return await client.getBySubjectAndId('', id);
    } catch (error) {
      if (statusOf(error) === 404) throw new UndecodableError(`schema id ${id} is not in the schema registry at ${this.settings.url}`);
      throw this.failure(error, `fetching schema id ${id}`);
    }
  }

  private connect(): Promise<SchemaRegistryClient> {
    // The client's module alone, not the package index, which loads every KMS driver (1.8 s instead of 0.3 s).
    this.client ??= import('@confluentinc/schemaregistry/dist/schemaregistry-client.js').then(({ SchemaRegistryClient: Client }) => new Client({
      baseURLs: [this.settings.url],
      maxRetries: 0,
      createAxiosDefaults: { timeout: this.timeoutMs },
      ...(this.settings.userInfo === undefined ? {} : { basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: this.settings.userInfo } }),
    }));
    return this.client;
  }

  private failure(error: unknown, doing: string): RegistryError {
    const status = statusOf(error);
    const at = `schema registry at ${this.settings.url}`;
    if (status === undefined || status === 408 || status === 429 || status >= 500) {
      return new RegistryError(`${at} did not answer ${doing}: ${status === undefined ? messageOf(error) : `HTTP ${status} ${messageOf(error)}`}`, true, error);
    }
    if (status === 401) return new RegistryError(`${at} refused the credentials (HTTP 401) ${doing}; check schema.registry.basic.auth.user.info`, false, error);
    if (status === 403) return new RegistryError(`${at} denied access (HTTP 403) ${doing}`, false, error);
    if (status === 409) return new RegistryError(`${at} refused the schema as incompatible with the subject's earlier versions (HTTP 409) ${doing}: ${messageOf(error)}`, false, error);
    return new RegistryError(`${at} refused ${doing} (HTTP ${status}): ${messageOf(error)}`, false, error);
  }
}

// RestError carries the HTTP status; a connection that failed (refused, reset, timed out) has none.
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}
