import { UsageError } from '../errors.js';
import { REGISTRY_PREFIX, type Properties } from '../kafka/properties.js';

/** Where the schema registry is and who we are to it. */
export interface RegistrySettings {
  /** The API's base URL without credentials, path kept (Apicurio serves it under /apis/ccompat/v7). */
  url: string;
  /** `user:password` for HTTP basic auth, if any: a secret. */
  userInfo: string | undefined;
  /** Values never to show: the password, and user:password. */
  secrets: string[];
}

export const REGISTRY_URL = `${REGISTRY_PREFIX}url`;
export const REGISTRY_USER_INFO = `${REGISTRY_PREFIX}basic.auth.user.info`;
const REGISTRY_CREDENTIALS_SOURCE = `${REGISTRY_PREFIX}basic.auth.credentials.source`;
const KNOWN = [REGISTRY_URL, REGISTRY_USER_INFO, REGISTRY_CREDENTIALS_SOURCE];

/**
 * The registry of `--schema-registry`, else `schema.registry.url` of -X / --config, else
 * $SCHEMA_REGISTRY_URL; undefined means bare Avro. Credentials in the URL move to basic auth.
 */
export function resolveRegistry(flag: string | undefined, properties: Properties, env: NodeJS.ProcessEnv): RegistrySettings | undefined {
  for (const name of Object.keys(properties)) {
    // A registry setting we would ignore (a truststore, say) would fail later with a vaguer message.
    if (name.startsWith(REGISTRY_PREFIX) && !KNOWN.includes(name)) throw new UsageError(`property ${name} is not supported; the registry takes ${KNOWN.join(', ')}`);
  }
  const source = properties[REGISTRY_CREDENTIALS_SOURCE];
  if (source !== undefined && source !== 'USER_INFO') throw new UsageError(`property ${REGISTRY_CREDENTIALS_SOURCE} must be USER_INFO, got "${source}"`);
  const [from, text] = flag !== undefined ? ['--schema-registry', flag]
    : properties[REGISTRY_URL] !== undefined ? [REGISTRY_URL, properties[REGISTRY_URL]]
      : ['SCHEMA_REGISTRY_URL', env.SCHEMA_REGISTRY_URL];
  if (text === undefined || text.trim() === '') {
    if (flag !== undefined || properties[REGISTRY_URL] !== undefined) throw new UsageError(`${from} must not be empty`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    // The text may hold a password: show it only when it cannot.
    throw new UsageError(`${from} must be an http:// or https:// URL, got ${text.includes('@') ? 'something else' : `"${text}"`}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${from} must be an http:// or https:// URL, got "${url.protocol}"`);
  const inUrl = url.username === '' ? undefined : `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  const userInfo = properties[REGISTRY_USER_INFO] ?? inUrl;
  if (userInfo !== undefined && !userInfo.includes(':')) throw new UsageError(`${REGISTRY_USER_INFO} must be user:password`);
  // The password as written (percent-encoded) and decoded, user:password and its base64 (the Authorization
  // header), and the URL that held them.
  const secrets = userInfo === undefined ? [] : [userInfo, userInfo.slice(userInfo.indexOf(':') + 1), url.password, Buffer.from(userInfo).toString('base64')];
  if (inUrl !== undefined) secrets.push(text.trim());
  url.username = '';
  url.password = '';
  return { url: url.toString().replace(/\/+$/, ''), userInfo, secrets: secrets.filter((secret) => secret !== '') };
}
