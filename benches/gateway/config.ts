/**
 * The benchmark's 10-route configuration, written three ways: the gateway file, nginx's
 * `location` blocks, and (in targets/code.mjs) a hand-written ProxyHttp. Requests go to the last
 * route, so every target walks all ten.
 */

/** Path prefixes of the ten routes; the benchmark requests `${ROUTES[9]}x`. */
export const ROUTES = Array.from({ length: 10 }, (_, i) => `/r${i}/`);

/** The gateway file for a proxy on `port` in front of the origin on `originPort`. */
export function gatewayYaml(port: number, originPort: number): string {
  const routes = ROUTES.map(
    (prefix, i) => `  - name: r${i}
    match: { path_prefix: ${prefix} }
    upstream: app
    request_headers: { set: { x-route: r${i} } }
    response_headers: { set: { x-proxy: pingora-ts } }`,
  ).join('\n');
  return `server: { grace_period_seconds: 1 }
listeners: [127.0.0.1:${port}]
upstreams:
  app: { backends: [127.0.0.1:${originPort}] }
routes:
${routes}
observability: { access_log: false }
`;
}

/** The same routes as nginx `location` blocks (upstream keep-alive as in the other benches). */
export function nginxHttpBlock(port: number, originPort: number): string {
  const locations = ROUTES.map(
    (prefix, i) => `    location ${prefix} {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header x-route r${i};
      add_header x-proxy pingora-ts;
    }`,
  ).join('\n');
  return `  upstream origin { server 127.0.0.1:${originPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
${locations}
  }`;
}
