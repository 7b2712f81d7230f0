/**
 * ALPN (Pingora's `ALPN` enum and its server-side selection rules). Node's own server selection
 * sends a fatal `no_application_protocol` alert whenever the client offers nothing the server
 * knows; Pingora only does that for an h2-only listener and otherwise answers without ALPN, so the
 * client falls back to HTTP/1.1 (an HTTP/1.0 client offering `http/1.0` still gets served). The
 * acceptor reproduces Pingora's rule by deciding per connection from the ClientHello.
 */

/**
 * Which application protocols to negotiate (Pingora's `ALPN`): `h1`, `h2`, or `h2h1` (prefer h2).
 * The same type is a listener's policy (`TlsSettings.setAlpn`) and a peer's offer
 * (`PeerOptions.alpn` of @pingora-ts/core).
 */
export type ALPN = 'h1' | 'h2' | 'h2h1';

/** Named constants for {@link ALPN}, as in Pingora: `ALPN.H1`, `ALPN.H2`, `ALPN.H2H1`. */
export const ALPN = { H1: 'h1', H2: 'h2', H2H1: 'h2h1' } as const satisfies Record<string, ALPN>;

/** Protocol ids on the wire for each mode, in preference order (Pingora's `to_wire_preference`). */
export const ALPN_PROTOCOLS: Readonly<Record<ALPN, readonly string[]>> = {
  h1: ['http/1.1'],
  h2: ['h2'],
  h2h1: ['h2', 'http/1.1'],
};

/**
 * The outcome of server-side ALPN selection: a protocol, or Pingora's `AlpnError` — `NOACK`
 * (answer without ALPN) or `ALERT_FATAL` (abort the handshake with `no_application_protocol`).
 */
export type AlpnChoice = { readonly protocol: string } | { readonly error: 'NOACK' | 'ALERT_FATAL' };

const NOACK: AlpnChoice = { error: 'NOACK' };
const ALERT_FATAL: AlpnChoice = { error: 'ALERT_FATAL' };

/**
 * Pingora's server-side ALPN callbacks (`h1_only`, `h2_only`, `prefer_h2`): the first protocol of
 * `mode`'s list that the client offered (server preference, so `h2h1` picks h2 whenever offered).
 * With no match: `ALERT_FATAL` for `h2`, `NOACK` otherwise.
 *
 * @example
 * ```ts
 * selectAlpn('h2h1', ['http/1.1', 'h2']); // { protocol: 'h2' }
 * selectAlpn('h1', ['http/1.0']);         // { error: 'NOACK' }
 * selectAlpn('h2', ['http/1.1']);         // { error: 'ALERT_FATAL' }
 * ```
 */
export function selectAlpn(mode: ALPN, offered: readonly string[]): AlpnChoice {
  for (const p of ALPN_PROTOCOLS[mode]) if (offered.includes(p)) return { protocol: p };
  return mode === 'h2' ? ALERT_FATAL : NOACK;
}
