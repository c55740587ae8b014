import { isSecret, type Properties } from './kafka/properties.js';
import type { Logger } from './logger.js';

const REDACTED = '[redacted]';

/** Takes the values of secret properties out of any text the tool writes: logs, errors, output. */
export class Redactor {
  private readonly secrets: string[];

  /** @param others secrets that are no property's value, e.g. the password in a registry URL */
  constructor(properties: Properties, others: string[] = []) {
    const values = Object.entries(properties).filter(([name]) => isSecret(name)).flatMap(([, value]) => {
      // user:password (basic.auth.user.info): the password alone must not show either.
      const colon = value.indexOf(':');
      return colon > 0 ? [value, value.slice(colon + 1)] : [value];
    });
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...new Set([...values, ...others].filter((value) => value !== ''))].sort((a, b) => b.length - a.length);
  }

  text(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.split(secret).join(REDACTED);
    return result;
  }

  logger(logger: Logger): Logger {
    return {
      debug: (message) => logger.debug(this.text(message)),
      info: (message) => logger.info(this.text(message)),
      warn: (message) => logger.warn(this.text(message)),
      error: (message) => logger.error(this.text(message)),
    };
  }

  /** The same error, with its message and stack redacted, for the one error line. */
  error(error: unknown): unknown {
    if (!(error instanceof Error) || this.secrets.length === 0) return error;
    error.message = this.text(error.message);
    if (error.stack !== undefined) error.stack = this.text(error.stack);
    const parts = (error as { errors?: unknown }).errors;
    if (Array.isArray(parts)) parts.forEach((part) => this.error(part));
    return error;
  }
}
