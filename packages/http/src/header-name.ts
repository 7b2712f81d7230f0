/**
 * Well-known header names, one constant per `http::header` constant Pingora uses, spelled the way
 * Pingora writes them when such a constant is passed to `append_header`/`insert_header`: the
 * title-case spelling for the twelve names of Pingora's title-case list, lowercase for every other.
 * So `req.appendHeader(header.CONTENT_LENGTH, 0)` puts `Content-Length: 0` on the wire, exactly
 * like Pingora's `append_header(http::header::CONTENT_LENGTH, 0)`, while a plain string keeps the
 * caller's spelling.
 *
 * @example
 * ```ts
 * import { header } from '@pingora-ts/http';
 * resp.insertHeader(header.CACHE_CONTROL, 'no-store'); // "Cache-Control: no-store"
 * resp.insertHeader(header.ETAG, '"v1"');              // "etag: \"v1\""
 * ```
 */
/** `accept` */
export const ACCEPT = 'accept';
/** `accept-charset` */
export const ACCEPT_CHARSET = 'accept-charset';
/** `accept-encoding` */
export const ACCEPT_ENCODING = 'accept-encoding';
/** `accept-language` */
export const ACCEPT_LANGUAGE = 'accept-language';
/** `Accept-Ranges` */
export const ACCEPT_RANGES = 'Accept-Ranges';
/** `access-control-allow-credentials` */
export const ACCESS_CONTROL_ALLOW_CREDENTIALS = 'access-control-allow-credentials';
/** `access-control-allow-headers` */
export const ACCESS_CONTROL_ALLOW_HEADERS = 'access-control-allow-headers';
/** `access-control-allow-methods` */
export const ACCESS_CONTROL_ALLOW_METHODS = 'access-control-allow-methods';
/** `access-control-allow-origin` */
export const ACCESS_CONTROL_ALLOW_ORIGIN = 'access-control-allow-origin';
/** `access-control-expose-headers` */
export const ACCESS_CONTROL_EXPOSE_HEADERS = 'access-control-expose-headers';
/** `access-control-max-age` */
export const ACCESS_CONTROL_MAX_AGE = 'access-control-max-age';
/** `access-control-request-headers` */
export const ACCESS_CONTROL_REQUEST_HEADERS = 'access-control-request-headers';
/** `access-control-request-method` */
export const ACCESS_CONTROL_REQUEST_METHOD = 'access-control-request-method';
/** `Age` */
export const AGE = 'Age';
/** `allow` */
export const ALLOW = 'allow';
/** `alt-svc` */
export const ALT_SVC = 'alt-svc';
/** `authorization` */
export const AUTHORIZATION = 'authorization';
/** `Cache-Control` */
export const CACHE_CONTROL = 'Cache-Control';
/** `cache-status` */
export const CACHE_STATUS = 'cache-status';
/** `cdn-cache-control` */
export const CDN_CACHE_CONTROL = 'cdn-cache-control';
/** `Connection` */
export const CONNECTION = 'Connection';
/** `content-disposition` */
export const CONTENT_DISPOSITION = 'content-disposition';
/** `Content-Encoding` */
export const CONTENT_ENCODING = 'Content-Encoding';
/** `content-language` */
export const CONTENT_LANGUAGE = 'content-language';
/** `Content-Length` */
export const CONTENT_LENGTH = 'Content-Length';
/** `content-location` */
export const CONTENT_LOCATION = 'content-location';
/** `content-range` */
export const CONTENT_RANGE = 'content-range';
/** `content-security-policy` */
export const CONTENT_SECURITY_POLICY = 'content-security-policy';
/** `content-security-policy-report-only` */
export const CONTENT_SECURITY_POLICY_REPORT_ONLY = 'content-security-policy-report-only';
/** `Content-Type` */
export const CONTENT_TYPE = 'Content-Type';
/** `cookie` */
export const COOKIE = 'cookie';
/** `dnt` */
export const DNT = 'dnt';
/** `Date` */
export const DATE = 'Date';
/** `etag` */
export const ETAG = 'etag';
/** `expect` */
export const EXPECT = 'expect';
/** `expires` */
export const EXPIRES = 'expires';
/** `forwarded` */
export const FORWARDED = 'forwarded';
/** `from` */
export const FROM = 'from';
/** `Host` */
export const HOST = 'Host';
/** `if-match` */
export const IF_MATCH = 'if-match';
/** `if-modified-since` */
export const IF_MODIFIED_SINCE = 'if-modified-since';
/** `if-none-match` */
export const IF_NONE_MATCH = 'if-none-match';
/** `if-range` */
export const IF_RANGE = 'if-range';
/** `if-unmodified-since` */
export const IF_UNMODIFIED_SINCE = 'if-unmodified-since';
/** `last-modified` */
export const LAST_MODIFIED = 'last-modified';
/** `link` */
export const LINK = 'link';
/** `location` */
export const LOCATION = 'location';
/** `max-forwards` */
export const MAX_FORWARDS = 'max-forwards';
/** `origin` */
export const ORIGIN = 'origin';
/** `pragma` */
export const PRAGMA = 'pragma';
/** `proxy-authenticate` */
export const PROXY_AUTHENTICATE = 'proxy-authenticate';
/** `proxy-authorization` */
export const PROXY_AUTHORIZATION = 'proxy-authorization';
/** `public-key-pins` */
export const PUBLIC_KEY_PINS = 'public-key-pins';
/** `public-key-pins-report-only` */
export const PUBLIC_KEY_PINS_REPORT_ONLY = 'public-key-pins-report-only';
/** `range` */
export const RANGE = 'range';
/** `referer` */
export const REFERER = 'referer';
/** `referrer-policy` */
export const REFERRER_POLICY = 'referrer-policy';
/** `refresh` */
export const REFRESH = 'refresh';
/** `retry-after` */
export const RETRY_AFTER = 'retry-after';
/** `sec-websocket-accept` */
export const SEC_WEBSOCKET_ACCEPT = 'sec-websocket-accept';
/** `sec-websocket-extensions` */
export const SEC_WEBSOCKET_EXTENSIONS = 'sec-websocket-extensions';
/** `sec-websocket-key` */
export const SEC_WEBSOCKET_KEY = 'sec-websocket-key';
/** `sec-websocket-protocol` */
export const SEC_WEBSOCKET_PROTOCOL = 'sec-websocket-protocol';
/** `sec-websocket-version` */
export const SEC_WEBSOCKET_VERSION = 'sec-websocket-version';
/** `Server` */
export const SERVER = 'Server';
/** `Set-Cookie` */
export const SET_COOKIE = 'Set-Cookie';
/** `strict-transport-security` */
export const STRICT_TRANSPORT_SECURITY = 'strict-transport-security';
/** `te` */
export const TE = 'te';
/** `trailer` */
export const TRAILER = 'trailer';
/** `Transfer-Encoding` */
export const TRANSFER_ENCODING = 'Transfer-Encoding';
/** `user-agent` */
export const USER_AGENT = 'user-agent';
/** `upgrade` */
export const UPGRADE = 'upgrade';
/** `upgrade-insecure-requests` */
export const UPGRADE_INSECURE_REQUESTS = 'upgrade-insecure-requests';
/** `vary` */
export const VARY = 'vary';
/** `via` */
export const VIA = 'via';
/** `warning` */
export const WARNING = 'warning';
/** `www-authenticate` */
export const WWW_AUTHENTICATE = 'www-authenticate';
/** `x-content-type-options` */
export const X_CONTENT_TYPE_OPTIONS = 'x-content-type-options';
/** `x-dns-prefetch-control` */
export const X_DNS_PREFETCH_CONTROL = 'x-dns-prefetch-control';
/** `x-frame-options` */
export const X_FRAME_OPTIONS = 'x-frame-options';
/** `x-xss-protection` */
export const X_XSS_PROTECTION = 'x-xss-protection';
