import { addAbortListener } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import { RequestAbort } from './request-abort.js';

describe('RequestAbort', () => {
  it('aborts once, with its reason, and calls each listener once', () => {
    const abort = new RequestAbort();
    const always = vi.fn();
    const once = vi.fn();
    const removed = vi.fn();
    abort.signal.addEventListener('abort', always);
    abort.signal.addEventListener('abort', always); // the same listener twice is one listener
    abort.signal.addEventListener('abort', once, { once: true });
    abort.signal.addEventListener('abort', removed, { once: true });
    abort.signal.removeEventListener('abort', removed);
    expect(abort.signal.aborted).toBe(false);
    expect(() => abort.signal.throwIfAborted()).not.toThrow();

    const reason = new Error('client left');
    abort.abort(reason);
    abort.abort(new Error('again'));
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
    expect(() => abort.signal.throwIfAborted()).toThrow('client left');
    expect(always).toHaveBeenCalledTimes(1);
    expect(always.mock.calls[0]?.[0]).toMatchObject({ type: 'abort' });
    expect(once).toHaveBeenCalledTimes(1);
    expect(removed).not.toHaveBeenCalled();
  });

  it('defaults the reason to an AbortError, like AbortController', () => {
    const abort = new RequestAbort();
    abort.abort();
    expect(abort.signal.reason).toBeInstanceOf(DOMException);
    expect((abort.signal.reason as DOMException).name).toBe('AbortError');
  });

  it('keeps calling listeners after one throws, and does not throw from abort()', () => {
    const abort = new RequestAbort();
    const after = vi.fn();
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    abort.signal.addEventListener('abort', () => {
      throw new Error('listener bug');
    });
    abort.signal.addEventListener('abort', after);
    expect(() => abort.abort(new Error('x'))).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    expect(String(warning.mock.calls[0]?.[0])).toContain('listener bug');
    warning.mockRestore();
  });

  it("works with Node's addAbortListener", () => {
    const abort = new RequestAbort();
    const listener = vi.fn();
    const disposable = addAbortListener(abort.signal, listener);
    abort.abort(new Error('x'));
    expect(listener).toHaveBeenCalledTimes(1);
    disposable[Symbol.dispose]();
  });

  it('cancels an undici request in flight, and undici lets go of its listener when a request finishes', async () => {
    let closed = false;
    const server = createServer((incoming, outgoing) => {
      if (incoming.url === '/fast') {
        outgoing.end('ok');
        return;
      }
      outgoing.once('close', () => (closed = true)); // /slow never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const agent = new Agent();
    try {
      const finished = new RequestAbort();
      const answer = await request(`${origin}/fast`, { dispatcher: agent, signal: finished.signal });
      expect(await answer.body.text()).toBe('ok');
      // undici removes its listener when the body closes, just after it ended.
      await vi.waitFor(() => expect(finished.listenerCount).toBe(0));

      const abort = new RequestAbort();
      const pending = request(`${origin}/slow`, { dispatcher: agent, signal: abort.signal });
      setTimeout(() => abort.abort(new Error('client left')), 50);
      await expect(pending).rejects.toThrow('client left');
      await vi.waitFor(() => expect(closed).toBe(true));
    } finally {
      await agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
