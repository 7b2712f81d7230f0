/**
 * @module @pingora-ts/core
 *
 * The runtime of pingora-ts: a {@link Server} that owns the process lifecycle (config, signals,
 * graceful shutdown), listening services that accept TCP/Unix connections and hand them to apps,
 * the downstream HTTP/1.1 and HTTP/2 sessions, and the upstream side (`HttpPeer`, `PeerOptions`,
 * `Connector` with keep-alive pools, a strict HTTP/1.1 client and shared HTTP/2 connections).
 */
// --- server lifecycle, services, listeners, logging (section owned by the server work) ---
export { Server } from './server/server.js';
export type { ExecutionPhase, ServerOptions } from './server/server.js';
export type { SignalSource } from './server/signals.js';
export { ServerConf } from './server/conf.js';
export type { ConfLoadOptions, ServerConfValues } from './server/conf.js';
export { Opt, OPT_USAGE } from './server/opt.js';
export { ShutdownController } from './server/shutdown.js';
export type { ShutdownListener, ShutdownWatch } from './server/shutdown.js';
export { DAEMON_CHILD_ENV, writePidFile } from './server/daemon.js';
export { processGroup } from './server/process-group.js';
export type { ProcessGroup, ProcessRole } from './server/process-group.js';
export {
  closeServerKeepingPath,
  fdPassingAvailable,
  listeningFd,
  loadFdPassing,
  MAX_UPGRADE_FDS,
  MAX_UPGRADE_PAYLOAD_BYTES,
  receiveListenFds,
  sendListenFds,
} from './server/upgrade/fd-passing.js';
export type {
  FdPassing,
  ReceivedMessage,
  UpgradeRetryListener,
  UpgradeSocketOptions,
} from './server/upgrade/fd-passing.js';
export { WORKER_ENV } from './server/workers.js';
export { SUCCESSOR_ENV } from './server/upgrade/successor.js';
export type { ServerApp } from './apps/server-app.js';
export { EchoApp } from './apps/echo.js';
export type { ServerService } from './services/service.js';
export { Service } from './services/listening.js';
export type { ServiceOptions } from './services/listening.js';
export type { ConnectionFilter, RemoteAddress } from './services/connections.js';
export { ListenerConfig, formatAddress, parseTcpAddress, reusePortSupported } from './services/listener.js';
export type { BindRetry, ListenAddress, TcpSocketOptions } from './services/listener.js';
export { TlsSettings, VerifyMode, getSslDigest } from '@pingora-ts/tls-openssl';
export type { CertificateChoice, ClientCertificate, SslDigest, TlsAccept } from '@pingora-ts/tls-openssl';
export type { Digest } from './protocols/server-session.js';
export { GenBackgroundService, backgroundService } from './services/background.js';
export type { BackgroundService, ServiceChannel } from './services/background.js';
export { createLogger, defaultLogger, levelEnabled, noopLogger } from './logger.js';
export type { CreateLoggerOptions, LevelName, LogFn, Logger } from './logger.js';
export { formatLogRecord, formatLogTime, prettyDestination } from './log-format.js';
export type { LineSink } from './log-format.js';

// --- HTTP apps, sessions, upstream peers and connectors ---
export { HttpServer } from './apps/http-app.js';
export type { HttpServerApp, HttpServerOptions } from './apps/http-app.js';
export { serveHttpApp } from './apps/serve-http.js';
export type { HttpResponse, ServeHttp } from './apps/serve-http.js';
export { H1ServerSession } from './protocols/h1-server-session.js';
export type {
  HttpServerSession,
  RequestBodyReader,
  RequestBodySink,
  SessionTiming,
} from './protocols/server-session.js';
export { SocketAddr, formatHostPort } from './socket-addr.js';
export { H1ClientSession } from './protocols/h1-client.js';
export { ClientSession } from './protocols/client-session.js';
export type {
  BodyMode,
  ExchangeTiming,
  ExchangeTimeouts,
  RequestBodyMode,
  UpstreamResponseFacts,
  UpstreamResponseHandler,
  UpstreamSession,
} from './protocols/upstream-session.js';
export { H2ServerSession } from './protocols/h2-server-session.js';
export { scanRequestFields } from './protocols/h2-request-fields.js';
export type { H2RequestScan } from './protocols/h2-request-fields.js';
export type { H2DownstreamConnection } from './protocols/h2-server-session.js';
export {
  DEFAULT_H2_MAX_CONCURRENT_STREAMS,
  H2_PREFACE,
  H2ServerConnections,
  sniffH2Preface,
} from './protocols/h2-server.js';
export type { H2ServerConnectionsOptions } from './protocols/h2-server.js';
export { H2ClientSession } from './protocols/h2-client.js';
export { H2ClientConnection } from './protocols/h2-connection.js';
export type { H2ConnectionOptions } from './protocols/h2-connection.js';
export { H2ConnectionPool } from './upstream/h2-pool.js';
export {
  HttpPeer,
  InetPeerAddress,
  UnixPeerAddress,
  formatPeerAddress,
  parsePeerAddress,
  peerAddress,
} from './upstream/peer.js';
export type { PeerAddress, PeerAddressInit } from './upstream/peer.js';
export { PeerOptions } from './upstream/peer-options.js';
export type { TcpKeepalive } from './upstream/peer-options.js';
// One definition for listeners and peers: tls-openssl's.
export { ALPN } from '@pingora-ts/tls-openssl';
export type { CertKey, Pem } from '@pingora-ts/tls-openssl';
export { Connector } from './upstream/connector.js';
export type { ConnectorConf, ConnectorOptions, ConnectorStats } from './upstream/connector.js';
export { ConnectionPool } from './upstream/pool.js';
export { connectPeer } from './upstream/connect.js';
export type { ConnectDefaults, ConnectTiming } from './upstream/connect.js';
export { tlsConnectOptions } from './upstream/tls-options.js';

// --- HTTP modules ---
export type { HttpModule, HttpModuleBuilder, ModuleBodyResult } from './modules/http/module.js';
export { HttpModuleCtx, HttpModules } from './modules/http/modules.js';

// --- HTTP modules: response compression ---
export { ResponseCompression } from './modules/http/compression/response-compression.js';
export type {
  CompressionAction,
  CompressionInfo,
  ResponseCompressionOptions,
} from './modules/http/compression/response-compression.js';
export { ResponseCompressionBuilder } from './modules/http/compression/builder.js';
export type { CompressionAlgorithm } from './modules/http/compression/algorithm.js';
