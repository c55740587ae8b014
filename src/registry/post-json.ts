import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A registry's answer other than 2xx: the status, and Confluent's error body (error_code, message) where there is one. */
export class RegistryAnswer extends Error {
  constructor(readonly status: number, readonly errorCode: number | undefined, message: string) {
    super(errorCode === undefined ? message : `${message}; Error code: ${errorCode}`);
  }
}

/**
 * POSTs `body` as the registry's JSON and resolves with the JSON of a 2xx answer; rejects with
 * RegistryAnswer for any other status, or the socket's error (its `code`, ETIMEDOUT after `timeoutMs`).
 */
export function postJson(url: string, body: unknown, options: { userInfo: string | undefined; timeoutMs: number; signal: AbortSignal | undefined }): Promise<unknown> {
  const payload = JSON.stringify(body);
  const headers: Record<string, string> = {
    'Content-Type': 'application/vnd.schemaregistry.v1+json',
    'Content-Length': String(Buffer.byteLength(payload)),
    'Confluent-Accept-Unknown-Properties': 'true',
  };
  if (options.userInfo !== undefined) headers.Authorization = `Basic ${Buffer.from(options.userInfo).toString('base64')}`;
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', headers, ...(options.signal === undefined ? {} : { signal: options.signal }) }, (response) => {
      readAll(response).then((text) => {
        const status = response.statusCode ?? 0;
        const json = parsed(text);
        if (status >= 200 && status < 300) resolve(json);
        else reject(answerOf(status, json, response.statusMessage ?? ''));
      }, reject);
    });
    // One deadline for the whole exchange, as axios' timeout, not an idle-socket timeout.
    const timer = setTimeout(() => outgoing.destroy(Object.assign(new Error(`timeout of ${options.timeoutMs}ms exceeded`), { code: 'ETIMEDOUT' })), options.timeoutMs);
    outgoing.on('error', reject);
    outgoing.on('close', () => clearTimeout(timer));
    outgoing.end(payload);
  });
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

// Only a body with both fields is the registry's own error; a proxy's page is just its status.
function answerOf(status: number, json: unknown, statusMessage: string): RegistryAnswer {
  const { error_code: errorCode, message } = (typeof json === 'object' && json !== null ? json : {}) as { error_code?: unknown; message?: unknown };
  if (typeof errorCode === 'number' && typeof message === 'string') return new RegistryAnswer(status, errorCode, message);
  return new RegistryAnswer(status, undefined, `Request failed with status code ${status}${statusMessage === '' ? '' : ` (${statusMessage})`}`);
}
