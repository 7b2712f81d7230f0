/**
 * Connection gauges read on scrape: the idle and busy upstream connections of a proxy's pools
 * (OpenTelemetry's `http.client.open_connections`) and the open downstream connections of a
 * listening service. Nothing is counted per request; the pools and the service already know.
 */
import { type Registry, register } from 'prom-client';
import { scrapedGauge } from './scraped-gauge.js';

/** Options of the connection gauges. */
export interface ConnectionMetricsOptions {
  /** Where the gauges live. Default: prom-client's global `register`. */
  registry?: Registry;
}

const POOL_LABELS = ['http_connection_state', 'network_protocol_version'] as const;

/** What the pool gauges read from a connector: core's `Connector` fits. */
export interface ConnectorLike {
  /** Idle HTTP/1.1 connections. */
  readonly pool: { readonly size: number };
  /** HTTP/2 connections: all known (`size`) and idle ones. */
  readonly h2Pool: { readonly size: number; readonly idleSize: number };
}

/**
 * `http_client_open_connections` for `connector`: idle HTTP/1.1 connections in its pool
 * (`idle`, `1.1`), idle HTTP/2 connections (`idle`, `2`) and HTTP/2 connections carrying streams
 * (`active`, `2`). HTTP/1.1 connections busy with a request are not pooled, so they are not
 * counted. Summed over every connector registered and over worker processes. Returns a function
 * that stops reporting `connector`.
 *
 * @example
 * ```ts
 * const connector = new Connector();
 * registerConnectorMetrics(connector);
 * ```
 */
export function registerConnectorMetrics(
  connector: ConnectorLike,
  options: ConnectionMetricsOptions = {},
): () => void {
  const g = scrapedGauge(
    options.registry ?? register,
    'http_client_open_connections',
    'Upstream connections held by the proxy, by state (HTTP/1.1 in-use connections are not counted).',
    POOL_LABELS,
    'sum',
  );
  return g.add((emit) => {
    const h2 = connector.h2Pool;
    emit({ http_connection_state: 'idle', network_protocol_version: '1.1' }, connector.pool.size);
    emit({ http_connection_state: 'idle', network_protocol_version: '2' }, h2.idleSize);
    emit({ http_connection_state: 'active', network_protocol_version: '2' }, h2.size - h2.idleSize);
  });
}

/** What {@link registerServiceMetrics} reads from a listening service. */
export interface ServiceLike {
  readonly name: string;
  /** Open connections right now. */
  readonly connections: number;
  appLogic(): unknown;
}

/**
 * The gauges of one listening service: `pingora_downstream_open_connections{service}` (its open
 * client connections, summed over worker processes), and when it is a proxy service, the pool
 * gauges of its connector ({@link registerConnectorMetrics}). Returns a function that stops
 * reporting it.
 *
 * @example
 * ```ts
 * const proxy = httpProxyService(server.configuration, withProxyMetrics(myProxy, new ProxyMetrics()));
 * registerServiceMetrics(proxy); // connections and pools, read on scrape
 * ```
 */
export function registerServiceMetrics(
  service: ServiceLike,
  options: ConnectionMetricsOptions = {},
): () => void {
  const g = scrapedGauge(
    options.registry ?? register,
    'pingora_downstream_open_connections',
    'Client connections open on the service.',
    ['service'],
    'sum',
  );
  const stops = [g.add((emit) => emit({ service: service.name }, service.connections))];
  const connector = connectorOf(service.appLogic());
  if (connector !== undefined) stops.push(registerConnectorMetrics(connector, options));
  return () => {
    for (const stop of stops) stop();
  };
}

// A proxy service is an HttpServer (`app`) around a proxy holding its upstream connector. Read by
// shape rather than `instanceof`, so a second copy of core in the process does not hide it.
function connectorOf(server: unknown): ConnectorLike | undefined {
  const connector = (server as { app?: { connector?: Partial<ConnectorLike> } } | undefined)?.app?.connector;
  if (typeof connector?.pool?.size !== 'number' || typeof connector.h2Pool?.idleSize !== 'number')
    return undefined;
  return connector as ConnectorLike;
}
