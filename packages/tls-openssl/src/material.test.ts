import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fixture } from '../test/helpers.js';
import { clientSecureContext } from './client-options.js';
import { joinPem, tlsMaterialDigest } from './material.js';

describe('TLS material by content', () => {
  it('equal bytes give equal digests, whatever holds them', () => {
    const ca = fixture('ca.pem');
    expect(tlsMaterialDigest(Buffer.from(ca))).toBe(tlsMaterialDigest(Buffer.from(ca)));
    expect(tlsMaterialDigest(ca.toString())).toBe(tlsMaterialDigest(Buffer.from(ca)));
    expect(tlsMaterialDigest([Buffer.from(ca)])).toBe(tlsMaterialDigest(ca));
    expect(tlsMaterialDigest(ca)).not.toBe(tlsMaterialDigest(fixture('other-ca.pem')));
    expect(tlsMaterialDigest(undefined)).toBe('');
  });

  it('a chain as a list equals the same chain in one PEM; order matters', () => {
    const leaf = fixture('chain-client.pem');
    const mid = fixture('intermediate.pem');
    expect(tlsMaterialDigest([leaf, mid])).toBe(tlsMaterialDigest(Buffer.concat([leaf, mid])));
    expect(tlsMaterialDigest([leaf, mid])).not.toBe(tlsMaterialDigest([mid, leaf]));
  });

  it('CertKeys compare cert, key and passphrase', () => {
    const ck = () => ({ cert: Buffer.from(fixture('client.pem')), key: Buffer.from(fixture('client.key')) });
    expect(tlsMaterialDigest(ck())).toBe(tlsMaterialDigest(ck()));
    expect(tlsMaterialDigest(ck())).not.toBe(tlsMaterialDigest({ ...ck(), passphrase: 'x' }));
    expect(tlsMaterialDigest(ck())).not.toBe(
      tlsMaterialDigest({ cert: fixture('ops-client.pem'), key: fixture('ops-client.key') }),
    );
    // A CertKey is not the same material as its certificate alone.
    const one = ck();
    expect(tlsMaterialDigest(one)).not.toBe(tlsMaterialDigest(one.cert));
  });

  it('joinPem makes one chain, leaf first, newline-separated', () => {
    const leaf = fixture('chain-client.pem').toString().trimEnd(); // no trailing newline
    const mid = fixture('intermediate.pem');
    const joined = joinPem([leaf, mid]) as Buffer;
    const certs = joined.toString().match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!;
    expect(certs).toHaveLength(2);
    expect(new X509Certificate(certs[0]!).subject).toContain('CN=chain-client-1');
    expect(joinPem(mid)).toBe(mid);
  });

  it('shares one secure context between equal material in distinct objects', () => {
    const ck = () => ({ cert: Buffer.from(fixture('client.pem')), key: Buffer.from(fixture('client.key')) });
    const ca = fixture('ca.pem');
    expect(clientSecureContext(Buffer.from(ca), ck())).toBe(clientSecureContext(Buffer.from(ca), ck()));
    expect(clientSecureContext(ca, ck())).not.toBe(clientSecureContext(ca, undefined));
  });
});
