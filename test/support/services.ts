import { connect } from 'node:net';

/**
 * The real services tests may use, from the environment (`.ci/run` sets them). Outside CI a test whose
 * service is down skips with a message saying how to start it; in CI (`CI=true`) it fails instead.
 */
export const services = {
  postgres: {
    url: process.env['DATABASE_URL_TEST'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
  nats: {
    url: process.env['NATS_URL_TEST'] ?? 'nats://127.0.0.1:4222',
    start:
      'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server',
  },
} as const;

/** True when something accepts TCP connections at the URL's host and port (1 s at most). */
export async function reachable(url: string): Promise<boolean> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol.startsWith('postgres') ? 5432 : 4222));
  return new Promise((resolve) => {
    const socket = connect({ host: parsed.hostname, port, timeout: 1000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * Whether tests that need `name` should run. Throws in CI when the service is down (so CI fails
 * loudly), and prints how to start it otherwise.
 */
export async function serviceAvailable(name: keyof typeof services): Promise<boolean> {
  const service = services[name];
  if (await reachable(service.url)) return true;
  const message = `${name} is not reachable at ${service.url}; start it with: ${service.start}`;
  if (process.env['CI'] === 'true') throw new Error(message);
  console.warn(`skipping ${name} tests: ${message}`);
  return false;
}
