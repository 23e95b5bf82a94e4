import type { FastifyInstance } from 'fastify';

/**
 * What the route needs of the metrics: a rendered page. `usage/gateway-metrics.ts` (`GatewayMetrics`)
 * satisfies it; the route does not import it, so the front door stays off the usage layer's concretes.
 */
export interface MetricsPageSource {
  render(): Promise<{ contentType: string; body: string }>;
}

/**
 * `GET /metrics`: the Prometheus text exposition (`text/plain; version=0.0.4`), never cached. It needs
 * the admin key (Prometheus sends it as a bearer token, deploy/prometheus/prometheus.yml), or no key
 * over loopback when none is configured; `metrics.public: true` in the config file opens it.
 *
 * @example
 * registerMetrics(app, container.metrics);
 */
export function registerMetrics(app: FastifyInstance, metrics: MetricsPageSource): void {
  app.get('/metrics', { config: { access: 'metrics' } }, async (_request, reply) => {
    const page = await metrics.render();
    return reply.type(page.contentType).header('cache-control', 'no-store').send(page.body);
  });
}
