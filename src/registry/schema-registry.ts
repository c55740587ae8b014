import type { SchemaInfo, SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { untilAborted } from '../abortable.js';
import { RegistryError, UndecodableError, messageOf } from '../errors.js';
import { postJson } from './post-json.js';
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

  /** @param stop ends a request in progress at once (Ctrl-C must not wait for a registry that hangs) */
  constructor(private readonly settings: RegistrySettings, private readonly timeoutMs: number, private readonly stop?: AbortSignal) {}

  get url(): string {
    return this.settings.url;
  }

  /** Loads the client now, without asking the registry anything: the import is a quarter of a second. */
  prepare(): void {
    this.connect().catch(() => undefined);
  }

  /**
   * Registers `schema` (Avro text, as it is) under `subject`; the id is this schema's, an identical one's
   * if it exists. One POST of our own, as Confluent's client makes it: loading the client was 0.2 s of
   * CPU at the start of every produce.
   */
  async register(subject: string, schema: string): Promise<number> {
    const doing = `registering the schema under subject ${subject}`;
    let answer: unknown;
    try {
      // Confluent's client (axios) goes through HTTP(S)_PROXY and node:http does not: a proxied registry keeps it.
      if (proxied(this.settings.url)) return await this.abortable((await this.connect()).register(subject, { schemaType: 'AVRO', schema }));
      const url = `${this.settings.url}/subjects/${encodeURIComponent(subject)}/versions?normalize=false`;
      answer = await this.abortable(postJson(url, { schemaType: 'AVRO', schema }, { userInfo: this.settings.userInfo, timeoutMs: this.timeoutMs, signal: this.stop }));
    } catch (error) {
      if (this.stop?.aborted === true) throw error;
      throw this.failure(error, doing);
    }
    const id = (answer as { id?: unknown } | null)?.id;
    if (typeof id !== 'number') throw new RegistryError(`${this.at} answered ${doing} with something that is not a schema id; is ${this.settings.url} the registry's API (Apicurio: …/apis/ccompat/v7)?`, false);
    return id;
  }

  /** The schema with this id; UndecodableError when the registry says it does not know it. */
  async schemaById(id: number): Promise<SchemaInfo> {
    const client = await this.connect();
    let info: unknown;
    try {
      // No subject: an id names one schema whatever topic the value sits in (a dead letter's is not its subject's).
      info = await this.abortable(client.getBySubjectAndId('', id));
    } catch (error) {
      if (this.stop?.aborted === true) throw error;
      // Only the registry's own "schema not found": a 404 from a wrong URL or a proxy says nothing of the record.
      if (statusOf(error) === 404 && (error as { errorCode?: unknown }).errorCode === SCHEMA_NOT_FOUND) {
        throw new UndecodableError(`schema id ${id} is not in the schema registry at ${this.settings.url}`);
      }
      throw this.failure(error, `fetching schema id ${id}`);
    }
    // A login page or a proxy's answer with status 200 is no schema, and no verdict on the record either.
    if (typeof (info as { schema?: unknown } | null)?.schema !== 'string') {
      throw new RegistryError(`${this.at} answered fetching schema id ${id} with something that is not a schema; is ${this.settings.url} the registry's API (Apicurio: …/apis/ccompat/v7)?`, false);
    }
    return info as SchemaInfo;
  }

  private abortable<T>(request: Promise<T>): Promise<T> {
    return this.stop === undefined ? request : untilAborted(request, this.stop);
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

  private get at(): string {
    return `schema registry at ${this.settings.url}`;
  }

  // The cause is not kept: an axios error holds the request's headers, basic auth included.
  private failure(error: unknown, doing: string): RegistryError {
    const status = statusOf(error);
    const at = this.at;
    if (status === undefined && !isTransientNetworkError(error)) {
      return new RegistryError(`${at} cannot be reached ${doing}: ${messageOf(error)}`, false);
    }
    if (status === undefined || status === 408 || status === 429 || status >= 500) {
      return new RegistryError(`${at} did not answer ${doing}: ${status === undefined ? messageOf(error) : `HTTP ${status} ${messageOf(error)}`}`, true);
    }
    if (status === 401) return new RegistryError(`${at} refused the credentials (HTTP 401) ${doing}; check schema.registry.basic.auth.user.info`, false);
    if (status === 403) return new RegistryError(`${at} denied access (HTTP 403) ${doing}`, false);
    if (status === 409) return new RegistryError(`${at} refused the schema as incompatible with the subject's earlier versions (HTTP 409) ${doing}: ${messageOf(error)}`, false);
    if (status === 404) return new RegistryError(`${at} answered HTTP 404 ${doing}; is that the registry's API (Apicurio: …/apis/ccompat/v7)?`, false);
    return new RegistryError(`${at} refused ${doing} (HTTP ${status}): ${messageOf(error)}`, false);
  }
}

// Confluent's error code for an unknown schema id, which Apicurio's Confluent API sends too.
const SCHEMA_NOT_FOUND = 40403;

// A registry that is down, restarting or far away; a TLS, DNS-name or URL problem is not waited out.
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EAI_AGAIN', 'ERR_NETWORK']);

function isTransientNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

// RestError carries the HTTP status; a connection that failed (refused, reset, timed out) has none.
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** An HTTP(S)_PROXY (either case) that axios would use for `url`. */
export function proxied(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const names = url.startsWith('https:') ? ['HTTPS_PROXY', 'https_proxy'] : ['HTTP_PROXY', 'http_proxy'];
  return names.some((name) => (env[name] ?? '') !== '');
}
