/**
 * nginx from Debian as the TLS reference: one worker, the same certificate and TLS 1.2/1.3
 * profile, upstream keep-alive, no access log, no limit on requests per client connection.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function nginxTlsConfig(
  prefix: string,
  port: number,
  originPort: number,
  cert: string,
  key: string,
): string {
  return `
worker_processes 1;
daemon off;
master_process off;
error_log ${join(prefix, 'error.log')} warn;
pid ${join(prefix, 'nginx.pid')};
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'tmp')};
  proxy_temp_path ${join(prefix, 'tmp')};
  keepalive_requests 1000000;
  upstream origin { server 127.0.0.1:${originPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export function startNginxTls(
  prefix: string,
  port: number,
  originPort: number,
  cert: string,
  key: string,
): ChildProcess {
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const conf = join(prefix, `nginx-tls-${port}.conf`);
  writeFileSync(conf, nginxTlsConfig(prefix, port, originPort, cert, key));
  return spawn('nginx', ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], { stdio: 'ignore' });
}
