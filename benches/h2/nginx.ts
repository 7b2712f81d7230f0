/**
 * nginx (Debian) with HTTP/2 in front of the HTTP/1.1 benchmark origin: h2c with prior knowledge
 * (`listen … http2`) or TLS with ALPN h2 (`listen … ssl http2`). One worker, upstream keep-alive,
 * no access log, no per-connection request limit (h2load does not reconnect after a GOAWAY).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function nginxH2Config(prefix: string, port: number, originPort: number, certDir?: string): string {
  const listen = certDir
    ? `listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${certDir}/localhost.pem;
    ssl_certificate_key ${certDir}/localhost.key;`
    : `listen 127.0.0.1:${port} http2;`;
  return `
worker_processes 1;
daemon off;
master_process off;
error_log ${join(prefix, 'error.log')} warn;
pid ${join(prefix, 'nginx.pid')};
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000000;
  client_body_temp_path ${join(prefix, 'tmp')};
  proxy_temp_path ${join(prefix, 'tmp')};
  upstream origin { server 127.0.0.1:${originPort}; keepalive 64; keepalive_requests 1000000000; }
  server {
    ${listen}
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export function startNginxH2(
  prefix: string,
  port: number,
  originPort: number,
  certDir?: string,
): ChildProcess {
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const conf = join(prefix, `nginx-${port}.conf`);
  writeFileSync(conf, nginxH2Config(prefix, port, originPort, certDir));
  return spawn('nginx', ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], { stdio: 'ignore' });
}
