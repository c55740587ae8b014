import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { Lifecycle } from '../lifecycle.js';

export type Admin = KafkaJS.Admin;

/**
 * One admin client and its life (src/kafka/lifecycle.ts): connected once, each request counted, and
 * disconnected once, only after its requests ended. The binding's admin disconnect is synchronous and
 * frees what a request still out calls back into (a segfault in stats).
 */
export class AdminClient {
  private readonly life: Lifecycle;
  private connected = false;

  constructor(private readonly admin: Admin) {
    this.life = new Lifecycle('admin client', {
      isConnected: () => this.connected,
      disconnect: () => this.admin.disconnect(),
    });
  }

  connect(): Promise<void> {
    return this.life.connect(async () => {
      await this.admin.connect();
      this.connected = true;
    });
  }

  /** Runs one request on the admin client; disconnect waits for it. */
  request<T>(call: (admin: Admin) => Promise<T>): Promise<T> {
    return this.life.call(() => call(this.admin));
  }

  async disconnect(): Promise<void> {
    await this.life.close();
  }
}
