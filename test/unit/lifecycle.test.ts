import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientClosedError, Lifecycle, type NativeHandle } from '../../src/kafka/lifecycle.js';

/** A native client that records its disconnects; `connected` is the binding's own view. */
function fakeClient(): NativeHandle & { connected: boolean; disconnects: number } {
  const client = {
    connected: false,
    disconnects: 0,
    isConnected: () => client.connected,
    disconnect: async () => {
      client.disconnects++;
      client.connected = false;
    },
  };
  return client;
}

/** A promise and the functions that settle it. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

async function connected(client: ReturnType<typeof fakeClient>, drainMs?: number): Promise<Lifecycle> {
  const life = new Lifecycle('consumer', client, drainMs);
  await life.connect(async () => {
    client.connected = true;
  });
  return life;
}

describe('lifecycle of a native client', () => {
  it('goes made → connecting → connected → closing → closed, disconnecting once', async () => {
    const client = fakeClient();
    const life = new Lifecycle('consumer', client);
    assert.equal(life.phase, 'made');
    const connect = deferred();
    const connecting = life.connect(() => connect.promise.then(() => {
      client.connected = true;
    }));
    assert.equal(life.phase, 'connecting');
    connect.resolve();
    await connecting;
    assert.equal(life.phase, 'connected');
    const closing = life.close();
    assert.equal(life.phase, 'closing');
    assert.equal(await closing, 'disconnected');
    assert.equal(life.phase, 'closed');
    assert.equal(await life.close(), 'disconnected', 'a second close is the first one');
    assert.equal(client.disconnects, 1);
  });

  it('connects at most once', async () => {
    const client = fakeClient();
    const life = await connected(client);
    await assert.rejects(life.connect(async () => {}), /connects only once/);
  });

  it('never disconnects a client that was never connected, or whose connect failed', async () => {
    const never = fakeClient();
    assert.equal(await new Lifecycle('producer', never).close(), 'not-connected');
    const failed = fakeClient();
    const life = new Lifecycle('producer', failed);
    await assert.rejects(life.connect(async () => {
      throw new Error('Local: Broker transport failure');
    }));
    assert.equal(life.phase, 'closed');
    assert.equal(await life.close(), 'not-connected');
    assert.equal(never.disconnects + failed.disconnects, 0);
  });

  it('waits for every native call in flight before it disconnects', async () => {
    const client = fakeClient();
    const life = await connected(client);
    const consume = deferred<string>();
    const committed = deferred<string>();
    const calls = [life.call(() => consume.promise), life.call(() => committed.promise)];
    assert.equal(life.calls, 2);
    const closing = life.close();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(client.disconnects, 0, 'disconnected under a call in flight');
    consume.resolve('batch');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(client.disconnects, 0, 'disconnected under the second call');
    committed.reject(new Error('Local: Timed out'));
    assert.equal(await closing, 'disconnected');
    assert.equal(client.disconnects, 1);
    assert.deepEqual((await Promise.allSettled(calls)).map((call) => call.status), ['fulfilled', 'rejected']);
  });

  it('refuses new calls once closing, without reaching the binding', async () => {
    const client = fakeClient();
    const life = await connected(client);
    const out = deferred();
    const inFlight = life.call(() => out.promise);
    const closing = life.close();
    let reached = false;
    await assert.rejects(life.call(async () => {
      reached = true;
    }), ClientClosedError);
    assert.equal(reached, false);
    out.resolve();
    await inFlight;
    await closing;
  });

  it('counts a call that throws at once as ended', async () => {
    const client = fakeClient();
    const life = await connected(client);
    await assert.rejects(life.call(() => {
      throw new Error('Client is disconnected');
    }));
    assert.equal(life.calls, 0);
    assert.equal(await life.close(), 'disconnected');
  });

  it('leaves a client whose call does not end within the bound to the process exit', async () => {
    const client = fakeClient();
    const life = await connected(client, 20);
    void life.call(() => new Promise(() => {}));
    assert.equal(await life.close(), 'left');
    assert.equal(client.disconnects, 0);
    assert.equal(life.phase, 'closed');
  });

  it('waits for a connect under way, then disconnects only what it connected', async () => {
    const client = fakeClient();
    const life = new Lifecycle('consumer', client);
    const connect = deferred();
    const connecting = life.connect(() => connect.promise.then(() => {
      client.connected = true;
    }));
    const closing = life.close();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(client.disconnects, 0, 'disconnected while connecting');
    connect.resolve();
    await connecting;
    assert.equal(await closing, 'disconnected');
    assert.equal(client.disconnects, 1);
  });

  it('leaves a connect that never settles within the bound', async () => {
    const client = fakeClient();
    const life = new Lifecycle('consumer', client, 20);
    void life.connect(() => new Promise(() => {}));
    assert.equal(await life.close(), 'left');
    assert.equal(client.disconnects, 0);
  });

  it('does not disconnect a client the binding disconnected itself', async () => {
    // The binding's connect disconnects by itself when its metadata request fails; or its 'disconnected' event came.
    const selfClosed = fakeClient();
    const life = await connected(selfClosed);
    selfClosed.connected = false;
    assert.equal(await life.close(), 'not-connected');
    const lost = fakeClient();
    const other = await connected(lost);
    other.lost();
    assert.equal(other.usable, false);
    await assert.rejects(other.call(async () => {}), ClientClosedError);
    assert.equal(await other.close(), 'not-connected');
    assert.equal(selfClosed.disconnects + lost.disconnects, 0);
  });
});
