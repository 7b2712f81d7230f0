/** The `listeners` section: where the proxy accepts connections, with TLS and HTTP/2 settings. */
import { z } from 'zod';
import { address, certKeyFiles, duration, size } from './common.js';

/** TLS on a listener: a default certificate, an SNI map, client certificates (mTLS), ALPN. */
export const listenerTls = certKeyFiles
  .extend({
    sni: z.record(z.string().min(1), certKeyFiles).optional().meta({
      description:
        'Certificates by server name ("example.com", "*.example.com"); the default cert answers the rest',
    }),
    client_ca: z
      .string()
      .optional()
      .meta({ description: 'CA (PEM file) that client certificates must chain to' }),
    client_auth: z.enum(['none', 'optional', 'require']).default('none').meta({
      description: 'Ask for client certificates (mTLS); "require" refuses handshakes without a valid one',
    }),
    alpn: z
      .enum(['h1', 'h2', 'h2h1'])
      .default('h2h1')
      .meta({ description: 'Protocols offered: h1, h2, or h2h1 (both, h2 preferred)' }),
    handshake_timeout: duration.optional(),
  })
  .meta({ description: 'TLS termination' });

/** One listening address. */
export const listener = z
  .strictObject({
    address: address,
    tls: listenerTls.optional(),
    h2c: z
      .boolean()
      .default(false)
      .meta({ description: 'Accept HTTP/2 with prior knowledge on this plain-text port' }),
    keepalive_timeout: duration
      .optional()
      .meta({ description: 'Idle keep-alive connections are closed after this (default 60s)' }),
    headers_timeout: duration
      .optional()
      .meta({ description: 'A request head must arrive within this (default 60s)' }),
    request_timeout: duration
      .optional()
      .meta({ description: 'A whole request must arrive within this (default: none)' }),
    lingering_timeout: duration.optional().meta({
      description:
        'A connection closing while the client still sends keeps reading (and dropping) until this passes without a byte (default 5s; 0 closes at once)',
    }),
    lingering_time: duration
      .optional()
      .meta({ description: 'The longest a closing connection keeps reading in all (default 30s)' }),
    max_header_size: size
      .optional()
      .meta({ description: 'Largest request head (default 16KiB); larger ones get 431' }),
    keepalive_request_limit: z.number().int().positive().optional(),
  })
  .meta({ description: 'A listening address' });

/** The `listeners` section: at least one; a bare string is an address with defaults. */
export const listenersSection = z
  .array(z.union([address, listener]))
  .min(1)
  .meta({ description: 'Listening addresses (default: 0.0.0.0:8080)' });

export type ListenerTls = z.output<typeof listenerTls>;
export type Listener = z.output<typeof listener>;
