import { AppContainer } from '../app/container.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { buildServer } from '../http/server.js';
import { isLoopback } from '../http/access-guard.js';

/**
 * `circuit-breaker serve`: starts the server and stops it gracefully on SIGTERM/SIGINT (stop accepting,
 * let in-flight requests and streams finish, close pools and the store). Start-up warnings are logged
 * before the "listening" line, so whoever waits for that line has seen them. `beforeStart` runs before the
 * workflow runtime starts (a test harness registers its action executors there).
 */
export async function serve(
  config: GatewayConfig,
  options: { beforeStart?: (container: AppContainer) => void | Promise<void> } = {},
): Promise<void> {
  const container = await AppContainer.create(config, options.beforeStart ? { beforeStart: options.beforeStart } : {});
  const app = buildServer(container);
  const { logger } = container;
  const providers = container.catalog.adapters().map(({ name, adapter }) => `${name} (${adapter.kind})`);
  if (providers.length === 0) {
    logger.warn(
      'no provider configured: set OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_API_KEY, OLLAMA_BASE_URL, AZURE_OPENAI_* or CUSTOM_LLM_ENDPOINT, or add providers to the config file',
    );
  }
  if (await container.authenticator.anonymousAllowed()) {
    const remote =
      isLoopback(config.server.host) || config.server.host === 'localhost'
        ? ''
        : ` (listening on ${config.server.host}: remote requests will be refused)`;
    logger.warn(
      `no CB_ADMIN_KEY and no gateway key configured: accepting requests without a key, from loopback only${remote}; create keys with \`circuit-breaker keys create\``,
    );
  } else if (!config.access.adminKey) {
    logger.info(
      'gateway keys are required; no CB_ADMIN_KEY is set, so the admin API is closed (set CB_ADMIN_KEY to manage keys over HTTP)',
    );
  }
  await container.functions.runtimesChecked;
  let address: string;
  try {
    address = await app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE'
        ? `port ${config.server.port} on ${config.server.host} is already in use (set PORT)`
        : code === 'EACCES'
          ? `no permission to listen on port ${config.server.port}`
          : String(error);
    logger.error(`cannot listen: ${reason}`);
    await container.close();
    process.exit(1);
  }
  logger.info('circuit breaker listening', {
    address,
    providers,
    store: config.storage.backend,
    dataDir: config.dataDir,
    config: config.file ?? null,
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    void app
      .close()
      .then(() => container.close())
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
